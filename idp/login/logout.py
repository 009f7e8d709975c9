"""``/logout``: a page with a ``Log out`` button; its POST ends the SSO session.

Partners log members out through the discovery's ``end_session_endpoint``
(``idp.oauth.rp_logout``); this page is the member's own way out.
"""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, session, url_for
from flask_babel import gettext as _

from idp.login import blueprint
from idp.login.views import NEXT_KEY
from idp.services import sso
from idp.web.forms import ConfirmForm


@blueprint.route("/logout", methods=["GET", "POST"])
def logout():
    form = ConfirmForm()
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return make_response(render_template("login/logout.html", form=form), status)
    sso.end_session()
    sso.clear_pending_login()
    session.pop(NEXT_KEY, None)
    flash(_("You have logged out."), "info")
    return redirect(url_for(".login"))
