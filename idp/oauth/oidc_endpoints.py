"""OpenID Connect endpoints partners call with a token or send members to.

``/oauth/userinfo`` (OIDC Core §5.3) answers a bearer token with the claims of
its granted scopes; ``/oauth/logout`` (RP-Initiated Logout 1.0) ends the
member's session at a partner's request, asking the member first unless the
partner proves, with an ID token of this very session, who is logging out.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import HiddenField

from idp.errors import render_page
from idp.extensions import csrf, limiter
from idp.oauth import rp_logout
from idp.oauth.claims import claims_for_scopes, requested_claims
from idp.oauth.resource import current_token, granted_scopes, released, require_bearer
from idp.security_headers import no_store
from idp.services import consent_claims, sso
from idp.services.members import get_member
from idp.services.subjects import subject_for
from idp.web.limits import api_rate_limit

blueprint = Blueprint("oidc", __name__)


# -- UserInfo ----------------------------------------------------------------------


@blueprint.route("/oauth/userinfo", methods=["GET", "POST"])
@limiter.limit(api_rate_limit)
@require_bearer("openid", form_body=True)
def userinfo():
    """OIDC Core §5.3: exactly the claims the member granted.

    Every claim of a granted scope, and the claims the ``claims`` request
    parameter (§5.5) asks for in ``userinfo`` that the member granted by
    themselves (``consent_claims.covered_claims``); the parameter widens nothing
    beyond the consent. The member's claims came with the token
    (``idp.services.token_lookup``); only those released are decrypted. What is
    released is counted for the member to see (``consent_usage.record_read``)
    before it is sent.
    """
    token = current_token()
    member = token.member
    asked = requested_claims(token.claims, "userinfo") or set()
    claims = claims_for_scopes(
        member,
        granted_scopes(token),
        subject_for(member, token.client),
        also=consent_claims.covered_claims(token.consent, asked),
    )
    refused = released(claims)
    if refused is not None:
        return refused
    return no_store(jsonify(claims))


# -- RP-initiated logout -----------------------------------------------------------


class LogoutForm(FlaskForm):
    """The confirmation; it carries the partner's request, which is checked again."""

    id_token_hint = HiddenField()
    client_id = HiddenField()
    post_logout_redirect_uri = HiddenField()
    state = HiddenField()
    ui_locales = HiddenField()


@blueprint.route("/oauth/logout", methods=["GET", "POST"])
@limiter.limit(api_rate_limit)
def end_session():
    values = request.form if request.method == "POST" else request.args
    try:
        logout = rp_logout.parse(values)
    except rp_logout.LogoutRequestError as exc:
        return _error_page(exc.message)
    session = sso.current_session()
    if session is None:
        return _logged_out(logout)
    if request.method == "POST" and "confirm" in request.form:
        if not LogoutForm().validate():
            return _error_page(_("The form has expired. Please go back and try again."))
        return _log_out(logout)
    if rp_logout.hint_matches_session(logout, session):
        return _log_out(logout)
    return _confirm_page(logout, session)


# Partners post here from their own pages (§2: GET and POST), without our CSRF
# token; the member's confirmation is checked by LogoutForm instead.
csrf.exempt(end_session)
csrf.exempt(userinfo)


def _log_out(logout: rp_logout.LogoutRequest):
    sso.end_session(reason="rp_logout")
    return _logged_out(logout)


def _logged_out(logout: rp_logout.LogoutRequest):
    target = rp_logout.redirect_target(logout)
    if target is not None:
        return redirect(target, code=303 if request.method == "POST" else 302)
    return render_template("oidc/logged_out.html", partner=_partner_name(logout))


def _confirm_page(logout: rp_logout.LogoutRequest, session):
    member = get_member(session.member_id)
    form = LogoutForm(formdata=None, data=logout.parameters)
    return render_template(
        "oidc/logout_confirm.html",
        form=form,
        member=member,
        partner=_partner_name(logout),
        other_account=rp_logout.hint_names_another_member(logout, session),
    )


def _partner_name(logout: rp_logout.LogoutRequest) -> str | None:
    client = logout.client
    return client.partner.name if client is not None else None


def _error_page(description: str):
    return render_page(400, _("We cannot log you out from here"), description)
