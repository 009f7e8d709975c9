"""The conformance suite's conditions, in our words: each function checks one response.

Every ``check_*`` asserts what the OpenID Foundation's conformance suite asserts
for the same response (the condition it mirrors is named in its docstring), so a
test module reads as the plan's test: the steps, then these checks.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import time
from collections import Counter
from dataclasses import dataclass

from joserfc import jws
from joserfc.jwk import KeySet

#: RFC 6749 §4.1.2.1 / §5.2: error, error_description characters.
ERROR_CODE = re.compile(r"^[\x20-\x21\x23-\x5b\x5d-\x7e]+$")
#: RFC 6749 Appendix A.12 / A.17: VSCHAR, the characters of access and refresh tokens.
VSCHAR = re.compile(r"^[\x20-\x7e]+$")
#: Errors that say the member must interact (OIDC Core §3.1.2.6).
INTERACTION_ERRORS = {
    "login_required",
    "interaction_required",
    "consent_required",
    "account_selection_required",
}
#: The conformance suite's allowance for clock skew.
SKEW = 5 * 60
BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"


@dataclass
class IdToken:
    header: dict
    claims: dict
    raw: str


# -- the authorization endpoint ------------------------------------------------------


def check_authorization_success(params: dict, *, state: str | None, issuer: str) -> str:
    """CheckMatchingCallbackParameters, ValidateIssIfPresent..., CheckStateInAuthorizationResponse,
    EnsureMinimumAuthorizationCodeLength / Entropy: the code, our state, our ``iss``."""
    assert "error" not in params, params
    assert params.get("iss") == issuer, "RFC 9207: iss in the authorization response"
    assert params.get("state") == state, "RFC 6749 §4.1.2: state returned unchanged"
    code = params["code"]
    assert len(code.encode()) * 8 >= 128, "RFC 6749 §10.10: at least 128 bits"
    assert entropy_bits(code) >= 96, "RFC 6819 §5.1.4.2.2: codes must not be guessable"
    return code


def check_authorization_error(
    params: dict, *, state: str | None, issuer: str, errors: set[str]
) -> str:
    """performGenericAuthorizationEndpointErrorResponseValidation and the expected error."""
    assert "code" not in params, "OIDC Core §3.1.2.6: no code with an error"
    assert params.get("error") in errors, params
    assert params.get("iss") == issuer, "RFC 9207: iss in the error response too"
    if state is None:
        assert "state" not in params
    else:
        assert params.get("state") == state, "RFC 6749 §4.1.2.1: state returned unchanged"
    expected = {"error", "error_description", "error_uri", "state", "iss"}
    assert set(params) <= expected, f"unexpected parameters {set(params) - expected}"
    for name in ("error", "error_description"):
        if name in params:
            assert ERROR_CODE.match(params[name]), f"RFC 6749 §4.1.2.1: {name} characters"
    return params["error"]


def check_error_page(response) -> None:
    """The member sees an error page: no redirect anywhere (RFC 6749 §4.1.2.1)."""
    assert response.status_code == 400, response.status_code
    assert "Location" not in response.headers
    html = response.get_data(as_text=True)
    assert html.count("<h1") == 1 and 'role="alert"' in html


# -- the token endpoint --------------------------------------------------------------


def check_token_response(response, *, expect_id_token: bool = True) -> dict:
    """CheckTokenEndpointHttpStatus200, ...ReturnedJsonContentType, ...CacheHeaders,
    CheckTokenTypeIsBearer, EnsureAccessTokenContainsAllowedCharactersOnly, ValidateExpiresIn."""
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert "no-store" in response.headers.get("Cache-Control", ""), "RFC 6749 §5.1"
    body = response.get_json()
    assert body["token_type"].lower() == "bearer"
    assert VSCHAR.match(body["access_token"])
    assert entropy_bits(body["access_token"]) >= 96
    expires_in = body.get("expires_in")
    assert isinstance(expires_in, int) and not isinstance(expires_in, bool) and expires_in > 0
    if "refresh_token" in body:
        assert VSCHAR.match(body["refresh_token"]), "RFC 6749 Appendix A.17"
        assert entropy_bits(body["refresh_token"]) >= 96
    if expect_id_token:
        assert body.get("id_token"), "OIDC Core §3.1.3.3: an id_token"
    return body


def check_token_error(response, error: str = "invalid_grant") -> None:
    """CheckTokenEndpointHttpStatus400, ...ReturnedJsonContentType,
    CheckErrorFromTokenEndpointResponseErrorInvalidGrant, ValidateErrorDescription..."""
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"] == error, body
    for name in ("error", "error_description"):
        if name in body:
            assert ERROR_CODE.match(body[name]), f"RFC 6749 §5.2: {name} characters"


# -- ID tokens -----------------------------------------------------------------------


def verify_id_token(
    raw: str,
    keys: KeySet,
    *,
    issuer: str,
    client_id: str,
    nonce: str | None = None,
    access_token: str | None = None,
    max_age: int | None = None,
) -> IdToken:
    """PerformStandardIdTokenChecks: signature against the published key of its ``kid``
    (OIDC Core §10.1), then ``iss``, ``aud``, ``exp``, ``iat``, ``auth_time``, ``nonce``,
    ``acr``, ``at_hash`` (§3.1.3.7, §3.1.3.8)."""
    header = jws.extract_compact(raw.encode()).protected
    assert header["alg"] != "none"
    assert header.get("kid"), "OIDC Core §10.1: the key is named"
    key = keys.get_by_kid(header["kid"])
    assert key.get("use") in (None, "sig")
    verified = jws.deserialize_compact(raw, key, algorithms=[header["alg"]])
    claims = json.loads(verified.payload)
    now = time.time()
    assert claims["iss"] == issuer
    aud = claims["aud"]
    assert aud == client_id or (isinstance(aud, list) and client_id in aud)
    if isinstance(aud, list) and len(aud) > 1:
        assert claims.get("azp") == client_id, "OIDC Core §2: azp with several audiences"
    assert isinstance(claims.get("sub"), str) and 0 < len(claims["sub"]) <= 255
    assert claims["exp"] > now - SKEW, "not expired"
    assert claims["exp"] < now + 50 * 365 * 86400, "exp in seconds, not milliseconds"
    assert claims["iat"] <= now + SKEW, "not issued in the future"
    if "auth_time" in claims:
        assert now - 365 * 86400 < claims["auth_time"] <= now + SKEW
    if max_age is not None:
        assert "auth_time" in claims, "OIDC Core §3.1.2.1: auth_time with max_age"
    if nonce is not None:
        assert claims.get("nonce") == nonce, "OIDC Core §3.1.3.7: the request's nonce"
    else:
        assert "nonce" not in claims
    if "acr" in claims:
        assert isinstance(claims["acr"], str) and claims["acr"]
    if access_token is not None and "at_hash" in claims:
        assert claims["at_hash"] == half_hash(access_token, header["alg"]), "§3.1.3.8"
    return IdToken(header=header, claims=claims, raw=raw)


def half_hash(value: str, alg: str) -> str:
    """OIDC Core §3.1.3.8: the left half of the hash named by the signature algorithm."""
    digest = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}[alg[-3:]]
    full = digest(value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(full[: len(full) // 2]).rstrip(b"=").decode()


def check_same_authentication(first: IdToken, second: IdToken) -> None:
    """CheckIdTokenAuthTimeClaimsSameIfPresent, CheckIdTokenSubConsistentForSecondAuthorization."""
    assert second.claims["sub"] == first.claims["sub"]
    if "auth_time" in first.claims and "auth_time" in second.claims:
        assert second.claims["auth_time"] == first.claims["auth_time"]


def check_new_authentication(first: IdToken, second: IdToken) -> None:
    """CheckSecondIdTokenAuthTimeIsLaterIfPresent, CheckIdTokenAuthTimeIsRecentIfPresent."""
    assert second.claims["sub"] == first.claims["sub"]
    assert second.claims["auth_time"] > first.claims["auth_time"]
    assert second.claims["auth_time"] >= time.time() - SKEW - 1


# -- UserInfo ------------------------------------------------------------------------

_STRING_CLAIMS = {
    "sub", "name", "given_name", "family_name", "middle_name", "nickname",
    "preferred_username", "profile", "picture", "website", "email", "gender",
    "birthdate", "zoneinfo", "locale", "phone_number",
}  # fmt: skip
_BOOLEAN_CLAIMS = {"email_verified", "phone_number_verified"}
_ADDRESS_MEMBERS = {
    "formatted", "street_address", "locality", "region", "postal_code", "country",
}  # fmt: skip


def check_userinfo(response, *, subject: str) -> dict:
    """EnsureContentTypeJson, ValidateUserInfoStandardClaims, EnsureUserInfoContainsSub,
    VerifyUserInfoAndIdTokenInTokenEndpointSameSub (OIDC Core §5.1, §5.3.2)."""
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    claims = response.get_json()
    assert claims["sub"] == subject, "OIDC Core §5.3.2: the ID token's subject"
    for name, value in claims.items():
        if name in _STRING_CLAIMS:
            assert isinstance(value, str), f"{name} is a string"
        elif name in _BOOLEAN_CLAIMS:
            assert isinstance(value, bool), f"{name} is a boolean"
        elif name == "updated_at":
            assert isinstance(value, int) and not isinstance(value, bool)
        elif name == "address":
            assert isinstance(value, dict) and set(value) <= _ADDRESS_MEMBERS
            assert all(isinstance(v, str) for v in value.values())
    if "birthdate" in claims:
        assert re.match(r"^(\d{4}|\d{4}-\d{2}-\d{2})$", claims["birthdate"])
    return claims


# -- helpers -------------------------------------------------------------------------


def entropy_bits(value: str) -> float:
    """Shannon entropy of the characters times the length, as the suite estimates it."""
    counts = Counter(value)
    per_char = -sum(c / len(value) * math.log2(c / len(value)) for c in counts.values())
    return per_char * len(value)


#: OIDC Core §5.4: the standard claims each scope asks for.
SCOPE_STANDARD_CLAIMS = {
    "openid": {"sub"},
    "profile": {
        "name", "family_name", "given_name", "middle_name", "nickname",
        "preferred_username", "profile", "picture", "website", "gender",
        "birthdate", "zoneinfo", "locale", "updated_at",
    },
    "email": {"email", "email_verified"},
    "address": {"address"},
    "phone": {"phone_number", "phone_number_verified"},
    "offline_access": set(),
}  # fmt: skip


def check_scope_claims(claims: dict, scopes: str, expected: set[str]) -> None:
    """VerifyScopesReturnedInUserInfoClaims: the claims of the scopes asked for are there
    (``expected``: those this member has), and no standard claim of a scope not asked for."""
    asked = scopes.split()
    assert expected <= set(claims), f"missing {expected - set(claims)}"
    for scope, names in SCOPE_STANDARD_CLAIMS.items():
        if scope not in asked:
            assert not names & set(claims), f"claims of {scope}, which was not asked for"


def unsigned_request_object(parameters: dict) -> str:
    """OIDC Core §6.1: the request's parameters as an unsigned JWT (``alg`` ``none``)."""

    def b64(document: dict) -> str:
        raw = json.dumps(document).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{b64({'alg': 'none'})}.{b64(parameters)}."


def check_refreshed_id_token(first: IdToken, refreshed: IdToken) -> None:
    """CompareIdTokenClaims (OIDC Core §12.2): same ``iss``, ``sub``, ``aud``, ``auth_time``
    and ``azp``; a new ``iat``; no ``nonce`` it did not have."""
    for name in ("iss", "sub", "aud", "auth_time", "azp"):
        assert refreshed.claims.get(name) == first.claims.get(name), name
    assert refreshed.claims["iat"] >= first.claims["iat"]
    if "nonce" in refreshed.claims:
        assert refreshed.claims["nonce"] == first.claims.get("nonce")


def verify_logout_token(raw: str, keys: KeySet, *, issuer: str, client_id: str) -> dict:
    """ValidateLogoutTokenSignature, ValidateLogoutTokenClaims, CheckLogoutTokenNoNonce,
    CheckLogoutTokenHasSubOrSid (Back-Channel Logout 1.0 §2.4)."""
    header = jws.extract_compact(raw.encode()).protected
    assert header["alg"] != "none" and header.get("kid")
    assert header.get("typ") == "logout+jwt", "§2.4: explicitly typed"
    verified = jws.deserialize_compact(raw, keys.get_by_kid(header["kid"]), [header["alg"]])
    claims = json.loads(verified.payload)
    now = time.time()
    assert claims["iss"] == issuer
    aud = claims["aud"]
    assert aud == client_id or (isinstance(aud, list) and client_id in aud)
    assert now - 86400 < claims["iat"] <= now + SKEW
    if "exp" in claims:
        assert claims["exp"] > now - SKEW
    assert isinstance(claims.get("jti"), str) and claims["jti"]
    assert claims["events"] == {BACKCHANNEL_LOGOUT_EVENT: {}}, "§2.4: exactly this event"
    assert "nonce" not in claims, "§2.4: a logout token never carries a nonce"
    assert claims.get("sub") or claims.get("sid")
    return claims


#: Claims an ID token may carry whether asked for or not (OIDC Core §2, §3.1.3.6;
#: RFC 7519 §4.1; Front-/Back-Channel Logout ``sid``).
ID_TOKEN_CLAIMS = {
    "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp",
    "at_hash", "c_hash", "nbf", "jti", "sid",
}  # fmt: skip


def check_only_requested_claims(token: IdToken, scopes: str = "openid") -> None:
    """EnsureIdTokenDoesNotContainNonRequestedClaims: nothing beyond the ID token's own
    claims and those of the scopes asked for."""
    allowed = set(ID_TOKEN_CLAIMS)
    for scope in scopes.split():
        allowed |= SCOPE_STANDARD_CLAIMS.get(scope, set())
    extra = set(token.claims) - allowed
    assert not extra, f"claims nobody asked for: {extra}"
