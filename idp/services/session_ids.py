"""The ``sid`` a partner is given for a member's SSO session (OIDC Back-Channel Logout 1.0 §2.1).

A partner's sid is the SSO session id, until the member's consent at that
partner is withdrawn (Revoke access, an administrator, account deletion)
after the session began: the withdrawal sent the partner a logout token for
the sid it held, and a relying party may refuse that sid for good. The next
login at the partner in the same SSO session therefore gets a new sid,
derived from the session id and the withdrawn consent, so a later withdrawal
gives a later one again. Other partners keep theirs.

Derived, not stored: the sids of a session are the session id and one per
consent of the member withdrawn since the session began (``sids_of``), which
back-channel logout and RP-initiated logout use to recognise them.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from idp.extensions import db
from idp.models import Client, Consent, SSOSession


def _derived(session_id: str, consent_id: str) -> str:
    return hashlib.sha256(f"{session_id}:{consent_id}".encode()).hexdigest()[:32]


def partner_sid(session: SSOSession, client: Client) -> str:
    """The sid for ``client`` in ``session``: new after each withdrawal at its partner."""
    withdrawn = db.session.scalar(
        select(Consent.id)
        .join(Client, Client.id == Consent.client_id)
        .where(
            Consent.member_id == session.member_id,
            Client.partner_id == client.partner_id,
            Consent.withdrawn_at >= session.created_at,
        )
        .order_by(Consent.withdrawn_at.desc(), Consent.id.desc())
        .limit(1)
    )
    return session.id if withdrawn is None else _derived(session.id, withdrawn)


def sids_of(member_id: str, session_ids: list[str]) -> list[str]:
    """Every sid partners may hold for these sessions of the member."""
    if not session_ids:
        return []
    sessions = db.session.execute(
        select(SSOSession.id, SSOSession.created_at).where(
            SSOSession.id.in_(session_ids), SSOSession.member_id == member_id
        )
    ).all()
    found = list(session_ids)
    if not sessions:
        return found
    earliest = min(created for _, created in sessions)
    withdrawn = db.session.execute(
        select(Consent.id, Consent.withdrawn_at).where(
            Consent.member_id == member_id, Consent.withdrawn_at >= earliest
        )
    ).all()
    for session_id, created in sessions:
        found += [_derived(session_id, cid) for cid, at in withdrawn if at >= created]
    return found
