"""A partner's own touches on its consent screen, kept inside a fixed, accessible layout.

A partner may set a logo (an https image), a brand colour and a short extra
text per language. The colour fills the partner band of the screen under white
text, so it must reach the WCAG 2.1 AA contrast ratio of 4.5:1 against white
(success criterion 1.4.3). Extra texts are plain text: no markup, no links,
at most ``EXTRA_TEXT_MAX`` characters; they are escaped when shown anyway.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select

from idp.extensions import db
from idp.locales import LOCALES
from idp.models import Client, Partner
from idp.services import audit
from idp.services.errors import InvalidInput

EXTRA_TEXT_MAX = 300
MIN_CONTRAST = 4.5
_COLOUR = re.compile(r"#[0-9a-f]{6}")
#: Characters that make plain text into markup or hide text from the reader.
_MARKUP = re.compile(r"[<>\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e]")


def relative_luminance(colour: str) -> float:
    """WCAG 2.1 relative luminance of ``#rrggbb``."""
    channels = []
    for i in (1, 3, 5):
        c = int(colour[i : i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_with_white(colour: str) -> float:
    return 1.05 / (relative_luminance(colour) + 0.05)


def validate_colour(colour: str | None) -> str | None:
    if colour is None or colour == "":
        return None
    colour = colour.strip().lower()
    if not _COLOUR.fullmatch(colour):
        raise InvalidInput("The brand colour is written #rrggbb.", "brand_colour")
    if contrast_with_white(colour) < MIN_CONTRAST:
        raise InvalidInput(
            "White text on the brand colour must reach a contrast of 4.5:1; choose a darker colour.",
            "brand_colour",
        )
    return colour


def validate_logo(uri: str | None) -> str | None:
    if uri is None or uri == "":
        return None
    parts = urlsplit(uri)
    if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
        raise InvalidInput("The logo must be an https address.", "logo_uri")
    if len(uri) > 2000 or any(ch.isspace() for ch in uri):
        raise InvalidInput("The logo address is not valid.", "logo_uri")
    return uri


def validate_extra_texts(texts: dict | None) -> dict[str, str]:
    if not texts:
        return {}
    if not isinstance(texts, dict):
        raise InvalidInput("Extra texts are given per language.", "extra_texts")
    cleaned = {}
    for language, text in texts.items():
        if language not in LOCALES:
            raise InvalidInput(f"Extra texts are in {', '.join(LOCALES)}.", "extra_texts")
        if not isinstance(text, str):
            raise InvalidInput("An extra text is plain text.", "extra_texts")
        text = " ".join(text.split())
        if not text:
            continue
        if len(text) > EXTRA_TEXT_MAX:
            raise InvalidInput(
                f"An extra text has at most {EXTRA_TEXT_MAX} characters.", "extra_texts"
            )
        if _MARKUP.search(text) or "://" in text or "&#" in text:
            raise InvalidInput(
                "An extra text is plain text, without markup or links.", "extra_texts"
            )
        cleaned[language] = text
    return cleaned


def customise(
    partner: Partner,
    *,
    logo_uri: str | None = None,
    brand_colour: str | None = None,
    extra_texts: dict | None = None,
) -> Partner:
    """Validate and store a partner's customisation (all or nothing). Commits."""
    logo = validate_logo(logo_uri)
    colour = validate_colour(brand_colour)
    texts = validate_extra_texts(extra_texts)
    partner.logo_uri = logo
    partner.brand_colour = colour
    partner.extra_texts = texts
    audit.record(
        "partner.customised",
        partner_id=partner.id,
        logo=bool(logo),
        brand_colour=colour,
        languages=sorted(texts),
    )
    db.session.commit()
    return partner


def extra_text(partner: Partner, language: str) -> str | None:
    """The partner's extra text in ``language``, else in English, else none."""
    texts = partner.extra_texts or {}
    return texts.get(language) or texts.get("en")


def stylesheet(partner: Partner) -> str:
    """The partner's band colour as CSS (served from this provider: the CSP allows no inline style)."""
    colour = partner.brand_colour
    if not colour or not _COLOUR.fullmatch(colour):
        return ""
    return (
        f".partner-band {{ background: {colour}; color: #fff; }}\n"
        f".partner-band a {{ color: #fff; }}\n"
    )


def logo_for(client: Client) -> str | None:
    """The partner's logo, else the client's registered ``logo_uri`` when it is https."""
    if client.partner.logo_uri:
        return client.partner.logo_uri
    uri = client.logo_uri
    return uri if uri and uri.startswith("https://") else None


def domain_for(client: Client, redirect_uri: str | None = None) -> str | None:
    """Where the member's data goes: the host of the redirect URI of this request, else of
    the client's ``client_uri`` (RFC 7591 §2), else of its first registered redirect URI."""
    candidates = [redirect_uri, client.client_uri, *(client.redirect_uris or [])[:1]]
    for uri in candidates:
        host = urlsplit(uri).hostname if uri else None
        if host:
            return host
    return None


@dataclass(frozen=True)
class Requester:
    """The partner behind an authorization request, as the login page names it."""

    partner_name: str
    client_name: str
    logo_uri: str | None
    domain: str | None


def requester(parameters: dict[str, list[str]] | None) -> Requester | None:
    """The partner asking, from an authorization request's parameters; None when no
    usable client is named (the authorization endpoint checks the rest)."""
    values = (parameters or {}).get("client_id") or []
    client_id = values[0] if values else None
    if not client_id or len(client_id) > 64:
        return None
    client = db.session.scalar(select(Client).where(Client.client_id == client_id))
    if client is None or client.suspended:
        return None
    redirect = ((parameters or {}).get("redirect_uri") or [None])[0]
    if redirect not in (client.redirect_uris or []):
        redirect = None
    return Requester(
        partner_name=client.partner.name,
        client_name=client.client_name,
        logo_uri=logo_for(client),
        domain=domain_for(client, redirect),
    )
