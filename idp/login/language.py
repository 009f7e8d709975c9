"""The footer's language links: ``/language/<code>?next=PAGE&flow=REQUEST``.

The choice is remembered (``idp.services.language``) and the member goes back
to the page they were on, so a pending login or authorization request goes on
in the new language. A link followed from another site changes this page only,
never the member's stored preference.
"""

from __future__ import annotations

from flask import abort, redirect, request

from idp.locales import LOCALES
from idp.login import blueprint
from idp.services import language, sso
from idp.web.guards import DEFAULT_NEXT, safe_next

#: A login page's ``next`` holds an authorization request, and this ``next`` that page.
MAX_PAGE_LENGTH = 3 * 4096


@blueprint.route("/language/<code>")
def switch_language(code: str):
    if code not in LOCALES:
        abort(404)
    page = safe_next(request.args.get("next"), max_length=MAX_PAGE_LENGTH) or DEFAULT_NEXT
    flow = request.args.get("flow", "")[:64] or None
    if request.headers.get("Sec-Fetch-Site") != "cross-site":
        language.choose(code, flow=flow, member=sso.current_member())
    return redirect(page, 303)
