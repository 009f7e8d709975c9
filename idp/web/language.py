"""Which language a page is in, and the footer's links to the others.

The order (INTERFACE.md): ``ui_locales``, then the member's preference, then
Accept-Language, then English. ``ui_locales`` (OIDC Core §3.1.2.1) belongs to
the authorization request that carried it: it holds on every page of that
request (login, second factor, consent), which name the request in
``g.flow_parameters``, and nowhere else, so a later, unrelated page is in the
member's own language again. A language the member picks in the footer wins
over the partner's ``ui_locales`` for the rest of that request
(``idp.services.language``).
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from flask import g, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from idp.locales import LOCALES
from idp.services import language, sso

#: Where the footer's links go: ``/language/<code>?next=<this page>&flow=<request>``.
SWITCH_PATH = "/language/"


def _requested_locales() -> str | None:
    """``ui_locales`` from the query or the form; a body that cannot be read (too large,
    the very error being shown) is left alone."""
    try:
        return request.values.get("ui_locales")
    except HTTPException:
        return request.args.get("ui_locales")


def flow_parameters() -> dict[str, list[str]] | None:
    """The authorization request this page belongs to, when a view named it."""
    return g.get("flow_parameters") if request else None


def _flow_locales() -> str | None:
    parameters = flow_parameters() or {}
    values = parameters.get("ui_locales") or []
    return values[0] if values else None


def _member_locale() -> str | None:
    """The preference of the member logging in (set by the login pages) or logged in."""
    pending = g.get("member_locale")
    if pending:
        return pending
    try:
        member = sso.current_member()
    except RuntimeError:  # no request context: nobody is signed in
        return None
    except SQLAlchemyError:  # an error page after a failed transaction: English will do
        return None
    return member.locale if member is not None else None


def select_locale() -> str:
    """Babel's locale selector: the first answer of the order above."""
    if not request:
        return "en"
    choices = (
        lambda: language.flow_choice(language.flow_key(flow_parameters())),
        lambda: language.supported(_requested_locales()),
        lambda: language.supported(_flow_locales()),
        language.browser_choice,
        lambda: language.supported(_member_locale()),
    )
    for choice in choices:
        found = choice()
        if found:
            return found
    return request.accept_languages.best_match(LOCALES) or "en"


def url_with_locale(code: str) -> str:
    """The footer's link to this page in the language ``code``.

    It goes through ``SWITCH_PATH``, which remembers the choice, then back here:
    the path as requested with its query (a pending ``next`` and the authorization
    request behind it included), built without ``url_for``, since a query
    parameter may be named like a route argument or like one of ``url_for``'s own.
    The page's own ``ui_locales`` is left out, or it would win again.
    """
    if request.endpoint:
        query = [(k, v) for k, v in request.args.items(multi=True) if k != "ui_locales"]
        here = request.script_root + quote(request.path)
        here += "?" + urlencode(query) if query else ""
    else:
        here = "/"
    target = [("next", here)]
    flow = language.flow_key(flow_parameters())
    if flow:
        target.append(("flow", flow))
    return request.script_root + SWITCH_PATH + code + "?" + urlencode(target)
