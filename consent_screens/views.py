"""The consent step between login and the authorization code (SPEC.md §5).

The request waits on the server as a consent step; the form carries only the
member's answer (CSRF-protected), and the answer is accepted once. Each visit
checks the stored request once more (``flow.stored_request``); the answer goes
back into the authorization flow (``flow.resume``), which issues the code.
``consent_url`` is how the authorization endpoint links here.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Response, abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import refresh

from consent_screens import blueprint
from consent_screens.forms import ConsentForm
from idp import defaults
from idp.errors import render_error
from idp.oauth.authorize import flow
from idp.oauth.authorize.interaction import authorize_path
from idp.oauth.authorize.request import AuthorizationRequest
from idp.services import branding, consent_steps
from idp.services import consent as consents
from idp.services.members import get_member
from idp.services.partners import find_partner
from idp.services.second_factor import mask_email
from idp.services.sso import current_session, end_session
from idp.web import consent_screen as screen
from idp.web.forms import ConfirmForm
from idp.web.guards import login_url
from idp.web.texts import CLAIM_TEXTS, SCOPE_TEXTS


@blueprint.route("/consent/<step_id>", methods=["GET", "POST"])
def consent_step(step_id: str):
    sso = current_session()
    if sso is None:
        return redirect("/login?" + urlencode({"next": request.path}))
    step = consent_steps.open_step(step_id, sso.member_id, sso.id)
    if step is None:
        return _step_gone()
    # The page speaks the language of the authorization request it belongs to.
    g.flow_parameters = step.parameters
    refresh()
    grant = flow.stored_request(step)
    if isinstance(grant, Response):
        return grant
    asked = grant.authorization_request
    member = get_member(sso.member_id)

    plan = consents.consent_request(
        sso.member_id,
        asked.client,
        asked.scopes,
        asked.claims,
        key_bound=asked.dpop_jkt is not None,
        fresh=asked.replaces_grant,
    )
    shown = screen.build(plan, asked.redirect_uri)
    form = ConsentForm()
    form.offer(plan.optional, SCOPE_TEXTS, plan.optional_claims, CLAIM_TEXTS)
    if form.validate_on_submit():
        if not consent_steps.claim_step(step):
            return _step_gone()
        answer = flow.ConsentAnswer(
            allow=form.decision.data == "allow",
            allowed_optional=form.scopes.data or [],
            unlimited=bool(form.unlimited.data) and plan.unlimited_offered,
            evidence=shown.evidence(),
            allowed_claims=form.claims.data or [],
        )
        return flow.resume(grant, sso, answer)
    status = 400 if form.is_submitted() else 200
    client = asked.client
    partner = client.partner
    return render_template(
        "consent/consent.html",
        form=form,
        plan=plan,
        screen=shown,
        client=client,
        partner=partner,
        logo_uri=branding.logo_for(client),
        member=member,
        member_email=mask_email(member.email),
        switch_form=ConfirmForm(formdata=None),
    ), status


@blueprint.route("/consent/<step_id>/switch-account", methods=["POST"])
def switch_account(step_id: str):
    """ "Not you?": log out and log in again, for the same authorization request."""
    sso = current_session()
    if sso is None:
        return redirect("/login")
    step = consent_steps.open_step(step_id, sso.member_id, sso.id)
    if step is None or not ConfirmForm().validate_on_submit() or not consent_steps.claim_step(step):
        return _step_gone()
    parameters = step.parameters
    end_session(reason="switch_account")
    hints = {}
    if parameters.get("ui_locales"):
        hints["ui_locales"] = parameters["ui_locales"][0]
    request_path = authorize_path(AuthorizationRequest(parameters=parameters))
    return redirect(login_url(request_path, **hints), 303)


@blueprint.route("/consent/partners/<partner_id>.css")
def partner_stylesheet(partner_id: str):
    """The partner's brand colour as a stylesheet (the CSP forbids inline style)."""
    partner = find_partner(partner_id)
    if partner is None or not partner.brand_colour:
        abort(404)
    response = Response(branding.stylesheet(partner), mimetype="text/css")
    response.headers["Cache-Control"] = f"public, max-age={defaults.PUBLIC_DOCUMENT_CACHE_SECONDS}"
    return response


def consent_url(step_id: str, **hints: str) -> str:
    """The consent screen of one step; ``hints`` (``ui_locales``) go in its query."""
    return url_for("consent.consent_step", step_id=step_id, **hints)


def _step_gone():
    return render_error(
        400, _("This request has expired"), _("Go back to the partner's website and start again.")
    )
