"""DPoP at the token endpoint (RFC 9449 §5): the proof of a token request, and what it binds.

``check_request`` verifies the proof of a token request before any grant runs
(``AuthorizationServer.create_token_response``) and keeps it on the request;
a bad proof is ``invalid_dpop_proof`` (§5.1), a missing or stale nonce
``use_dpop_nonce`` with a fresh ``DPoP-Nonce`` header (§8). The grants then ask:

- ``check_bound``: a code bound with ``dpop_jkt`` (§10) and a public client's
  refresh token bound to a key (§5) are redeemed only with a proof of that key.
  Checked before the code or refresh token is claimed, so a thief without the
  key spends nothing and revokes nothing;
- ``key_for_tokens``: the thumbprint the new tokens are bound to, or None for
  bearer tokens. A proof is required for a client registered with
  ``dpop_bound_access_tokens`` (§5.2) and for the refresh token of an
  unlimited grant to a public client (``needs_bound_refresh``).

A proof is missing or bad: ``invalid_dpop_proof``. A proof of another key than
the grant is bound to: ``invalid_grant``, as for any grant that is not the
presenter's.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749.errors import InvalidGrantError, OAuth2Error

from idp.oauth import dpop, dpop_nonce
from idp.services import consent as consents
from idp.services.dpop_replay import ReplayCacheUnavailable

REFRESH_GRANT = "refresh_token"


class InvalidDPoPProofError(OAuth2Error):
    """RFC 9449 §5.1."""

    error = "invalid_dpop_proof"
    status_code = 400

    def get_headers(self):
        return [*super().get_headers(), (dpop_nonce.HEADER, dpop_nonce.current_nonce())]


class UseDPoPNonceError(InvalidDPoPProofError):
    """RFC 9449 §8: retry with the nonce in the ``DPoP-Nonce`` header."""

    error = "use_dpop_nonce"


class ReplayCheckUnavailableError(OAuth2Error):
    error = "temporarily_unavailable"
    status_code = 503


def check_request(request) -> dpop.Proof | None:
    """The token request's proof, checked (or None without one); kept as ``request.dpop``."""
    url = request.uri.split("?", 1)[0]
    try:
        proof = dpop.verify_request(request.headers, request.method, url)
    except dpop.NonceError as exc:
        raise UseDPoPNonceError(exc.description) from None
    except dpop.ProofError as exc:
        raise InvalidDPoPProofError(exc.description) from None
    except ReplayCacheUnavailable:
        raise ReplayCheckUnavailableError("The DPoP proof cannot be checked now.") from None
    request.dpop = proof
    return proof


def presented_proof(request) -> dpop.Proof | None:
    return getattr(request, "dpop", None)


def check_bound(request, bound_to: str | None, what: str) -> None:
    """A credential bound to ``bound_to`` is presented with a proof of that key."""
    if bound_to is None:
        return
    proof = presented_proof(request)
    if proof is None:
        raise InvalidDPoPProofError(f"The {what} is bound to a DPoP key: send a DPoP proof.")
    if proof.jkt != bound_to:
        raise InvalidGrantError(f"The {what} is bound to another DPoP key.")


def needs_bound_refresh(client, consent, scope: str) -> bool:
    """An unlimited grant to a public client gets its refresh token only DPoP-bound.

    A refresh token without time limit that works for whoever copies it from
    a browser or an app is what sender-constraining exists for (RFC 9449 §1,
    RFC 9700 §4.14.2); a limited one ends with the consent anyway.
    """
    return bool(
        client.is_public
        and consent is not None
        and consent.unlimited
        and consents.OFFLINE_SCOPE in scope.split()
        and client.check_grant_type(REFRESH_GRANT)
    )


def key_for_tokens(request, client, *, unlimited_public: bool = False) -> str | None:
    """The JWK thumbprint new tokens are bound to, or None for bearer tokens."""
    proof = presented_proof(request)
    if proof is not None:
        return proof.jkt
    if client.dpop_bound_access_tokens:
        raise InvalidDPoPProofError("This client's tokens are DPoP-bound: send a DPoP proof.")
    if unlimited_public:
        raise InvalidDPoPProofError(
            "Access without time limit is given to a public client only with DPoP-bound "
            "tokens: send a DPoP proof."
        )
    return None
