"""Your data (``/account/export``): the member downloads everything held about them.

GDPR Art. 15 and 20 (SPEC.md §7). The page is a GET; ``Download my data`` POSTs
(with its CSRF token) to ``/account/export/download``, which answers one JSON
document as an attachment (``idp.services.data_export``). The document holds
personal data in the clear, so it needs a recent two-factor login, like linking
a profile; anyone else is sent to log in again and comes back to the page.
"""

from __future__ import annotations

import json

from flask import flash, make_response, redirect, render_template
from flask_babel import gettext as _

from idp.account import blueprint
from idp.account.linked_profiles import _recent_two_factor_login
from idp.security_headers import no_store
from idp.services import data_export, sso
from idp.web.forms import ConfirmForm
from idp.web.guards import login_required, login_url

PAGE = "/account/export"


@blueprint.route(PAGE, endpoint="export")
@login_required
def export_page():
    return _page(ConfirmForm())


def _page(form: ConfirmForm, alert: str | None = None, status: int = 200):
    page = render_template(
        "account/export.html",
        form=form,
        alert=alert,
        recent=_recent_two_factor_login(),
    )
    return make_response(page, status)


@blueprint.route(PAGE + "/download", methods=["POST"], endpoint="download_export")
@login_required
def download_export():
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _page(form, _("Your request could not be read. Please try again."), 400)
    if not _recent_two_factor_login():
        flash(_("For your security, please log in again to continue."), "info")
        return redirect(login_url(PAGE, prompt="login"), 303)
    session = sso.current_session()
    member = sso.current_member()
    document = data_export.export(member, sid=session.id)
    body = json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True)
    response = make_response(body)
    response.mimetype = "application/json"
    day = document["exported_at"][:10]
    response.headers["Content-Disposition"] = (
        f'attachment; filename="miles-and-more-data-{day}.json"'
    )
    return no_store(response)
