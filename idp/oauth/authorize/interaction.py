"""What the member has to do before a code is issued, each step returning a response or None.

1. ``require_login``: logged in (OIDC Core §3.1.2.3), recently enough for
   ``max_age``, freshly for ``prompt=login``/``select_account``, and as the
   member ``id_token_hint`` names. ``prompt=none`` turns each of these into
   ``login_required`` instead of a login page.
2. ``require_approved_client``: before Miles & More approves a client, only the
   partner's own developers may use it; anybody else gets ``access_denied``,
   and so does everybody while the client is suspended.
3. ``require_consent``: a standing consent covering the request (its scopes and
   the claims asked for through the ``claims`` parameter), else the
   consent screen (``consent_required`` with ``prompt=none``); once the member
   has answered the screen, their answer; ``access_denied`` while the member
   has paused the partner. A ``grant_id`` (Grant Management ``merge`` or
   ``replace``) must name this member's grant at this client, else
   ``invalid_grant_id``, checked again when the member answers. ``merge``
   adds to the grant as any new request does (only what the member allows on
   the screen); ``create`` and ``replace`` always show the screen, and the
   member's answer becomes the whole grant.

The login and consent pages belong to the application, which gives their URL
builders to ``init_oauth``; the steps send the member there through the server.

A forced login ends the current session and remembers, in the Flask session,
which request asked for it and when; once the member has logged in after
that moment, the same request goes through instead of asking again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from urllib.parse import urlencode

from authlib.oauth2.rfc6749.errors import AccessDeniedError, InvalidRequestError
from authlib.oidc.core.errors import ConsentRequiredError, LoginRequiredError
from flask import Response, redirect, session

from idp.models import Consent, SSOSession
from idp.models.types import utcnow
from idp.oauth.authorize.checks import InvalidGrantIdError
from idp.oauth.authorize.request import AuthorizationRequest
from idp.oauth.server import current_server
from idp.services import consent as consents
from idp.services import (
    consent_claims,
    consent_steps,
    grant_management,
    pushed_requests,
    restriction,
)
from idp.services.consent_evidence import Evidence
from idp.services.members import get_member
from idp.services.registration import is_developer
from idp.services.sso import end_session
from idp.services.subjects import subject_for

AUTHORIZE_PATH = "/oauth/authorize"
#: Flask session key of the forced-login marker.
REAUTH_KEY = "oauth_reauth"
#: The ``error_description`` of an authorization at a partner the member paused.
PAUSED_DESCRIPTION = (
    "The member has paused this partner's access to their Miles & More data "
    "(restriction of processing); they can resume it under Connected apps."
)


def authorize_path(request: AuthorizationRequest) -> str:
    """This request as a relative URL, for the login page's ``next``.

    A pushed request comes back by its reference, which this browser holds
    (``authorize.pushed``): its parameters never travel through the browser.
    """
    if request.request_uri is not None:
        pairs = [("client_id", request.client.client_id), ("request_uri", request.request_uri)]
        return f"{AUTHORIZE_PATH}?{urlencode(pairs)}"
    pairs = [(name, value) for name, values in request.parameters.items() for value in values]
    return f"{AUTHORIZE_PATH}?{urlencode(pairs)}"


def _request_key(request: AuthorizationRequest) -> str:
    canonical = json.dumps(request.parameters, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _to_login(request: AuthorizationRequest) -> Response:
    hints = {}
    if request.login_hint:
        hints["login_hint"] = request.login_hint
    if request.ui_locales:
        hints["ui_locales"] = request.ui_locales
    return redirect(current_server().login_url(authorize_path(request), **hints))


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
    if client.suspended:
        raise AccessDeniedError("This client is suspended.")
    if client.approved or is_developer(client.partner_id, sso.member_id):
        return
    raise AccessDeniedError("This client is not approved yet.")


@dataclass
class ConsentAnswer:
    """What the member chose on the consent screen."""

    allow: bool
    allowed_optional: list[str] = field(default_factory=list)
    unlimited: bool = False
    evidence: Evidence | None = None
    #: The claim items (``consent.claim_items``) left ticked.
    allowed_claims: list[str] = field(default_factory=list)


def require_consent(
    request: AuthorizationRequest, sso: SSOSession, answer: ConsentAnswer | None = None
) -> Consent | Response:
    """The member's answer when given; else the standing consent when it covers the
    request; else the consent screen.

    A member who paused the partner (GDPR Art. 18) gets ``access_denied``: nothing
    is released, not even after a new Allow, until they resume it.
    """
    if restriction.partner_paused(sso.member_id, request.client):
        raise AccessDeniedError(PAUSED_DESCRIPTION)
    _require_named_grant(request, sso)
    if answer is not None:
        return _record(request, sso, answer)
    standing = consents.current_consent(sso.member_id, request.client)
    claims = consent_claims.claim_items(request.client, request.scopes, request.claims)
    if (
        standing is not None
        and not request.replaces_grant
        and not consents.unanswered(standing, request.scopes, claims)
        and "consent" not in request.prompts
    ):
        return standing
    if "none" in request.prompts:
        raise ConsentRequiredError("The member has not consented to this request.")
    # The consent step keeps the pushed parameters: the request_uri has done its work.
    if request.pushed_id is not None and not pushed_requests.complete(request.pushed_id):
        raise InvalidRequestError("The request_uri was used already.")
    step = consent_steps.start_step(sso.member_id, sso.id, request.client, request.parameters)
    hints = {"ui_locales": request.ui_locales} if request.ui_locales else {}
    return redirect(current_server().consent_url(step.id, **hints))


def _require_named_grant(request: AuthorizationRequest, sso: SSOSession) -> None:
    """Grant Management §5.3: a grant_id of another member or client, or none of ours."""
    if request.grant_id is None:
        return
    if grant_management.held_grant(request.grant_id, sso.member_id, request.client) is None:
        raise InvalidGrantIdError(
            description="The grant_id names no grant of this client for this member."
        )


def _record(request: AuthorizationRequest, sso: SSOSession, answer: ConsentAnswer) -> Consent:
    if not answer.allow:
        consents.record_denial(sso.member_id, request.client, request.scopes)
        raise AccessDeniedError()
    return consents.record_decision(
        sso.member_id,
        request.client,
        request.scopes,
        answer.allowed_optional,
        answer.unlimited,
        evidence=answer.evidence,
        claims_request=request.claims,
        allowed_claims=answer.allowed_claims,
        key_bound=request.dpop_jkt is not None,
        replace=request.replaces_grant,
        new_grant=request.grant_management_action == "create",
    )
