"""The language a member chose: for one authorization request, for this browser, or for good.

Three kinds of choice are kept (the order they count in is ``idp.web.language``):

- a choice made on a page of an authorization request (login, second factor,
  consent) holds for the rest of that request, keyed by the request itself, so
  the partner's ``ui_locales`` (OIDC Core §3.1.2.1) cannot take it back on the
  next page;
- a choice made before logging in holds for this browser and becomes the
  member's preference once the member has logged in;
- a choice made while logged in is the member's preference (stored).
"""

from __future__ import annotations

import hashlib
import json

from flask import session

from idp.extensions import db
from idp.locales import LOCALES
from idp.models import Member

#: Flask session keys: the choice for one authorization request, and before logging in.
FLOW_KEY = "flow_locale"
CHOSEN_KEY = "chosen_locale"


def supported(tags: str | None) -> str | None:
    """The first supported language of a space-separated list of BCP 47 tags."""
    for tag in (tags or "").split():
        language = tag.split("-")[0].split("_")[0].lower()
        if language in LOCALES:
            return language
    return None


def flow_key(parameters: dict[str, list[str]] | None) -> str | None:
    """An authorization request's name: a hash of its parameters."""
    if not parameters:
        return None
    canonical = json.dumps(parameters, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def flow_choice(key: str | None) -> str | None:
    """The language chosen on a page of the authorization request ``key``."""
    choice = session.get(FLOW_KEY)
    if not key or not isinstance(choice, dict) or choice.get("flow") != key:
        return None
    return choice.get("language") if choice.get("language") in LOCALES else None


def browser_choice() -> str | None:
    """The language chosen on this browser before logging in."""
    choice = session.get(CHOSEN_KEY)
    return choice if choice in LOCALES else None


def choose(language: str, *, flow: str | None, member: Member | None) -> None:
    """Remember ``language``: for the request ``flow``, and for the member or this browser.

    Commits when ``member`` (logged in) gets it as their preference.
    """
    if language not in LOCALES:
        raise ValueError(f"unsupported language {language!r}")
    if flow:
        session[FLOW_KEY] = {"flow": flow, "language": language}
    if member is None:
        session[CHOSEN_KEY] = language
        return
    session.pop(CHOSEN_KEY, None)
    if member.locale != language:
        member.locale = language
        db.session.commit()


def adopt_browser_choice(member: Member) -> None:
    """At login: a language chosen before becomes the member's preference (commit by caller)."""
    language = browser_choice()
    session.pop(CHOSEN_KEY, None)
    if language is not None:
        member.locale = language
