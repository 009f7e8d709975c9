"""OpenID Connect Back-Channel Logout 1.0: tell partners that a member's session ended.

Every client that was issued tokens in an ended session (``Token.sid``) and
registered a ``backchannel_logout_uri`` gets a logout token (§2.4): ``iss``,
``aud``, ``iat``, ``exp``, ``jti``, ``sub`` (the client's own subject for the
member), ``sid`` (the one the client was given, ``idp.services.session_ids``)
and the back-channel logout event, never a ``nonce``. The
tokens wait in the partner notification outbox (``idp.services.notifications``),
which signs them with ``typ: logout+jwt`` at each delivery attempt. Clients with
a Shared Signals stream get the CAEP ``session-revoked`` event there too
(``ssf_member_events``).
"""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import select

from idp.extensions import db
from idp.models import Client, Member, PartnerNotification, Token
from idp.services import notifications, session_ids, ssf_member_events
from idp.services.subjects import subject_for

log = logging.getLogger(__name__)

LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"


def logout_claims(client: Client, member: Member | None, sid: str) -> dict:
    """The claims of a logout token, less those set at signing (iat, exp, jti)."""
    claims = {
        "iss": current_app.config["IDP"].issuer,
        "aud": client.client_id,
        "sid": sid,
        "events": {LOGOUT_EVENT: {}},
    }
    if member is not None:
        claims["sub"] = subject_for(member, client)
    return claims


def _clients_per_session(member_id: str, sids: list[str]) -> list[tuple[str, int]]:
    # Filtering on the member first uses its index; a member has few tokens.
    rows = db.session.execute(
        select(Token.sid, Token.client_id)
        .join(Client, Client.id == Token.client_id)
        .where(
            Token.member_id == member_id,
            Token.sid.in_(sids),
            Client.backchannel_logout_uri.is_not(None),
        )
        .distinct()
    )
    return sorted((sid, client_pk) for sid, client_pk in rows)


def queue_logout(
    member_id: str, sids: list[str], reason: str = "logout"
) -> list[PartnerNotification]:
    """Queue logout tokens for these ended sessions in the caller's transaction.

    A fault here must never keep a member logged in, so it is logged and the
    notifications are dropped (within a savepoint) instead of failing the logout;
    the Shared Signals events (``reason`` says why the sessions ended) have a
    savepoint of their own.
    """
    if not sids:
        return []
    queued: list[PartnerNotification] = []
    try:
        with db.session.begin_nested():
            member = db.session.get(Member, member_id)
            published = session_ids.sids_of(member_id, list(sids))
            for sid, client_pk in _clients_per_session(member_id, published):
                client = db.session.get(Client, client_pk)
                queued.append(
                    notifications.queue(
                        client,
                        "backchannel_logout",
                        logout_claims(client, member, sid),
                        url=client.backchannel_logout_uri,
                    )
                )
    except Exception:
        log.exception("could not queue back-channel logout for member %s", member_id)
        return []
    try:
        with db.session.begin_nested():
            ssf_member_events.session_revoked(member, published, reason)
    except Exception:
        log.exception("could not queue session-revoked events for member %s", member_id)
    return queued
