"""Checks of the settings that other parts of the provider repeat: the issuer URL and the
upstream Lufthansa Group ID providers (``IDP_LHG_PROVIDERS``, also set up by the demo).

``idp.config`` runs them at start; the error they raise, ``ConfigError``, is the
one every setting raises.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit


class ConfigError(ValueError):
    """A setting has a value the provider cannot run with."""


LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def validate_issuer(issuer: str) -> str:
    parts = urlsplit(issuer)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError("IDP_ISSUER must be an absolute http(s) URL")
    if parts.query or parts.fragment:
        raise ConfigError("IDP_ISSUER must not have a query or fragment (RFC 8414 §2)")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise ConfigError("IDP_ISSUER may use plain http only for loopback hosts")
    return issuer.rstrip("/")


#: The Lufthansa Group airlines and the names their login buttons carry (INTERFACE.md).
LHG_AIRLINE_NAMES = {
    "lufthansa": "Lufthansa",
    "swiss": "SWISS",
    "austrian": "Austrian Airlines",
    "brussels": "Brussels Airlines",
}
_AIRLINE_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
_PROVIDER_KEYS = {"airline", "issuer", "client_id", "client_secret"}
#: Optional keys: the button's name for an airline not in the list above, and the
#: partner (category ``lhg_airline``) that the airline is on Connected apps.
_PROVIDER_OPTIONAL_KEYS = {"name", "partner_id"}


def _validate_provider(provider) -> dict:
    if not isinstance(provider, dict) or not _PROVIDER_KEYS <= provider.keys():
        raise ConfigError(
            "each IDP_LHG_PROVIDERS entry needs airline, issuer, client_id, client_secret"
        )
    unknown = set(provider) - _PROVIDER_KEYS - _PROVIDER_OPTIONAL_KEYS
    if unknown:
        raise ConfigError(f"IDP_LHG_PROVIDERS: unknown keys {', '.join(sorted(unknown))}")
    if not all(isinstance(v, str) and v.strip() for v in provider.values()):
        raise ConfigError("IDP_LHG_PROVIDERS values must be non-empty strings")
    airline = provider["airline"]
    if not _AIRLINE_SLUG.fullmatch(airline):
        raise ConfigError(
            "IDP_LHG_PROVIDERS: airline must be a slug (letters, digits, - or _), "
            "e.g. lufthansa, swiss, austrian, brussels"
        )
    try:
        validate_issuer(provider["issuer"])
    except ConfigError as exc:
        raise ConfigError(f"IDP_LHG_PROVIDERS: the issuer of {airline}: {exc}") from exc
    # The issuer stays as written: ID tokens and discovery must name it exactly (OIDC Core
    # §3.1.3.7, Discovery §4.3), a trailing slash included.
    name = provider.get("name") or LHG_AIRLINE_NAMES.get(airline.lower(), airline)
    return {**provider, "name": name}


def validate_providers(raw: str) -> tuple[dict, ...]:
    try:
        providers = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError("IDP_LHG_PROVIDERS is not valid JSON") from exc
    if not isinstance(providers, list):
        raise ConfigError("IDP_LHG_PROVIDERS must be a JSON list")
    return check_providers(providers)


def check_providers(providers) -> tuple[dict, ...]:
    checked = tuple(_validate_provider(provider) for provider in providers)
    airlines = [p["airline"] for p in checked]
    if len(set(airlines)) != len(airlines):
        raise ConfigError("IDP_LHG_PROVIDERS names an airline twice")
    return checked
