"""The checks of an authorization request, in the order they run.

Each check looks at one thing and raises an OAuth error when it is wrong. Until
the client and its redirect URI are known, an error is shown to the member on
a page (RFC 6749 §4.1.2.1: never redirect to an unverified URI); after that,
every error goes back to the client's redirect URI with ``state`` and ``iss``.
Nothing here depends on who is logged in: that is ``interaction``'s part.
"""

from __future__ import annotations

import json
import re

from authlib.oauth2.rfc6749.errors import (
    AccessDeniedError,
    InvalidClientError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
    UnauthorizedClientError,
    UnsupportedResponseTypeError,
)
from authlib.oidc.core.errors import (
    RegistrationNotSupportedError,
    RequestNotSupportedError,
    RequestURINotSupportedError,
)
from flask_babel import lazy_gettext as _l

from idp.catalog import SCOPE_CLAIMS
from idp.oauth import id_token_hint
from idp.oauth.authorize.pushed import check_pushed_request, check_pushed_required
from idp.oauth.authorize.request import FRONT, PUSHED, AuthorizationRequest, PageError
from idp.oauth.claims import ACR_TWO_FACTOR
from idp.oauth.id_token_hint import InvalidHint
from idp.request_text import all_text, is_text
from idp.services import grant_management
from idp.services.registration import get_client

PROMPT_VALUES = ("none", "login", "consent", "select_account")
#: RFC 7636 §4.2: 43 to 128 characters of the unreserved set.
CODE_CHALLENGE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
#: RFC 7638 SHA-256 thumbprint, base64url without padding (RFC 9449 §10).
DPOP_JKT = re.compile(r"[A-Za-z0-9_-]{43}")
#: A bound on any single parameter, so nothing unbounded is stored or echoed.
MAX_PARAMETER_LENGTH = 4096
MAX_ID_TOKEN_HINT_LENGTH = 8192

__all__ = ["CHECKS", "PageError", "validate"]


class InvalidGrantIdError(OAuth2Error):
    """Grant Management §5.3: the grant_id names no grant of this client and member."""

    error = "invalid_grant_id"
    status_code = 400


# -- before the redirect URI is known: errors on a page ---------------------------


def check_client(request: AuthorizationRequest) -> None:
    """The client exists (RFC 6749 §4.1.2.1)."""
    values = request.parameters.get("client_id") or []
    if len(values) != 1 or not values[0]:
        raise PageError(
            "Send exactly one 'client_id'.",
            _l("The partner website did not say which application is asking."),
        )
    # A NUL or bytes that were not UTF-8 are no client id and never reach the database.
    usable = len(values[0]) <= 64 and is_text(values[0])
    client = get_client(values[0]) if usable else None
    if client is None:
        raise PageError(
            "The client does not exist on this server.",
            _l("The application asking is not registered with Miles & More."),
            error=InvalidClientError.error,
        )
    request.client = client


def check_redirect_uri(request: AuthorizationRequest) -> None:
    """The redirect URI is one the client registered, compared as an exact string.

    OIDC Core §3.1.2.1 makes ``redirect_uri`` required, so there is no default.
    """
    values = request.parameters.get("redirect_uri") or []
    if len(values) != 1 or not values[0]:
        raise PageError(
            "Send exactly one 'redirect_uri'.",
            _l("The partner website did not say where to return to."),
        )
    if not request.client.check_redirect_uri(values[0]):
        raise PageError(
            "The 'redirect_uri' is not registered for this client.",
            _l("The partner website asked to return to an address it has not registered."),
        )
    request.redirect_uri = values[0]


# -- from here on, errors go back to the client -----------------------------------


def check_text(request: AuthorizationRequest) -> None:
    """Every parameter is UTF-8 text (RFC 6749 Appendix B) without a NUL.

    The parameters are stored with the consent step and echoed to the client, so a
    value that was not text is refused before either happens.
    """
    for name, values in request.parameters.items():
        if not is_text(name) or not all_text(values):
            raise InvalidRequestError(
                f"The parameter '{_ascii(name)}' is not valid UTF-8 text or holds a NUL."
            )


def check_single_values(request: AuthorizationRequest) -> None:
    """RFC 6749 §3.1: no parameter more than once; none of unbounded length."""
    for name, values in request.parameters.items():
        if len(values) > 1:
            raise InvalidRequestError(f"The parameter '{_ascii(name)}' is repeated.")
        limit = MAX_ID_TOKEN_HINT_LENGTH if name == "id_token_hint" else MAX_PARAMETER_LENGTH
        if values and len(values[0]) > limit:
            raise InvalidRequestError(f"The parameter '{_ascii(name)}' is too long.")


def check_request_objects(request: AuthorizationRequest) -> None:
    """OIDC Core §6 request objects and §7.2.1 registration are not supported (§3.1.2.6).

    A ``request_uri`` of a pushed request was resolved by ``check_pushed_request``;
    one cannot be pushed itself (RFC 9126 §2.1).
    """
    if "request" in request.parameters:
        raise RequestNotSupportedError("Request objects are not supported.")
    if "request_uri" in request.parameters and request.channel == PUSHED:
        raise InvalidRequestError("request_uri cannot be pushed.")
    if "request_uri" in request.parameters:
        raise RequestURINotSupportedError("request_uri is not supported.")
    if "registration" in request.parameters:
        raise RegistrationNotSupportedError("The registration parameter is not supported.")


def check_response_type(request: AuthorizationRequest) -> None:
    """Authorization code flow only (OIDC Core §3.1.2.1)."""
    response_type = request.value("response_type")
    if not response_type:
        raise InvalidRequestError("Missing 'response_type'.")
    if response_type != "code":
        raise UnsupportedResponseTypeError(
            _ascii(response_type), description="Only response_type=code is supported."
        )
    if not request.client.check_response_type(response_type):
        raise UnauthorizedClientError("The client may not use response_type=code.")


def check_response_mode(request: AuthorizationRequest) -> None:
    """Responses go in the query string of the redirect URI, nowhere else."""
    mode = request.value("response_mode")
    if mode is not None and mode != "query":
        raise InvalidRequestError("Only response_mode=query is supported.")


def check_scope(request: AuthorizationRequest) -> None:
    """A scope is required, includes openid, and stays within the client's registration."""
    scope = request.value("scope")
    scopes = list(dict.fromkeys((scope or "").split()))
    if not scopes:
        raise InvalidScopeError("Missing 'scope'.")
    if "openid" not in scopes:
        raise InvalidScopeError("The scope must include 'openid'.")
    unknown = [s for s in scopes if s not in SCOPE_CLAIMS]
    if unknown:
        raise InvalidScopeError("The scope holds values this server does not know.")
    allowed = set(request.client.scopes)
    if not set(scopes) <= allowed:
        raise InvalidScopeError("The scope exceeds what the client registered.")
    request.scopes = scopes


def check_pkce(request: AuthorizationRequest) -> None:
    """RFC 7636 with S256 only; public clients must use it (RFC 9700 §2.1.1)."""
    challenge = request.value("code_challenge")
    method = request.value("code_challenge_method")
    if challenge is None:
        if method is not None:
            raise InvalidRequestError("code_challenge_method without code_challenge.")
        if request.client.is_public:
            raise InvalidRequestError("Public clients must send a PKCE code_challenge.")
        return
    if method != "S256":
        # RFC 7636 §4.3 defaults a missing method to "plain", which is not accepted.
        raise InvalidRequestError("code_challenge_method must be S256.")
    if not CODE_CHALLENGE.match(challenge):
        raise InvalidRequestError("code_challenge is not a valid S256 challenge.")
    request.code_challenge = challenge
    request.code_challenge_method = method


def check_dpop_jkt(request: AuthorizationRequest) -> None:
    """RFC 9449 §10: ``dpop_jkt``, a SHA-256 JWK thumbprint (base64url, 43 characters)."""
    jkt = request.value("dpop_jkt")
    if jkt is None:
        return
    if not DPOP_JKT.fullmatch(jkt):
        raise InvalidRequestError("dpop_jkt is not a SHA-256 JWK thumbprint.")
    request.dpop_jkt = jkt


def check_prompt(request: AuthorizationRequest) -> None:
    """OIDC Core §3.1.2.1: known values, and ``none`` never with another."""
    prompt = request.value("prompt")
    if prompt is None:
        return
    prompts = set(prompt.split())
    if not prompts or not prompts <= set(PROMPT_VALUES):
        raise InvalidRequestError("Unsupported 'prompt' value.")
    if "none" in prompts and len(prompts) > 1:
        raise InvalidRequestError("prompt=none cannot be combined with other values.")
    request.prompts = prompts


def check_max_age(request: AuthorizationRequest) -> None:
    """OIDC Core §3.1.2.1: seconds since the last active authentication."""
    max_age = request.value("max_age")
    if max_age is None:
        return
    if not max_age.isdigit() or len(max_age) > 10:
        raise InvalidRequestError("max_age must be a non-negative integer.")
    request.max_age = int(max_age)


def check_hints(request: AuthorizationRequest) -> None:
    """login_hint, ui_locales, nonce and acr_values are taken as given (OIDC Core §3.1.2.1)."""
    request.login_hint = request.value("login_hint") or None
    request.ui_locales = request.value("ui_locales") or None
    request.nonce = request.value("nonce") or None
    request.acr_values = (request.value("acr_values") or "").split()


def check_claims(request: AuthorizationRequest) -> None:
    """OIDC Core §5.5: the claims parameter is a JSON object of id_token and userinfo requests."""
    raw = request.value("claims")
    if raw is None:
        return
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise InvalidRequestError("The claims parameter is not valid JSON.") from exc
    if not isinstance(document, dict):
        raise InvalidRequestError("The claims parameter must be a JSON object.")
    claims: dict = {}
    for target in ("id_token", "userinfo"):
        members = document.get(target)
        if members is None:
            continue
        if not isinstance(members, dict):
            raise InvalidRequestError(f"claims.{target} must be a JSON object.")
        claims[target] = {
            name: _claim_request(target, name, spec) for name, spec in members.items()
        }
    request.claims = claims
    sub = claims.get("id_token", {}).get("sub") or claims.get("userinfo", {}).get("sub")
    if sub and isinstance(sub.get("value"), str):
        request.expected_subject = sub["value"]


def _claim_request(target: str, name: str, spec) -> dict | None:
    if spec is None:
        return None
    if not isinstance(spec, dict):
        raise InvalidRequestError(f"claims.{target} members must be null or objects.")
    if "essential" in spec and not isinstance(spec["essential"], bool):
        raise InvalidRequestError("'essential' must be true or false.")
    if "values" in spec and not isinstance(spec["values"], list):
        raise InvalidRequestError("'values' must be an array.")
    return {k: spec[k] for k in ("essential", "value", "values") if k in spec}


def check_acr(request: AuthorizationRequest) -> None:
    """OIDC Core §5.5.1.1: an essential acr we cannot meet fails the request.

    Every member login is two-factor, so ``ACR_TWO_FACTOR`` is what we meet;
    plain ``acr_values`` are voluntary and need no check.
    """
    acr = (request.claims or {}).get("id_token", {}).get("acr")
    if not acr or not acr.get("essential"):
        return
    wanted = acr.get("values") or ([acr["value"]] if "value" in acr else [])
    if wanted and ACR_TWO_FACTOR not in wanted:
        raise AccessDeniedError("The requested authentication context cannot be met.")


#: What the client is told for each way a hint can fail (``id_token_hint.InvalidHint``).
_HINT_ERRORS = {
    InvalidHint.SIGNATURE: "id_token_hint is not an ID token of this server.",
    InvalidHint.ISSUER: "id_token_hint was not issued to this client.",
    InvalidHint.AUDIENCE: "id_token_hint was not issued to this client.",
    InvalidHint.SUBJECT: "id_token_hint has no subject.",
}


def check_id_token_hint(request: AuthorizationRequest) -> None:
    """OIDC Core §3.1.2.1: an ID token we issued to this client, expired or not."""
    hint = request.value("id_token_hint")
    if hint is None:
        return
    try:
        verified = id_token_hint.verify(hint)
    except InvalidHint as exc:
        raise InvalidRequestError(_HINT_ERRORS[exc.reason]) from exc
    if not verified.issued_to(request.client.client_id):
        raise InvalidRequestError("id_token_hint was not issued to this client.")
    if request.expected_subject and request.expected_subject != verified.subject:
        raise InvalidRequestError("id_token_hint and the claims parameter name different subjects.")
    request.expected_subject = verified.subject


def check_grant_management(request: AuthorizationRequest) -> None:
    """Grant Management for OAuth 2.0 §5.2, §5.3: ``grant_management_action`` and ``grant_id``.

    Only confidential clients manage grants (§5.1). ``create`` starts a fresh grant
    and names none; ``merge`` and ``replace`` name the grant they change. A
    ``grant_id`` without an action is refused rather than guessed at. Whether the
    grant is this member's is known only after login (``interaction.require_consent``).
    """
    action = request.value("grant_management_action")
    grant_id = request.value("grant_id")
    if action is None and grant_id is None:
        return
    if request.client.is_public:
        raise InvalidRequestError("Grant management is only for confidential clients.")
    if action is None:
        raise InvalidRequestError("grant_id needs grant_management_action merge or replace.")
    if action not in grant_management.AUTHORIZATION_ACTIONS:
        raise InvalidRequestError("grant_management_action is one of create, merge, replace.")
    if action == "create" and grant_id is not None:
        raise InvalidRequestError("grant_management_action=create starts a new grant: no grant_id.")
    if action != "create" and grant_id is None:
        raise InvalidRequestError(f"grant_management_action={action} needs a grant_id.")
    if grant_id is not None and not grant_management.well_formed(grant_id):
        raise InvalidGrantIdError(description="The grant_id is not one of this server.")
    request.grant_management_action = action
    request.grant_id = grant_id


#: The order matters: client and redirect URI first (errors on a page), then the rest.
CHECKS = (
    check_client,
    check_pushed_request,
    check_redirect_uri,
    check_pushed_required,
    check_text,
    check_single_values,
    check_request_objects,
    check_response_type,
    check_response_mode,
    check_scope,
    check_pkce,
    check_dpop_jkt,
    check_prompt,
    check_max_age,
    check_hints,
    check_claims,
    check_acr,
    check_id_token_hint,
    check_grant_management,
)


def validate(parameters: dict[str, list[str]], channel: str = FRONT) -> AuthorizationRequest:
    """Run every check; an error after the redirect URI is known is bound to it.

    ``channel`` says where the parameters come from (``request.FRONT``, ...).
    """
    request = AuthorizationRequest(parameters=parameters, channel=channel)
    for check in CHECKS:
        try:
            check(request)
        except OAuth2Error as error:
            if request.redirect_uri and not isinstance(error, PageError):
                error.redirect_uri = request.redirect_uri
                error.state = request.state if is_text(request.state) else None
                # The state of a pushed request is not in the query Authlib reads.
                error.asked_state = error.state
            raise
    return request


def _ascii(value: str) -> str:
    """Error descriptions allow only printable ASCII without quotes or backslashes."""
    cleaned = "".join(c for c in value if 0x20 <= ord(c) <= 0x7E and c not in '"\\')
    return cleaned[:64]
