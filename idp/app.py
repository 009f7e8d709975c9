"""The composition root: config → extensions → oauth → blueprints → error handlers."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask
from werkzeug.exceptions import HTTPException

from idp.config import Settings, load_settings
from idp.database import configure_postgresql, configure_sqlite, ping_idle_connections
from idp.extensions import babel, csrf, db, keyring, limiter, migrate
from idp.web.rate_limit_storage import storage_uri

PACKAGE_DIR = Path(__file__).resolve().parent
# An installed package carries the migrations inside it (setup.py); a working copy beside it.
MIGRATIONS_DIR = next(
    (d for d in (PACKAGE_DIR / "migrations", PACKAGE_DIR.parent / "migrations") if d.is_dir()),
    PACKAGE_DIR.parent / "migrations",
)


def create_app(settings: Settings | None = None, **overrides) -> Flask:
    """Build the provider. Tests pass ``overrides`` (any ``Settings`` field)."""
    settings = settings or load_settings(**overrides)
    settings.instance_path.mkdir(parents=True, exist_ok=True)

    app = Flask(
        "idp",
        instance_path=str(settings.instance_path),
        instance_relative_config=False,
    )
    _configure(app, settings)
    _observe(app, settings)
    _accept_only_text(app)
    _bind_extensions(app, settings)
    _register_oauth(app)
    _register_blueprints(app)
    _register_error_handlers(app)
    _register_security_headers(app)
    _register_template_helpers(app)
    _register_cli(app)
    # The demo builds its airline's ID service (another instance) with the same factory.
    app.extensions["idp.create_app"] = create_app
    return app


def _configure(app: Flask, settings: Settings) -> None:
    secure = settings.issuer_is_https
    app.config.update(
        IDP=settings,
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        # No ping on every checkout: idp.database pings a connection that may have died.
        SQLALCHEMY_ENGINE_OPTIONS={},
        SESSION_COOKIE_NAME="mam_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        PERMANENT_SESSION_LIFETIME=settings.session_max_seconds,
        PREFERRED_URL_SCHEME="https" if secure else "http",
        WTF_CSRF_TIME_LIMIT=None,  # bound to the session, which has its own lifetime
        WTF_CSRF_SSL_STRICT=secure,
        RATELIMIT_STORAGE_URI=storage_uri(settings.redis_url),
        RATELIMIT_HEADERS_ENABLED=True,
        RATELIMIT_KEY_PREFIX="mam-idp",
        BABEL_DEFAULT_LOCALE="en",
        BABEL_TRANSLATION_DIRECTORIES=str(PACKAGE_DIR / "translations"),
        MAX_CONTENT_LENGTH=256 * 1024,
    )


def _observe(app: Flask, settings: Settings) -> None:
    """JSON logs, request ids, metrics; the member's address behind trusted proxies."""
    from idp import observability

    observability.init_app(app)
    # A database error's message lists the statement's parameters, and a logged
    # traceback would carry them (hashes, ciphertexts, identifiers) into the log.
    engine_options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**engine_options, "hide_parameters": True}
    if settings.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)


def _accept_only_text(app: Flask) -> None:
    from idp.request_text import accept_only_text

    accept_only_text(app)


def _bind_extensions(app: Flask, settings: Settings) -> None:
    import idp.models  # noqa: F401  (every table on db.metadata, for migrations)

    keyring.configure(settings.data_keys)
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)
        elif db.engine.dialect.driver == "psycopg":
            configure_postgresql(db.engine)
        else:
            ping_idle_connections(db.engine)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR))
    csrf.init_app(app)
    limiter.init_app(app)
    from idp.web.language import select_locale

    babel.init_app(app, locale_selector=select_locale)


def _register_oauth(app: Flask) -> None:
    from consent_screens.views import consent_url
    from idp.oauth.server import init_oauth
    from idp.web.guards import login_url

    init_oauth(app, login_url=login_url, consent_url=consent_url)


def _register_blueprints(app: Flask) -> None:
    from clients import blueprint as developers
    from consent_screens import blueprint as consent
    from idp.account import blueprint as account
    from idp.admin import blueprint as admin
    from idp.api import blueprint as api
    from idp.login import blueprint as login
    from idp.oauth.endpoints import blueprint as oauth
    from idp.oauth.grant_management import blueprint as grants
    from idp.oauth.oidc_endpoints import blueprint as oidc
    from idp.oauth.registration import blueprint as registration
    from idp.ops import blueprint as ops
    from idp.ssf import blueprint as ssf

    blueprints = (login, account, consent, oauth, oidc, grants, api, developers, ops, admin, ssf)
    for bp in (*blueprints, registration):
        app.register_blueprint(bp)


def _register_error_handlers(app: Flask) -> None:
    from idp.errors import register_error_handlers

    register_error_handlers(app)


def _register_security_headers(app: Flask) -> None:
    from idp.cors import init_cors
    from idp.security_headers import retry_after_only_when_limited, security_headers_for

    app.after_request(security_headers_for(app.config["IDP"].issuer_is_https))
    init_cors(app)
    # First in the list, so it runs after flask-limiter's header injection (Flask runs
    # after_request functions last-registered first).
    app.after_request_funcs.setdefault(None, []).insert(0, retry_after_only_when_limited)


def _register_template_helpers(app: Flask) -> None:
    from flask_babel import get_locale

    from idp.web.language import url_with_locale

    def current_locale() -> str:
        return str(get_locale() or "en")

    def has_page(path: str) -> bool:
        """Whether this provider serves ``path`` (for links to pages added over time)."""
        try:
            app.url_map.bind("").match(path, "GET")
        except HTTPException:
            return False
        return True

    app.jinja_env.globals.update(
        current_locale=current_locale, url_with_locale=url_with_locale, has_page=has_page
    )


def _register_cli(app: Flask) -> None:
    from idp.cli.commands import register_commands

    register_commands(app)


logging.getLogger("idp").addHandler(logging.NullHandler())
