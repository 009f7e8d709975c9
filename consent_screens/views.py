"""The consent step between login and the authorization code (SPEC.md §5).

The request waits on the server as a consent step; the form carries only the
member's answer (CSRF-protected), and the answer is accepted once.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import redirect, render_template, request
from flask_babel import gettext as _

from consent_screens import blueprint
from consent_screens.forms import ConsentForm
from consent_screens.texts import CATEGORY_TEXTS, LEGAL_BASIS_TEXTS, PURPOSE_TEXTS, SCOPE_TEXTS
from idp.catalog import PURPOSES
from idp.oauth.authorize import flow
from idp.oauth.authorize.request import AuthorizationRequest
from idp.services import consent as consents
from idp.services.sso import current_session


@blueprint.route("/consent/<step_id>", methods=["GET", "POST"])
def consent_step(step_id: str):
    sso = current_session()
    if sso is None:
        return redirect("/login?" + urlencode({"next": request.path}))
    step = consents.open_step(step_id, sso.member_id, sso.id)
    if step is None:
        return _step_gone()
    asked = flow.stored_request(step)
    if not isinstance(asked, AuthorizationRequest):
        return asked

    plan = consents.consent_request(sso.member_id, asked.client, asked.scopes)
    form = ConsentForm()
    form.offer(plan.optional, SCOPE_TEXTS)
    if form.validate_on_submit():
        if not consents.claim_step(step):
            return _step_gone()
        return flow.answer_consent_step(
            step,
            sso,
            allow=form.decision.data == "allow",
            allowed_optional=form.scopes.data or [],
            unlimited=bool(form.unlimited.data) and plan.offline,
        )
    status = 400 if form.is_submitted() else 200
    client = asked.client
    return render_template(
        "consent/consent.html",
        form=form,
        plan=plan,
        client=client,
        partner=client.partner,
        category=CATEGORY_TEXTS.get(client.partner.category, ""),
        purposes=[
            (PURPOSE_TEXTS[name], LEGAL_BASIS_TEXTS[PURPOSES[name].legal_basis])
            for name in client.purposes
            if name in PURPOSES
        ],
        scope_texts=SCOPE_TEXTS,
    ), status


def _step_gone():
    return render_template(
        "error.html",
        status=400,
        title=_("This request has expired"),
        description=_("Go back to the partner's website and start again."),
    ), 400
