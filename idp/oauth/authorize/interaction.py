"""What the member has to do before a code is issued, each step returning a response or None.

1. ``require_login``: logged in (OIDC Core §3.1.2.3), recently enough for
   ``max_age``, freshly for ``prompt=login``/``select_account``, and as the
   member ``id_token_hint`` names. ``prompt=none`` turns each of these into
   ``login_required`` instead of a login page.
2. ``require_approved_client``: before Miles & More approves a client, only the
   partner's own developers may use it; anybody else gets ``access_denied``.
3. ``require_consent``: a standing consent covering the request, else the
   consent screen (``consent_required`` with ``prompt=none``).

A forced login ends the current session and remembers, in the Flask session,
which request asked for it and when; once the member has logged in after
that moment, the same request goes through instead of asking again.
"""

from __future__ import annotations

import hashlib
import json
from urllib.parse import urlencode

from authlib.oauth2.rfc6749.errors import AccessDeniedError
from authlib.oidc.core.errors import ConsentRequiredError, LoginRequiredError
from flask import Response, redirect, session, url_for

from idp.models import Consent, SSOSession
from idp.models.types import utcnow
from idp.oauth.authorize.request import AuthorizationRequest
from idp.services import consent as consents
from idp.services.members import get_member
from idp.services.registration import is_developer
from idp.services.sso import end_session
from idp.services.subjects import subject_for

AUTHORIZE_PATH = "/oauth/authorize"
LOGIN_PATH = "/login"
#: Flask session key of the forced-login marker.
REAUTH_KEY = "oauth_reauth"


def authorize_path(request: AuthorizationRequest) -> str:
    """This request as a relative URL, for the login page's ``next``."""
    pairs = [(name, value) for name, values in request.parameters.items() for value in values]
    return f"{AUTHORIZE_PATH}?{urlencode(pairs)}"


def _request_key(request: AuthorizationRequest) -> str:
    canonical = json.dumps(request.parameters, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _to_login(request: AuthorizationRequest) -> Response:
    query = {"next": authorize_path(request)}
    if request.login_hint:
        query["login_hint"] = request.login_hint
    if request.ui_locales:
        query["ui_locales"] = request.ui_locales
    return redirect(f"{LOGIN_PATH}?{urlencode(query)}")


def _reauthentication_reasons(request: AuthorizationRequest, sso: SSOSession) -> set[str]:
    reasons = set()
    if request.prompts & {"login", "select_account"}:
        reasons.add("prompt")
    if request.max_age is not None:
        if (utcnow() - sso.auth_time).total_seconds() > request.max_age:
            reasons.add("max_age")
    if request.expected_subject is not None:
        member = get_member(sso.member_id)
        if member is None or subject_for(member, request.client) != request.expected_subject:
            reasons.add("subject")
    return reasons


def _logged_in_again_for(request: AuthorizationRequest, sso: SSOSession) -> bool:
    marker = session.get(REAUTH_KEY)
    if not isinstance(marker, dict) or marker.get("request") != _request_key(request):
        return False
    return sso.auth_time.timestamp() >= float(marker.get("since", 0))


def require_login(request: AuthorizationRequest, sso: SSOSession | None) -> Response | None:
    if sso is None:
        if "none" in request.prompts:
            raise LoginRequiredError("The member is not logged in.")
        return _to_login(request)
    reasons = _reauthentication_reasons(request, sso)
    if not reasons:
        return None
    if _logged_in_again_for(request, sso):
        session.pop(REAUTH_KEY, None)
        if "subject" in reasons:
            # §3.1.2.2: logged in by the request, but not as the member the client named.
            raise LoginRequiredError("The logged-in member is not the one id_token_hint names.")
        return None
    if "none" in request.prompts:
        raise LoginRequiredError("The member must log in again.")
    session[REAUTH_KEY] = {"request": _request_key(request), "since": utcnow().timestamp()}
    end_session(reason="reauthentication")
    return _to_login(request)


def require_approved_client(request: AuthorizationRequest, sso: SSOSession) -> None:
    client = request.client
    if client.approved or is_developer(client.partner_id, sso.member_id):
        return
    raise AccessDeniedError("This client is not approved yet.")


def require_consent(request: AuthorizationRequest, sso: SSOSession) -> Consent | Response:
    """The standing consent when it covers the request; else the consent screen."""
    standing = consents.current_consent(sso.member_id, request.client)
    if (
        standing is not None
        and not consents.scopes_to_ask(standing, request.scopes)
        and "consent" not in request.prompts
    ):
        return standing
    if "none" in request.prompts:
        raise ConsentRequiredError("The member has not consented to this request.")
    step = consents.start_step(sso.member_id, sso.id, request.client, request.parameters)
    arguments = {"step_id": step.id}
    if request.ui_locales:
        arguments["ui_locales"] = request.ui_locales
    return redirect(url_for("consent.consent_step", **arguments))
