"""This provider in the side-by-side run: ``mam-idp serve`` on a database of its own.

``Database`` is the run's database: a PostgreSQL schema made for the run (on
the search path through the URL's options) and dropped after it, or a SQLite
file in the throw-away instance folder. ``OurProvider`` migrates it, seeds it
through the command line as an operator would (a partner, a confidential
service client, the shop's client approved with ``clients approve``, a member
with a known TOTP key), then through the services where the command line has
nothing to offer (the member's standing consent, members for the login run,
token rows by the million), and serves it with ``mam-idp serve``.

The per-address rate limits are raised for the run: every request comes from
127.0.0.1, and the limits are counted as usual, only not reached.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import socket
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
from sqlalchemy import create_engine, insert, text

from bench.side_by_side.browser import Browser, FlowError
from bench.side_by_side.processes import Cleanup, free_port, run_command, wait_until

SCRIPT = Path(sys.executable).with_name("mam-idp")
REDIRECT_URI = "https://shop.bench.example/callback"
SERVICE_REDIRECT_URI = "https://service.bench.example/callback"
SCOPE = "openid profile email"
#: Per-address limits no run of the benchmark reaches (all its requests share one address).
UNLIMITED = "1000000/minute"
PASSWORD = "benchmark password"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def postgres_reachable(url: str) -> bool:
    if not _reachable(url, 5432):
        return False
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return True
    except Exception:
        return False
    finally:
        engine.dispose()


def redis_reachable(url: str) -> bool:
    if not _reachable(url, 6379):
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_timeout=2).ping())
    except redis.RedisError:
        return False


def schema_url(base_url: str, schema: str) -> str:
    """The same database with ``schema`` first on the search path."""
    separator = "&" if "?" in base_url else "?"
    return f"{base_url}{separator}options=-csearch_path%3D{schema}"


class Database:
    """The run's database: a PostgreSQL schema of its own, or a SQLite file."""

    def __init__(self, workdir: Path, postgres_url: str | None, cleanup: Cleanup):
        self.kind = "postgresql" if postgres_url else "sqlite"
        self.schema = None
        if postgres_url is None:
            self.url = f"sqlite:///{workdir / 'bench.sqlite3'}"
            return
        self.schema = f"bench_{uuid.uuid4().hex[:12]}"
        engine = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f"CREATE SCHEMA {self.schema}"))
        cleanup.add(lambda: self._drop(engine))
        self.url = schema_url(postgres_url, self.schema)

    def _drop(self, engine) -> None:
        with engine.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {self.schema} CASCADE"))
        engine.dispose()


@dataclass
class Seeded:
    service_id: str
    service_secret: str
    shop_id: str
    shop_secret: str
    member_id: str
    email: str
    totp_key: str


class OurProvider:
    name = "ours"

    def __init__(self, workdir: Path, database: Database, redis_url: str, workers: int,
                 cleanup: Cleanup):
        from idp.config import new_data_key

        self.workdir = workdir
        self.database = database
        self.redis_url = redis_url
        self.workers = workers
        self.cleanup = cleanup
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("IDP_", "FLASK_"))}
        self.env.update(
            IDP_INSTANCE_PATH=str(workdir / "instance"),
            IDP_DATABASE_URL=database.url,
            IDP_ISSUER=self.url,
            IDP_SECRET_KEY=secrets.token_urlsafe(48),
            IDP_DATA_KEY=new_data_key(),
            IDP_API_RATE_LIMIT=UNLIMITED,
            IDP_LOGIN_RATE_LIMIT=UNLIMITED,
        )
        if redis_url:
            self.env["IDP_REDIS_URL"] = redis_url
        self.running = None
        #: The discovery document, read once it answers.
        self.endpoints: dict = {}
        self.seeded: Seeded | None = None
        self._app = None

    # -- the command line ------------------------------------------------------------

    def cli(self, *args: str) -> dict:
        """``mam-idp ARGS --json`` with the server's settings; the printed object."""
        status, out, err = run_command(
            [str(SCRIPT), *args, "--json"], self.env, self.workdir, timeout=120
        )
        if status != 0:
            raise RuntimeError(f"mam-idp {' '.join(args)} failed ({status}):\n{out}\n{err}")
        return json.loads(out)

    def migrate(self) -> None:
        status, out, err = run_command(
            [str(SCRIPT), "db", "upgrade"], self.env, self.workdir, timeout=300
        )
        if status != 0:
            raise RuntimeError(f"mam-idp db upgrade failed ({status}):\n{out}\n{err}")

    def cli_at_once(self, *commands: tuple[str, ...]) -> list[dict]:
        """Several independent ``cli`` calls side by side (each is mostly start-up time)."""
        with ThreadPoolExecutor(len(commands)) as pool:
            return list(pool.map(lambda args: self.cli(*args), commands))

    def seed(self) -> Seeded:
        key = pyotp.random_base32()
        email = "bench@bench.example"
        partner, member = self.cli_at_once(
            ("partners", "create", "--name", "Bench Shop", "--category", "partner_company"),
            ("members", "create", "--email", email, "--password", PASSWORD,
             "--given-name", "Bench", "--family-name", "Mark", "--totp-secret", key),
        )
        service, shop = self.cli_at_once(
            ("clients", "create", "--partner-id", partner["partner_id"], "--name", "Bench Service",
             "--redirect-uri", SERVICE_REDIRECT_URI, "--scope", "openid", "--approved"),
            ("clients", "create", "--partner-id", partner["partner_id"], "--name", "Bench Shop",
             "--redirect-uri", REDIRECT_URI, "--scope", SCOPE, "--purpose", "registration"),
        )
        self.cli("clients", "approve", shop["client_id"])
        self.seeded = Seeded(service["client_id"], service["client_secret"], shop["client_id"],
                             shop["client_secret"], member["member_id"], email, key)
        self._standing_consent()
        return self.seeded

    # -- the services, in this process, on the same database ---------------------------

    def app(self):
        if self._app is None:
            from idp import create_app
            from idp.config import load_settings

            self._app = create_app(load_settings(environ=self.env))
            # The seeding's audit lines are the server's business, not this report's.
            logging.getLogger("idp").setLevel(logging.WARNING)
            self.cleanup.add(self._dispose)
        return self._app

    def _dispose(self) -> None:
        from idp.extensions import db

        with self._app.app_context():
            db.session.remove()
            db.engine.dispose()

    def _standing_consent(self) -> None:
        from idp.extensions import db
        from idp.models import Client
        from idp.services.consent import record_decision

        with self.app().app_context():
            client = db.session.query(Client).filter_by(client_id=self.seeded.shop_id).one()
            record_decision(self.seeded.member_id, client, SCOPE.split(), set(SCOPE.split()))
            db.session.remove()

    def add_login_members(self, count: int) -> list[tuple[str, str]]:
        """``count`` members with a TOTP key each (one password hash shared): (email, key)."""
        from bench.population import card_number
        from idp.extensions import db
        from idp.models import CardNumber, Credential, Member
        from idp.models.types import new_id, utcnow
        from idp.services.members import card_index, email_index
        from idp.services.passwords import hash_password

        password_hash = hash_password(PASSWORD)
        now = utcnow()
        members, numbers, credentials, logins = [], [], [], []
        for serial in range(count):
            member_id, email, key = new_id(), f"login{serial}@bench.example", pyotp.random_base32()
            number = card_number(500_000 + serial)
            members.append({"id": member_id, "email_index": email_index(email), "email": email,
                            "email_verified": True, "given_name": "Login", "family_name": "Member",
                            "status_tier": "base", "status_miles": 0, "miles_balance": 0})
            numbers.append({"member_id": member_id, "number_index": card_index(number),
                            "number": number, "reason": "enrolment", "issued_at": now})
            credentials.append({"member_id": member_id, "password_hash": password_hash,
                                "totp_secret": key, "totp_enrolled_at": now})
            logins.append((email, key))
        with self.app().app_context():
            db.session.execute(insert(Member), members)
            db.session.execute(insert(CardNumber), numbers)
            db.session.execute(insert(Credential), credentials)
            db.session.commit()
            db.session.remove()
        return logins

    def empty_tokens(self) -> None:
        """Delete every token row: what the other loads left behind."""
        from idp.extensions import db
        from idp.models import Token

        with self.app().app_context():
            db.session.execute(Token.__table__.delete())
            db.session.commit()
            db.session.remove()

    def fill_tokens(self, total: int, batch: int = 20_000) -> int:
        """Top the token table up to ``total`` live access tokens of the service client.

        Rows are inserted in bulk (``COPY`` on PostgreSQL, multi-row INSERTs on
        SQLite), hashes only, as the store keeps them. Returns the number of live tokens now in the table.
        """
        from sqlalchemy import func, select

        from idp.extensions import db
        from idp.models import Client, Token
        from idp.models.types import new_id, utcnow
        from idp.services.tokens import hash_value

        with self.app().app_context():
            client_pk = db.session.scalar(
                select(Client.id).where(Client.client_id == self.seeded.service_id)
            )
            now = utcnow()
            expires = now + timedelta(hours=1)
            live = (Token.revoked_at.is_(None)) & (Token.access_expires_at > now)
            have = db.session.scalar(select(func.count()).select_from(Token).where(live))
            salt = secrets.token_hex(8)
            for start in range(have, total, batch):
                rows = [
                    {"client_id": client_pk, "family_id": new_id(),
                     "access_token_hash": hash_value(f"{salt}-{n}"), "token_type": "Bearer",
                     "scope": "", "amr": [], "issued_at": now, "access_expires_at": expires}
                    for n in range(start, min(total, start + batch))
                ]
                if self.database.kind == "postgresql":
                    _copy(db.session.connection(), Token.__table__.name, rows)
                else:
                    db.session.execute(insert(Token), rows)
                db.session.commit()
            if self.database.kind == "postgresql":
                db.session.execute(text(f"ANALYZE {Token.__table__.name}"))
                db.session.commit()
            count = db.session.scalar(select(func.count()).select_from(Token).where(live))
            db.session.remove()
        return count

    # -- serving -----------------------------------------------------------------------

    def start(self) -> None:
        self.running = self.cleanup.start(
            "mam-idp serve",
            [str(SCRIPT), "serve", "--port", str(self.port), "--workers", str(self.workers)],
            self.workdir / "serve.log", self.env, self.workdir,
        )

        def ready() -> bool:
            return Browser(self.url, timeout=2).get("/healthz").status == 200

        wait_until(ready, self.running, timeout=90)

    def log_in(self, browser: Browser, email: str, key: str, totp_at: float | None = None) -> None:
        """The two-factor login over HTTP: password, then the TOTP code."""
        form = browser.get("/login")
        answer = browser.post("/login", {"login": email, "password": PASSWORD,
                                         "csrf_token": _csrf(form.text)})
        if answer.status != 302 or not answer.location.endswith("/login/verify"):
            raise FlowError(f"password step: {answer.status} {answer.location or answer.text[:200]}")
        form = browser.get("/login/verify")
        code = pyotp.TOTP(key).at(totp_at or time.time())
        answer = browser.post("/login/verify", {"code": code, "csrf_token": _csrf(form.text)})
        if answer.status != 302 or "/login" in urlsplit(answer.location).path:
            raise FlowError(f"code step: {answer.status} {answer.location or answer.text[:200]}")

    def session_for(self, browser: Browser) -> None:
        """Give ``browser`` the seeded member's session (who has a standing consent)."""
        self.log_in(browser, self.seeded.email, self.seeded.totp_key)


def _copy(connection, table: str, rows: list[dict]) -> None:
    """PostgreSQL's ``COPY ... FROM STDIN`` of ``rows`` (JSON values as JSON text)."""
    columns = list(rows[0])
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([json.dumps(v) if isinstance(v, list | dict) else v
                            for v in row.values()])


def _csrf(html: str) -> str:
    found = _CSRF.search(html)
    if not found:
        raise FlowError("the page has no csrf_token input")
    return found.group(1)
