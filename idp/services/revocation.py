"""A client revoking one of its own tokens (RFC 7009 §2.1).

Revoking a refresh token revokes its whole family (every token of the grant);
revoking an access token ends that token and the refresh token issued with
it. Whether the client may revoke the token at all is the endpoint's check.
"""

from __future__ import annotations

from idp.extensions import db
from idp.models import Client, Token
from idp.services import audit, tokens


def revoke_presented(row: Token, kind: str, client: Client) -> int:
    """Revoke the token ``client`` presented as ``kind`` (access or refresh token).

    Returns how many token rows were revoked. Commits.
    """
    if kind == "refresh_token":
        revoked = tokens.revoke_family(row.family_id)
    else:
        revoked = tokens.revoke_row(row)
    audit.record(
        "token.revoked",
        member_id=row.member_id,
        client_id=client.client_id,
        token_type=kind,
        tokens_revoked=revoked,
    )
    db.session.commit()
    return revoked
