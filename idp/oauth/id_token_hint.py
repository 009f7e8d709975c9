"""Verifying an ``id_token_hint``: an ID token this provider issued, expired or not.

Both places that take a hint use this: the authorization request (OIDC Core
§3.1.2.1) and RP-initiated logout (RP-Initiated Logout 1.0 §2). A hint is
ours when its signature verifies against one of our published signing keys
with an algorithm we sign with, its ``iss`` is our issuer, it names a subject
and at least one audience. Expiry is not checked: a hint says who the client
believes is logged in, and partners send expired ones on purpose.

Whatever is sent, the outcome is an ``IdTokenHint`` or an ``InvalidHint``
naming what was wrong; no malformed value gets any further.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from joserfc import jwt
from joserfc.errors import JoseError

from idp.services import signing_keys

#: The algorithms our ID tokens are signed with; ``none`` and HMAC never verify.
ALGORITHMS = ("RS256", "ES256")

#: Everything decoding may raise for a value that is no JWS of ours: joserfc's errors,
#: bad base64 or JSON (ValueError), odd header types (TypeError, LookupError), deep JSON.
_UNREADABLE = (JoseError, ValueError, TypeError, LookupError, RecursionError)


class InvalidHint(Exception):
    """The hint is not an ID token of this provider; ``reason`` says why."""

    #: Not a JWS signed with one of our keys.
    SIGNATURE = "signature"
    #: Signed by us, but for another issuer.
    ISSUER = "issuer"
    #: No ``sub`` string.
    SUBJECT = "subject"
    #: No ``aud`` naming a client.
    AUDIENCE = "audience"

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class IdTokenHint:
    subject: str
    #: ``aud`` as a tuple, one entry for a single string audience.
    audiences: tuple
    azp: str | None = None
    sid: str | None = None

    def issued_to(self, client_id: str) -> bool:
        return client_id in self.audiences

    @property
    def client_id(self) -> str | None:
        """The client the token was issued to (OIDC Core §2: ``azp`` with several audiences)."""
        client_id = self.azp if len(self.audiences) > 1 else self.audiences[0]
        return client_id if isinstance(client_id, str) else None


def verify(hint: str) -> IdTokenHint:
    """The verified hint; raises ``InvalidHint``."""
    try:
        token = jwt.decode(hint, signing_keys.public_key_set(), algorithms=list(ALGORITHMS))
    except _UNREADABLE:
        raise InvalidHint(InvalidHint.SIGNATURE) from None
    claims = token.claims
    if not isinstance(claims, dict):
        raise InvalidHint(InvalidHint.SIGNATURE)
    if claims.get("iss") != current_app.config["IDP"].issuer:
        raise InvalidHint(InvalidHint.ISSUER)
    if not isinstance(claims.get("sub"), str):
        raise InvalidHint(InvalidHint.SUBJECT)
    audience = claims.get("aud")
    if isinstance(audience, str):
        audiences = (audience,)
    elif isinstance(audience, list):
        audiences = tuple(audience)
    else:
        audiences = ()
    if not audiences:
        raise InvalidHint(InvalidHint.AUDIENCE)
    return IdTokenHint(
        subject=claims["sub"],
        audiences=audiences,
        azp=_text(claims.get("azp")),
        sid=_text(claims.get("sid")),
    )


def _text(value) -> str | None:
    return value if isinstance(value, str) else None
