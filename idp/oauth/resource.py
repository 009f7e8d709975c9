"""Bearer token protection of resources (RFC 6750) for UserInfo and the partner APIs.

Tokens come from the ``Authorization: Bearer`` header (§2.1) or, where an
endpoint allows it (UserInfo POST), the form body (§2.2); never from the query
string (§2.3), which ends up in logs and browser history: a token there is
refused with ``invalid_request``. Every call checks the token against the store
(one query for the token, its consent, client and member:
``idp.services.token_lookup``), so a revocation or a withdrawn consent takes
effect at once in every process.

Errors follow §3: ``invalid_request`` (400), ``invalid_token`` (401),
``insufficient_scope`` (403, naming the scope), each with a
``WWW-Authenticate: Bearer`` challenge and a JSON body ``{"error",
"error_description"}``. A request with no token at all gets the bare challenge
without an error code (§3.1), unless the endpoint names an error for that case.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from flask import g, request
from flask.typing import ResponseReturnValue

from idp.errors import render_bearer_challenge, render_oauth_error
from idp.extensions import db
from idp.models import Consent, Member, Token
from idp.models.types import utcnow
from idp.services import activity, consent_usage, token_lookup, tokens
from idp.services import consent as consents
from idp.services.token_lookup import ConsentState, TokenState

#: RFC 6750 §2.1 ``b64token``.
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_MAX_TOKEN_LENGTH = 4096


@dataclass
class BearerError(Exception):
    """A request the resource refuses; ``response()`` renders it per RFC 6750 §3."""

    status: int
    error: str | None
    description: str
    scope: str | None = None

    def response(self):
        return render_bearer_challenge(self.status, self.error, self.description, self.scope)


def _invalid_request(description: str) -> BearerError:
    return BearerError(400, "invalid_request", description)


def _from_header() -> str | None:
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None  # another scheme: as if no bearer token was sent (§3.1)
    value = value.strip()
    if not value or " " in value:
        raise _invalid_request("The Authorization header must be 'Bearer <access token>'.")
    if len(value) > _MAX_TOKEN_LENGTH or not _B64TOKEN.fullmatch(value):
        raise BearerError(401, "invalid_token", "The access token is malformed.")
    return value


def _from_form_body() -> str | None:
    """§2.2: only in a single-part form-encoded POST body."""
    if request.method != "POST" or request.mimetype != "application/x-www-form-urlencoded":
        return None
    values = request.form.getlist("access_token")
    if not values:
        return None
    if len(values) > 1 or not values[0]:
        raise _invalid_request("Send exactly one access_token.")
    if len(values[0]) > _MAX_TOKEN_LENGTH or not _B64TOKEN.fullmatch(values[0]):
        raise BearerError(401, "invalid_token", "The access token is malformed.")
    return values[0]


def presented_token(form_body: bool = False) -> str | None:
    """The access token of this request, or None; raises ``BearerError`` on misuse."""
    if "access_token" in request.args:
        raise _invalid_request(
            "Access tokens are not accepted in the URL; use the Authorization header."
        )
    from_header = _from_header()
    from_body = _from_form_body() if form_body else None
    if from_header is not None and from_body is not None:
        raise _invalid_request("Send the access token in one place only.")
    return from_header if from_header is not None else from_body


def granted_scopes(token: Token | TokenState) -> set[str]:
    """The token's scopes that the member's consent still covers."""
    scopes = token.scope.split()
    if token.consent_id is None:
        return set(scopes)
    return set(consents.covered_scopes(token.consent, scopes))


def active_token(value: str) -> TokenState | None:
    """The access token ``value`` with its consent and member, when it is active now."""
    token = token_lookup.bearer_token(value)
    return token if tokens.access_token_active(token) else None


def _note_use(consent: ConsentState | None) -> None:
    """The consent's last use, written after the response when one is due (at most once per
    ``activity.RESOLUTION``); only then is the consent row itself loaded."""
    if consent is None or not activity.due(consent.last_used_at, utcnow()):
        return
    row = db.session.get(Consent, consent.id)
    if row is not None:
        consent_usage.record_use(row)


def authenticate(
    scope: str | None = None,
    *,
    form_body: bool = False,
    member: bool = True,
    no_credentials_error: str | None = None,
) -> TokenState:
    """The active token of this request with ``scope``; raises ``BearerError``."""
    value = presented_token(form_body)
    if value is None:
        raise BearerError(401, no_credentials_error, "This resource needs an access token.")
    token = active_token(value)
    if token is None:
        raise BearerError(401, "invalid_token", "The access token is invalid, expired or revoked.")
    g.access_consent = token.consent
    if member and token.member_id is None:
        raise BearerError(401, "invalid_token", "The access token was not issued for a member.")
    if scope is not None and scope not in granted_scopes(token):
        raise BearerError(
            403, "insufficient_scope", f"The access token does not grant {scope}.", scope
        )
    _note_use(token.consent)
    return token


def require_bearer(
    scope: str | None = None,
    *,
    form_body: bool = False,
    member: bool = True,
    no_credentials_error: str | None = None,
):
    """Protect a view with a bearer token; the view finds it with ``current_token()``.

    ``scope``: the scope the token must grant. ``form_body``: also accept the
    token from a form-encoded POST body (UserInfo). ``member``: refuse tokens
    without a member (client_credentials). ``no_credentials_error``: the error
    code to announce when no token was sent (None: the bare challenge of §3.1).
    """

    def decorator(view):
        @functools.wraps(view)
        def protected(*args, **kwargs) -> ResponseReturnValue:
            try:
                g.access_token = authenticate(
                    scope,
                    form_body=form_body,
                    member=member,
                    no_credentials_error=no_credentials_error,
                )
            except BearerError as exc:
                return exc.response()
            return view(*args, **kwargs)

        return protected

    return decorator


def released(claims) -> ResponseReturnValue | None:
    """Count what this bearer call is about to release (``consent_usage.record_read``).

    None once counted; an error response (503) when the count cannot be written:
    the data is then not sent, so no read goes unrecorded.
    """
    token = current_token()
    try:
        consent_usage.record_read(token.member_id, token.client.partner_id, claims)
    except consent_usage.ReadNotRecorded:
        response = render_oauth_error(
            503, "temporarily_unavailable", "The request cannot be answered now; try again."
        )
        response.headers["Retry-After"] = "1"
        return response
    return None


def current_token() -> TokenState:
    return g.access_token


def current_token_member() -> Member:
    member = db.session.get(Member, current_token().member_id)
    assert member is not None  # tokens are deleted with their member (ON DELETE CASCADE)
    return member
