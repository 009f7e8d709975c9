"""Token protection of resources (RFC 6750, RFC 9449 §7) for UserInfo and the partner APIs.

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

DPoP-bound tokens (RFC 9449 §7) come as ``Authorization: DPoP <token>`` with
a proof of the token's key for this very request, ``ath`` included
(``idp.oauth.dpop``); a bound token sent as a bearer token is refused (§7.2),
and so is a proof of another key. Their refusals carry a ``WWW-Authenticate:
DPoP`` challenge naming the accepted ``algs`` (§7.1); a bearer request refused
with 401 is told of both schemes.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from flask import current_app, g, make_response, request
from flask.typing import ResponseReturnValue

from idp.errors import render_bearer_challenge, render_oauth_error
from idp.extensions import db
from idp.models import Consent, Member, Token
from idp.models.types import utcnow
from idp.oauth import dpop, dpop_nonce
from idp.services import activity, consent_usage, token_lookup, tokens
from idp.services import consent as consents
from idp.services.dpop_replay import ReplayCacheUnavailable
from idp.services.token_lookup import ConsentState, TokenState

BEARER, DPOP = "bearer", "dpop"

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
    #: The scheme the client used: its challenge is the one answered.
    scheme: str = BEARER

    def response(self):
        if self.scheme == DPOP:
            response = render_bearer_challenge(
                self.status, self.error, self.description, self.scope, scheme="DPoP",
                algs=" ".join(dpop.ALGORITHMS),
            )  # fmt: skip
            response.headers[dpop_nonce.HEADER] = dpop_nonce.current_nonce()
            return response
        response = render_bearer_challenge(self.status, self.error, self.description, self.scope)
        if self.status == 401:  # DPoP is accepted too (RFC 9449 §7.1)
            response.headers.add("WWW-Authenticate", f'DPoP algs="{" ".join(dpop.ALGORITHMS)}"')
        return response


def _invalid_request(description: str) -> BearerError:
    return BearerError(400, "invalid_request", description)


def _from_header() -> tuple[str, str] | None:
    """(scheme, token) of the Authorization header, for the Bearer and DPoP schemes."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    scheme = scheme.lower()
    if scheme not in (BEARER, DPOP):
        return None  # another scheme: as if no token was sent (§3.1)
    value = value.strip()
    if not value or " " in value:
        raise BearerError(
            400, "invalid_request", "The Authorization header must be 'Bearer <access token>' "
            "or 'DPoP <access token>'.", scheme=scheme,
        )  # fmt: skip
    if len(value) > _MAX_TOKEN_LENGTH or not _B64TOKEN.fullmatch(value):
        raise BearerError(401, "invalid_token", "The access token is malformed.", scheme=scheme)
    return scheme, value


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


def presented_token(form_body: bool = False) -> tuple[str, str] | None:
    """(scheme, access token) of this request, or None; raises ``BearerError`` on misuse.

    A token in the form body is a bearer token (RFC 6750 §2.2)."""
    if "access_token" in request.args:
        raise _invalid_request(
            "Access tokens are not accepted in the URL; use the Authorization header."
        )
    from_header = _from_header()
    from_body = _from_form_body() if form_body else None
    if from_header is not None and from_body is not None:
        raise _invalid_request("Send the access token in one place only.")
    if from_header is not None:
        return from_header
    return (BEARER, from_body) if from_body is not None else None


def _check_binding(scheme: str, value: str, token: TokenState) -> None:
    """RFC 9449 §7: a bound token only with a proof of its key; a DPoP token is bound."""
    if scheme == BEARER:
        if token.dpop_jkt is not None:
            raise BearerError(
                401, "invalid_token", "The access token is DPoP-bound: send it as "
                "'Authorization: DPoP' with a DPoP proof.", scheme=DPOP,
            )  # fmt: skip
        return
    url = current_app.config["IDP"].issuer + request.path
    try:
        proof = dpop.verify_request(request.headers, request.method, url, access_token=value)
    except dpop.ProofError as exc:
        raise BearerError(401, exc.error, exc.description, scheme=DPOP) from None
    if proof is None:
        raise BearerError(401, "invalid_dpop_proof", "Send a DPoP proof.", scheme=DPOP)
    if token.dpop_jkt is None:
        raise BearerError(401, "invalid_token", "The access token is not DPoP-bound.", scheme=DPOP)
    if proof.jkt != token.dpop_jkt:
        raise BearerError(
            401, "invalid_token", "The DPoP proof is of another key than the token's.", scheme=DPOP
        )


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
    presented = presented_token(form_body)
    if presented is None:
        raise BearerError(401, no_credentials_error, "This resource needs an access token.")
    scheme, value = presented
    token = active_token(value)
    if token is None:
        raise BearerError(
            401, "invalid_token", "The access token is invalid, expired or revoked.", scheme=scheme
        )
    _check_binding(scheme, value, token)
    g.access_consent = token.consent
    if member and token.member_id is None:
        raise BearerError(
            401, "invalid_token", "The access token was not issued for a member.", scheme=scheme
        )
    if scope is not None and scope not in granted_scopes(token):
        raise BearerError(
            403, "insufficient_scope", f"The access token does not grant {scope}.", scope, scheme
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
            except ReplayCacheUnavailable:
                return _unavailable()
            response = make_response(view(*args, **kwargs))
            if request.headers.get(dpop.HEADER) is not None:
                response.headers[dpop_nonce.HEADER] = dpop_nonce.current_nonce()
            return response

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
        return _unavailable()
    return None


def _unavailable():
    response = render_oauth_error(
        503, "temporarily_unavailable", "The request cannot be answered now; try again."
    )
    response.headers["Retry-After"] = "1"
    return response


def current_token() -> TokenState:
    return g.access_token


def current_token_member() -> Member:
    member = db.session.get(Member, current_token().member_id)
    assert member is not None  # tokens are deleted with their member (ON DELETE CASCADE)
    return member
