"""Fixtures: the app from the factory, migrations run once per session, each test in a
transaction that is rolled back.

Every test runs on SQLite; when ``IDP_TEST_DATABASE_URL`` is set it runs on
PostgreSQL too (with Redis for rate limits when ``IDP_TEST_REDIS_URL`` is set).

``make test`` runs the suite in two processes (pytest-xdist). Each has its own
PostgreSQL schemas and its own Redis database (``redis_url``), so that one
process resetting its rate limits never resets another's.
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import sqlite3
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from argon2 import PasswordHasher
from flask import g
from flask_migrate import upgrade
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import scoped_session, sessionmaker

from idp import create_app
from idp.extensions import db, limiter
from idp.services import passwords, signing_keys

#: The browser fixtures, shared by every folder (see the module).
pytest_plugins = ("tests.browser",)

TEST_DATA_KEYS = ("x5lSXtcYGmAibTpQ4D0dbFVl6eO4Zm7bY4U2jW2yZ9A=",)
TEST_SECRET_KEY = "test-secret-key-" + "k" * 40

BACKENDS = ["sqlite"]
if os.environ.get("IDP_TEST_DATABASE_URL"):
    BACKENDS.append("postgresql")


#: The hasher production uses (argon2id, RFC 9106 low-memory profile: 64 MiB, three
#: passes, ~100 ms a hash on an idle core, far more on a loaded one).
PRODUCTION_PASSWORD_HASHER = passwords._hasher
#: argon2id at its smallest cost, for this process's tests: every member a test makes
#: and every login it does would otherwise spend a production hash. The production
#: parameters are tested with ``production_password_hashing``, and every ``mam-idp``
#: subprocess (tests/live) hashes with them.
FAST_PASSWORD_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def use_password_hasher(hasher: PasswordHasher) -> None:
    """Hash and verify passwords (and the dummy hash of unknown logins) with ``hasher``."""
    passwords._hasher = hasher
    passwords._DUMMY_HASH = hasher.hash("not a password of anybody's")


use_password_hasher(FAST_PASSWORD_HASHER)


@pytest.fixture
def production_password_hashing():
    """Passwords hashed with production's parameters for this test."""
    use_password_hasher(PRODUCTION_PASSWORD_HASHER)
    try:
        yield PRODUCTION_PASSWORD_HASHER
    finally:
        use_password_hasher(FAST_PASSWORD_HASHER)


#: How production makes a signing key (a 2048-bit RSA key takes ~0.1 s, far more on a
#: loaded machine); see ``_signing_key_this_database_lacks``.
_generate_signing_key = signing_keys._generate
#: (kid, key) per algorithm, every key generated in this process, oldest first.
_signing_keys_made: dict[str, list] = {}


def _signing_key_this_database_lacks(alg: str):
    """A signing key made earlier in this process that the database does not hold; a new
    one when it holds them all.

    Each test's rows are rolled back, so most tests would generate an RS256 and an
    ES256 key of their own on first use. Within one database every key is still
    new: a rotation gets a key (and a kid) the database has never seen.
    """
    from idp.models import SigningKey

    held = set(db.session.scalars(select(SigningKey.kid).where(SigningKey.alg == alg)))
    made = _signing_keys_made.setdefault(alg, [])
    for kid, key in made:
        if kid not in held:
            return key
    key = _generate_signing_key(alg)
    made.append((key.thumbprint(), key))
    return key


signing_keys._generate = _signing_key_this_database_lacks


def postgres_schema_url(base_url: str, schema: str) -> str:
    """The same database with ``schema`` first on the search path."""
    separator = "&" if "?" in base_url else "?"
    return f"{base_url}{separator}options=-csearch_path%3D{schema}"


def _runs_long(item: pytest.Item) -> bool:
    """A test that starts servers, processes or a browser: seconds to a minute each."""
    name, folder = item.path.name, item.path.parent.name
    return (
        item.get_closest_marker("browser") is not None
        or item.get_closest_marker("slow") is not None
        or folder in ("live", "e2e")
        or "browser" in name
        or "_live" in name
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest tests first, so that none is left for the end of a parallel run.

    pytest-xdist's ``worksteal`` hands each process a contiguous part of this
    order and lets an idle one steal from the end of another's; with a minute-long
    test there, one process would run it alone. The order keeps pytest's grouping
    by backend (each session's app and database are made once per backend):
    the tests of no backend first, then each backend's, each group the long
    tests first. The sort is stable: tests of one kind keep pytest's order, so
    a module's tests stay together unless only some of them are marked long.
    """

    def group(item: pytest.Item) -> int:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("backend") if callspec is not None else None
        return 0 if backend is None else 1 + BACKENDS.index(backend)

    items.sort(key=lambda item: (group(item), not _runs_long(item)))


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def database_url(backend, tmp_path_factory):
    if backend == "sqlite":
        yield migrated_sqlite(tmp_path_factory.mktemp("db") / "idp.sqlite3")
        return
    base = os.environ["IDP_TEST_DATABASE_URL"]
    # A schema of its own, so parallel runs on one server never meet.
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"PostgreSQL at IDP_TEST_DATABASE_URL cannot be reached: {exc}")
    yield postgres_schema_url(base, schema)
    with admin.connect() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(scope="session")
def redis_url(backend):
    url = os.environ.get("IDP_TEST_REDIS_URL", "")
    if backend != "postgresql" or not url:
        return ""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"Redis at IDP_TEST_REDIS_URL cannot be reached: {exc}")
    return redis_for_this_process(url)


#: Redis's default number of databases; the workers' databases wrap around within it.
REDIS_DATABASES = 16


def redis_for_this_process(url: str) -> str:
    """``url`` in a single process; under pytest-xdist, the database after it by the
    worker's number (worker ``gw0`` the next one), so that workers never share limits."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return url
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    number = (base + 1 + int(worker[2:])) % REDIS_DATABASES
    return urlunsplit(parts._replace(path=f"/{number}"))


def make_test_app(database_url: str, instance_path, redis_url: str = "", **overrides):
    settings = dict(
        instance_path=instance_path,
        database_url=database_url,
        redis_url=redis_url,
        secret_key=TEST_SECRET_KEY,
        data_keys=TEST_DATA_KEYS,
        issuer="http://127.0.0.1:5000",
    )
    settings.update(overrides)
    app = create_app(**settings)
    app.config.update(TESTING=True)
    # First of all before_request functions, so every request starts as in production.
    app.before_request_funcs.setdefault(None, []).insert(0, _fresh_g)
    return app


#: A SQLite database migrated once in this process; see ``migrated_sqlite``.
_sqlite_template: Path | None = None


def migrated_sqlite(path: Path) -> str:
    """The URL of a new SQLite database at ``path`` with every migration applied.

    The migrations run once per process, into a template that each new database
    copies: a module's committed database, a browser test's or a live server's
    would otherwise run the whole chain again. ``tests/test_migrations.py`` walks
    the chain itself, and ``tests/test_cli_script.py`` runs ``mam-idp db upgrade``.
    """
    global _sqlite_template
    if _sqlite_template is None:
        folder = Path(tempfile.mkdtemp(prefix="idp-migrated-"))
        atexit.register(shutil.rmtree, folder, True)
        template = folder / "migrated.sqlite3"
        app = make_test_app(f"sqlite:///{template}", folder / "instance")
        with app.app_context():
            upgrade()
            db.engine.dispose()
        _sqlite_template = template
    # The backup API copies a consistent database, whatever its journal holds.
    source, target = sqlite3.connect(_sqlite_template), sqlite3.connect(path)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    return f"sqlite:///{path}"


def _fresh_g():
    """Start each request with an empty ``g``.

    A test holds an application context (see ``_transaction``), and Flask reuses it
    for the test client's requests, so ``g`` would carry cached state (the SSO
    session, the locale) from one request into the next. In production every
    request has an application context of its own.
    """
    for name in list(g):
        g.pop(name)


@pytest.fixture(scope="session")
def app(database_url, redis_url, tmp_path_factory):
    app = make_test_app(database_url, tmp_path_factory.mktemp("instance"), redis_url)
    # Background threads would share the test's one connection: tests deliver explicitly.
    app.config["NOTIFICATIONS_IN_BACKGROUND"] = False
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _transaction(request):
    """Run the test inside a transaction that is rolled back; services commit to savepoints."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = scoped_session(
            sessionmaker(bind=connection, join_transaction_mode="create_savepoint"),
            scopefunc=_app_ctx_id,
        )
        limiter.reset()
    # No application context stays pushed during the test: each request (and each
    # ``app_ctx`` or ``app.app_context()`` block) gets its own, as in production, so
    # ``g`` (the cached SSO session, the locale) never carries over between requests.
    try:
        yield
    finally:
        with app.app_context():
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture(scope="module")
def committed_app(backend, redis_url, tmp_path_factory):
    """An app on a database of its own whose commits are real (nothing rolled back).

    For tests where other threads (background delivery, a live server) must see
    what the test wrote. Each test module gets a fresh database.
    """
    tmp = tmp_path_factory.mktemp("committed")
    schema = None
    if backend == "sqlite":
        url = migrated_sqlite(tmp / "committed.sqlite3")
    else:
        base = os.environ["IDP_TEST_DATABASE_URL"]
        schema = f"committed_{uuid.uuid4().hex[:12]}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        url = postgres_schema_url(base, schema)
    app = make_test_app(url, tmp / "instance", redis_url)
    if schema is not None:
        with app.app_context():
            upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if schema is not None:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def unique():
    """A short random string for unique emails and names."""
    return lambda prefix="x": f"{prefix}{secrets.token_hex(4)}"
