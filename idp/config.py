"""Every setting of the provider: its default, a one-line doc, its environment override.

This is the only module that reads ``os.environ``. ``load_settings`` validates
everything at start so that a misconfigured process refuses to start instead of
failing on the first request.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit

from idp import defaults
from idp.config_checks import ConfigError, check_providers, validate_issuer, validate_providers


@dataclass(frozen=True)
class Settings:
    #: Where generated keys and the embedded SQLite file live.
    instance_path: Path = field(default=Path("instance"))
    #: SQLAlchemy URL; ``postgresql+psycopg://...`` in production.
    database_url: str = ""
    #: Redis for rate limits and shared state; in-process when empty.
    redis_url: str = ""
    #: The issuer identifier; plain http only for loopback hosts.
    issuer: str = "http://127.0.0.1:5000"
    #: Signs the session cookie.
    secret_key: str = ""
    #: Data keys (url-safe base64, 32 bytes each): the first encrypts, all decrypt.
    data_keys: tuple[str, ...] = ()
    #: Per-address limit on login and second-factor attempts.
    login_rate_limit: str = defaults.LOGIN_RATE_LIMIT
    #: Per-address limit on protocol and API endpoints.
    api_rate_limit: str = defaults.API_RATE_LIMIT
    #: Upstream Lufthansa Group ID providers.
    lhg_providers: tuple[dict, ...] = ()
    #: How long a call to an upstream ID service (discovery, keys, token) may take, in seconds.
    upstream_timeout_seconds: float = 5.0
    #: How long a member has at an upstream ID service before its answer is refused, in seconds.
    upstream_request_seconds: int = 600
    #: Outgoing mail: ``smtp://host:port`` (``smtps://`` for TLS); empty keeps mail in the outbox.
    smtp_url: str = ""
    #: Sender address of outgoing mail.
    mail_sender: str = "no-reply@login.miles-and-more.example"
    #: Wrong passwords (or codes) before an account is locked.
    lockout_threshold: int = defaults.LOCKOUT_THRESHOLD
    #: First lockout period in seconds; it doubles with every further lockout.
    lockout_base_seconds: int = defaults.LOCKOUT_BASE_SECONDS
    #: How long a member has between the password and the second factor.
    pending_login_seconds: int = defaults.PENDING_LOGIN_SECONDS
    #: Idle lifetime of the SSO session in seconds.
    session_idle_seconds: int = defaults.SESSION_IDLE_SECONDS
    #: Absolute lifetime of the SSO session in seconds.
    session_max_seconds: int = defaults.SESSION_MAX_SECONDS
    #: Lifetime of an email one-time code in seconds.
    email_code_seconds: int = defaults.EMAIL_CODE_SECONDS
    #: The least time between two email codes for one member, in seconds.
    email_code_resend_seconds: int = defaults.EMAIL_CODE_RESEND_SECONDS
    #: How long the link confirming a new email address works, in seconds.
    email_change_seconds: int = defaults.EMAIL_CHANGE_SECONDS
    #: Lifetime of an emailed password reset link in seconds.
    password_reset_seconds: int = defaults.PASSWORD_RESET_SECONDS
    #: Lifetime of an emailed link to set up two-step verification in seconds.
    enrolment_link_seconds: int = defaults.ENROLMENT_LINK_SECONDS
    #: Per-address limit on password reset requests and enrolment link resends.
    account_link_rate_limit: str = defaults.ACCOUNT_LINK_RATE_LIMIT
    #: How recent a login must be for security settings (recovery codes, ...), in seconds.
    recent_login_seconds: int = defaults.RECENT_LOGIN_SECONDS
    #: Lifetime of a pushed authorization request's ``request_uri`` (RFC 9126 §2.2), in seconds.
    par_lifetime_seconds: int = defaults.PUSHED_REQUEST_SECONDS
    #: Whether every client must push its authorization requests (RFC 9126 §5).
    require_par: bool = False
    #: Reverse proxies in front of the provider whose X-Forwarded-* headers are trusted.
    trusted_proxies: int = 0
    #: How old a DPoP proof may be, in seconds (RFC 9449 §11.1).
    dpop_proof_seconds: int = defaults.DPOP_PROOF_SECONDS
    #: Whether every DPoP proof must carry a nonce this provider issued (RFC 9449 §8, §9).
    dpop_nonce_required: bool = False
    #: Days a deleted account's consent evidence stays blocked (default 10 years: the longest
    #: commercial and tax retention period, privacy policy §9), then ``mam-idp purge`` erases it.
    evidence_retention_days: int = 3650
    #: Days a deleted account's audit events stay blocked (default 10 years, as above).
    audit_retention_days: int = 3650
    #: The controller named on consent receipts (privacy policy §1).
    controller_name: str = "Miles & More GmbH"
    #: The controller's postal address on consent receipts.
    controller_address: str = "Unterschweinstiege 8, 60549 Frankfurt am Main, Germany"
    #: The controller's contact for data protection on consent receipts.
    controller_email: str = "datenschutz@dlh.de"
    #: The programme privacy policy named on consent receipts.
    privacy_policy_url: str = "https://www.miles-and-more.com/privacy"

    @property
    def issuer_is_https(self) -> bool:
        return urlsplit(self.issuer).scheme == "https"


def _env(name: str, environ: dict[str, str]) -> str | None:
    value = environ.get(name)
    return value if value not in (None, "") else None


def _read_or_create_secret(path: Path, make) -> str:
    """Read a generated secret from the instance folder, creating it (mode 0600) once."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as handle:
            value = make()
            handle.write(value + "\n")
        return value
    except OSError as exc:
        raise ConfigError(
            f"IDP_INSTANCE_PATH: cannot keep the generated {path.name} in {path.parent} "
            f"({exc.strerror}); make the folder writable or set the key in the environment"
        ) from exc


def new_data_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def _validate_data_key(key: str) -> str:
    # The decoder skips characters outside the alphabet; a typo must not pass unseen.
    if not re.fullmatch(r"[A-Za-z0-9_-]+={0,2}", key):
        raise ConfigError("IDP_DATA_KEY holds a key that is not url-safe base64")
    try:
        raw = base64.urlsafe_b64decode(key.encode())
    except (binascii.Error, ValueError) as exc:
        raise ConfigError("IDP_DATA_KEY holds a key that is not url-safe base64") from exc
    if len(raw) != 32:
        raise ConfigError("IDP_DATA_KEY keys must be 32 bytes each")
    return key


def _validate_database_url(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        make_url(url).get_dialect()
    except NoSuchModuleError as exc:  # a subclass of ArgumentError: first
        raise ConfigError(
            "IDP_DATABASE_URL names a database this installation does not support"
        ) from exc
    except ArgumentError as exc:
        raise ConfigError("IDP_DATABASE_URL is not a SQLAlchemy database URL") from exc
    return url


def _validate_redis_url(url: str) -> str:
    scheme = urlsplit(url).scheme
    if scheme not in ("redis", "rediss", "unix") and not scheme.startswith("redis+"):
        raise ConfigError("IDP_REDIS_URL must be a redis://, rediss:// or unix:// URL")
    return url


def _validate_limit(name: str, value: str) -> str:
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError as exc:
        raise ConfigError(f"{name} is not a valid rate limit: {value!r}") from exc
    return value


def _validate_trusted_proxies(raw: str) -> int:
    if not re.fullmatch(r"[0-9]{1,2}", raw):
        raise ConfigError("IDP_TRUSTED_PROXIES must be a whole number from 0 (no proxy) to 99")
    return int(raw)


def _validate_email_change_seconds(raw: str) -> int:
    if not re.fullmatch(r"[0-9]{1,7}", raw) or not 300 <= int(raw) <= 7 * 24 * 3600:
        raise ConfigError(
            "IDP_EMAIL_CHANGE_SECONDS must be a whole number of seconds from 300 to 604800"
        )
    return int(raw)


def _validate_par_lifetime(raw: str) -> int:
    if not re.fullmatch(r"[0-9]{1,4}", raw) or not 10 <= int(raw) <= 600:
        raise ConfigError(
            "IDP_PAR_LIFETIME_SECONDS must be a whole number of seconds from 10 to 600"
        )
    return int(raw)


def _validate_flag(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false")


def _validate_days(name: str, raw: str) -> int:
    if not re.fullmatch(r"[0-9]{1,6}", raw) or int(raw) < 1:
        raise ConfigError(f"{name} must be a whole number of days, at least 1")
    return int(raw)


def _validate_dpop_proof_seconds(raw: str) -> int:
    if not re.fullmatch(r"[0-9]{1,3}", raw) or not 5 <= int(raw) <= 600:
        raise ConfigError("IDP_DPOP_PROOF_SECONDS must be a whole number of seconds from 5 to 600")
    return int(raw)


def load_settings(environ: dict[str, str] | None = None, **overrides) -> Settings:
    """Build the settings from the environment, then ``overrides`` (used by tests)."""
    environ = dict(os.environ if environ is None else environ)
    instance = Path(
        overrides.pop("instance_path", None) or _env("IDP_INSTANCE_PATH", environ) or "instance"
    ).resolve()

    values: dict = {"instance_path": instance}
    values["database_url"] = _env("IDP_DATABASE_URL", environ) or (
        f"sqlite:///{instance / 'idp.sqlite3'}"
    )
    values["redis_url"] = _env("IDP_REDIS_URL", environ) or ""
    values["issuer"] = _env("IDP_ISSUER", environ) or Settings.issuer
    values["login_rate_limit"] = _env("IDP_LOGIN_RATE_LIMIT", environ) or Settings.login_rate_limit
    values["api_rate_limit"] = _env("IDP_API_RATE_LIMIT", environ) or Settings.api_rate_limit
    values["smtp_url"] = _env("IDP_SMTP_URL", environ) or ""
    values["mail_sender"] = _env("IDP_MAIL_SENDER", environ) or Settings.mail_sender
    proxies = _env("IDP_TRUSTED_PROXIES", environ)
    values["trusted_proxies"] = _validate_trusted_proxies(proxies.strip()) if proxies else 0
    email_change = _env("IDP_EMAIL_CHANGE_SECONDS", environ)
    if email_change:
        values["email_change_seconds"] = _validate_email_change_seconds(email_change.strip())
    par_lifetime = _env("IDP_PAR_LIFETIME_SECONDS", environ)
    if par_lifetime:
        values["par_lifetime_seconds"] = _validate_par_lifetime(par_lifetime.strip())
    require_par = _env("IDP_REQUIRE_PAR", environ)
    if require_par:
        values["require_par"] = _validate_flag("IDP_REQUIRE_PAR", require_par)
    for variable, name in (
        ("IDP_EVIDENCE_RETENTION_DAYS", "evidence_retention_days"),
        ("IDP_AUDIT_RETENTION_DAYS", "audit_retention_days"),
    ):
        raw_days = _env(variable, environ)
        if raw_days is not None:
            values[name] = _validate_days(variable, raw_days.strip())
    dpop_seconds = _env("IDP_DPOP_PROOF_SECONDS", environ)
    if dpop_seconds:
        values["dpop_proof_seconds"] = _validate_dpop_proof_seconds(dpop_seconds.strip())
    dpop_nonce = _env("IDP_DPOP_REQUIRE_NONCE", environ)
    if dpop_nonce:
        values["dpop_nonce_required"] = _validate_flag("IDP_DPOP_REQUIRE_NONCE", dpop_nonce.strip())
    providers = _env("IDP_LHG_PROVIDERS", environ)
    values["lhg_providers"] = validate_providers(providers) if providers else ()

    secret_key = _env("IDP_SECRET_KEY", environ)
    data_key = _env("IDP_DATA_KEY", environ)
    values.update(overrides)

    if "secret_key" not in overrides:
        values["secret_key"] = secret_key or _read_or_create_secret(
            instance / "secret_key", lambda: secrets.token_urlsafe(48)
        )
    if "data_keys" not in overrides:
        raw = data_key or _read_or_create_secret(instance / "data_key", new_data_key)
        values["data_keys"] = tuple(k.strip() for k in raw.split(",") if k.strip())

    if not values["data_keys"]:
        raise ConfigError("IDP_DATA_KEY holds no key")
    values["data_keys"] = tuple(_validate_data_key(k) for k in values["data_keys"])
    if len(values["secret_key"]) < 32:
        raise ConfigError("IDP_SECRET_KEY must be at least 32 characters")
    values["issuer"] = validate_issuer(values["issuer"])
    values["lhg_providers"] = check_providers(values.get("lhg_providers", ()))
    _validate_database_url(values["database_url"])
    if values["redis_url"]:
        _validate_redis_url(values["redis_url"])
    _validate_limit("IDP_LOGIN_RATE_LIMIT", values["login_rate_limit"])
    _validate_limit("IDP_API_RATE_LIMIT", values["api_rate_limit"])
    _validate_limit(
        "account_link_rate_limit",
        values.get("account_link_rate_limit", Settings.account_link_rate_limit),
    )

    known = {f.name for f in fields(Settings)}
    unknown = set(values) - known
    if unknown:
        raise ConfigError(f"unknown settings: {', '.join(sorted(unknown))}")
    return Settings(**values)


#: The environment variables operators set; the README's table is generated from the same words.
ENVIRONMENT = {
    "IDP_DATABASE_URL": "SQLAlchemy URL (default: SQLite file in the instance folder)",
    "IDP_REDIS_URL": "Redis for rate limits and shared state (default: in-process)",
    "IDP_ISSUER": "the issuer URL (default http://127.0.0.1:5000; http only for loopback)",
    "IDP_SECRET_KEY": "session signing (default: generated into the instance folder)",
    "IDP_DATA_KEY": "comma-separated data keys; the first encrypts, all decrypt",
    "IDP_INSTANCE_PATH": "where generated keys and the SQLite file live (default ./instance)",
    "IDP_LOGIN_RATE_LIMIT": "per-address limit on login and second-factor attempts",
    "IDP_API_RATE_LIMIT": "per-address limit on protocol and API endpoints",
    "IDP_LHG_PROVIDERS": "JSON list of upstream Lufthansa Group ID providers",
    "IDP_SMTP_URL": "smtp://host:port or smtps://host:port for outgoing mail",
    "IDP_MAIL_SENDER": "sender address of outgoing mail",
    "IDP_TRUSTED_PROXIES": "how many reverse proxies in front set X-Forwarded-For (default 0)",
    "IDP_EMAIL_CHANGE_SECONDS": "how long the link confirming a new email address works",
    "IDP_PAR_LIFETIME_SECONDS": "lifetime of a pushed authorization request (default 60)",
    "IDP_REQUIRE_PAR": "whether every client must push its authorization requests (RFC 9126)",
    "IDP_EVIDENCE_RETENTION_DAYS": "days a deleted account's consent evidence stays blocked",
    "IDP_AUDIT_RETENTION_DAYS": "days a deleted account's audit events stay blocked",
    "IDP_DPOP_PROOF_SECONDS": "how old a DPoP proof may be, in seconds (default 60)",
    "IDP_DPOP_REQUIRE_NONCE": "whether DPoP proofs must carry a server nonce (default false)",
}


#: prometheus_client reads its multiprocess directory from this variable, and only there.
PROMETHEUS_DIRECTORY_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def shared_metrics_directory() -> str | None:
    """Where the worker processes of ``mam-idp serve`` keep their metric files, if any."""
    return _env(PROMETHEUS_DIRECTORY_VARIABLE, dict(os.environ))


def share_metrics_directory(path: Path) -> None:
    """Hand the metric files' directory to the worker processes about to be forked."""
    os.environ[PROMETHEUS_DIRECTORY_VARIABLE] = str(path)
