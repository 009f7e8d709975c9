"""Issuing tokens at the token endpoint, the same way for every grant (RFC 6749 §5.1).

The grants in ``idp.oauth`` check the request; once it passes, ``issue`` does
the rest in one transaction:

- the token row (``tokens.prepare``, ``tokens.store``): an access token, and a refresh token when
  ``offline_access`` was granted and the client may use the refresh grant; a
  refresh token ends with the member's consent (never, without time limit);
- the response body of RFC 6749 §5.1;
- an ID token when ``openid`` was granted (OIDC Core §3.1.3.3, §12.2), signed
  by the ``IdTokenSigner`` the grant passes: which claims an ID token carries
  is protocol and stays in ``idp.oauth.id_token``;
- the consent's last use (Connected apps) and the audit event, inserted with
  the token row in one statement where the database allows it;

and commits, so a code or refresh token claimed in the same transaction is
spent exactly when its tokens exist.

A one-time credential presented again revokes what it granted
(``code_replayed``, ``refresh_token_reused``); the grant then refuses the
request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from idp.extensions import db
from idp.models import AuthorizationCode, Client, ClientRecord, Consent, Member, Token
from idp.services import analytics, audit, tokens
from idp.services import consent as consents

REFRESH_GRANT = "refresh_token"


@dataclass(frozen=True)
class Authentication:
    """The login behind a grant, carried into its tokens and ID tokens."""

    auth_time: datetime | None
    amr: list[str]
    acr: str | None
    sid: str | None


NO_LOGIN = Authentication(auth_time=None, amr=[], acr=None, sid=None)


class IdTokenSigner(Protocol):
    def __call__(
        self,
        client: Client,
        member: Member,
        scope: str,
        authentication: Authentication,
        access_token: str,
        nonce: str | None = None,
        claims_request: dict | None = None,
        consent: Consent | None = None,
    ) -> str: ...


@dataclass
class TokenGrant:
    """What one successful token request grants, as the grant's checks found it."""

    client: Client | ClientRecord
    grant_type: str
    scope: str = ""
    member: Member | None = None
    consent: Consent | None = None
    #: The authorization code exchanged (authorization_code grant).
    code: AuthorizationCode | None = None
    #: The grant a refresh continues; None starts a new family.
    family_id: str | None = None
    #: The member's login behind the grant; None for a client acting for itself.
    authentication: Authentication | None = None
    nonce: str | None = None
    #: The OIDC ``claims`` request parameter of the authorization (§5.5).
    claims_request: dict | None = None
    #: RFC 9449 §6: the JWK thumbprint the tokens are bound to; None for bearer tokens.
    dpop_jkt: str | None = None

    @property
    def scopes(self) -> list[str]:
        return self.scope.split()


def issue(grant: TokenGrant, sign_id_token: IdTokenSigner | None = None) -> dict:
    """Issue the tokens of ``grant`` and return the token response body. Commits.

    ``sign_id_token`` is needed when the grant carries ``openid``.
    """
    client, consent = grant.client, grant.consent
    login = grant.authentication or NO_LOGIN
    offline = consents.OFFLINE_SCOPE in grant.scopes
    with_refresh = offline and client.check_grant_type(REFRESH_GRANT)
    issued = tokens.prepare(
        client,
        scope=grant.scope,
        member_id=grant.member.id if grant.member else None,
        consent=consent,
        code=grant.code,
        family_id=grant.family_id,
        with_refresh=with_refresh,
        refresh_expires_at=consent.expires_at if consent else None,
        sid=login.sid,
        auth_time=login.auth_time,
        amr=login.amr,
        acr=login.acr,
        claims=grant.claims_request,
        dpop_jkt=grant.dpop_jkt,
    )
    body = token_response(issued, grant)
    if grant.member is not None and consents.IDENTITY_SCOPE in grant.scopes:
        if sign_id_token is None:
            raise ValueError("an openid grant needs an ID token signer")
        body["id_token"] = sign_id_token(
            client,
            grant.member,
            grant.scope,
            login,
            issued.access_token,
            nonce=grant.nonce,
            claims_request=grant.claims_request,
            consent=consent,
        )
    if consent is not None:
        consents.touch(consent)
    if grant.code is not None and grant.member is not None:
        analytics.count_login(client.partner_id, grant.member.id)  # a login reached the partner
    tokens.store(issued, _audit(grant, issued))
    db.session.commit()
    return body


def token_response(issued: tokens.IssuedTokens, grant: TokenGrant) -> dict:
    """RFC 6749 §5.1. A token for no member (client credentials) names its client scopes,
    when it carries any. Tokens from a member's consent name its ``grant_id`` for a
    confidential client (Grant Management §5.4, §5.1)."""
    body = {
        "access_token": issued.access_token,
        "token_type": issued.values["token_type"],  # DPoP when bound (RFC 9449 §5)
        "expires_in": issued.expires_in,
    }
    if grant.member is not None or grant.scope:
        body["scope"] = grant.scope
    if issued.refresh_token:
        body["refresh_token"] = issued.refresh_token
    if grant.consent is not None and not grant.client.is_public:
        body["grant_id"] = grant.consent.grant_id
    return body


def _audit(grant: TokenGrant, issued: tokens.IssuedTokens) -> dict:
    """The audit event of the issuance, as column values for ``tokens.store``."""
    client_id = grant.client.client_id
    if grant.member is None:
        return audit.entry_values("token.issued", client_id=client_id, grant_type=grant.grant_type)
    if grant.grant_type == REFRESH_GRANT:
        return audit.entry_values(
            "token.refreshed", member_id=grant.member.id, client_id=client_id, scope=grant.scope
        )
    return audit.entry_values(
        "token.issued",
        member_id=grant.member.id,
        client_id=client_id,
        grant_type=grant.grant_type,
        scope=grant.scope,
        refresh=issued.refresh_token is not None,
    )


# -- a one-time credential presented again --------------------------------------------


def code_replayed(code: AuthorizationCode) -> int:
    """RFC 6749 §4.1.2: a code used twice revokes every token issued from it. Commits."""
    revoked = tokens.revoke_from_code(code.id)
    return _replayed("token.code_replayed", code.member_id, code.client, revoked)


def refresh_token_reused(row: Token) -> int:
    """RFC 9700 §4.14.2: a used refresh token presented again revokes its whole grant.
    Commits."""
    revoked = tokens.revoke_family(row.family_id)
    return _replayed("token.refresh_reused", row.member_id, row.client, revoked)


def _replayed(event: str, member_id: str | None, client: Client, revoked: int) -> int:
    audit.record(event, member_id=member_id, client_id=client.client_id, tokens_revoked=revoked)
    db.session.commit()
    return revoked
