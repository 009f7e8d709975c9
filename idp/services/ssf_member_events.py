"""The CAEP and RISC events about a member that only Shared Signals streams receive.

- CAEP 1.0 §3.1 ``session-revoked``: a member's SSO session ended (logout,
  End session, a password change or reset, RP-initiated logout), for each
  client that was issued tokens in it. The subject is ``complex`` (RFC 9493
  §3.2.5 and SSF 1.0 §3.3): the member as ``iss_sub`` and the session as the
  ``opaque`` sid the client was given.
- CAEP 1.0 §3.2 ``token-claims-change``: the member changed profile data that
  a client's consent covers. The event names the standard ``updated_at``
  claim (OIDC Core §5.1) with the time of the change, not the new values:
  the client reads them at UserInfo, where every read is counted for the
  member (``partner_access``), and no personal data waits in the outbox.
  Which claims changed is told in ``reason_admin``.
- RISC 1.0 §2.2 ``account-purged``: the member deleted the account; every
  client with a standing consent when the deletion began is told, before the
  personal data goes (a partner whose consent ended earlier hears nothing).

- RISC 1.0 §2.3 ``account-disabled`` and §2.4 ``account-enabled``: an
  operator disabled the account (``member_status``), with the RISC ``reason``
  (``hijacking`` or ``bulk-account``) when it is one of those, or enabled it
  again; for every client with a standing consent, as for ``account-purged``.

Everything is queued in the caller's transaction through
``ssf_events.publish``, which drops it for clients without a stream.
"""

from __future__ import annotations

from sqlalchemy import select

from idp.catalog import SCOPE_CLAIMS
from idp.extensions import db
from idp.models import Client, Consent, Member, SsfStream, Token
from idp.services import ssf_events
from idp.services.security_events import member_event_claims

#: Profile columns that are not claims of their own but parts of ``address``.
_ADDRESS_FIELDS = {"street_address", "postal_code", "locality", "country"}


def _stream_clients(where) -> list[Client]:
    return list(
        db.session.scalars(
            select(Client)
            .join(SsfStream, SsfStream.client_id == Client.id)
            .where(Client.id.in_(where))
            .order_by(Client.id)
        )
    )


def session_revoked(member: Member, sids: list[str], reason: str) -> int:
    """CAEP ``session-revoked`` for the (sid, client) pairs with tokens in ended sessions."""
    if not sids or member is None:
        return 0
    pairs = db.session.execute(
        select(Token.sid, Token.client_id)
        .join(SsfStream, SsfStream.client_id == Token.client_id)
        .where(Token.member_id == member.id, Token.sid.in_(sids))
        .distinct()
    ).all()
    queued = 0
    for sid, client_pk in sorted(pairs):
        client = db.session.get(Client, client_pk)

        def events(subject, now, sid=sid):
            return {
                ssf_events.SESSION_REVOKED: {
                    "event_timestamp": now,
                    "initiating_entity": "user",
                    "reason_admin": {"en": f"The session ended: {reason}."},
                }
            }

        claims = member_event_claims(client, member, events)
        claims["sub_id"] = {
            "format": "complex",
            "user": {"format": "iss_sub", "iss": claims["iss"], "sub": claims["sub"]},
            "session": {"format": "opaque", "id": sid},
        }
        queued += ssf_events.publish(client, claims)
    return queued


def changed_claims(fields) -> set[str]:
    """The claims a change of these profile columns changes."""
    names = {"address" if f in _ADDRESS_FIELDS else f for f in fields}
    if names & {"given_name", "family_name", "academic_title"}:
        names.add("name")
    return names


def claims_changed(member: Member, fields, at: int) -> int:
    """CAEP ``token-claims-change`` for each client whose standing consent covers a change."""
    claims_now = changed_claims(fields)
    consents = db.session.scalars(
        select(Consent)
        .join(SsfStream, SsfStream.client_id == Consent.client_id)
        .where(Consent.member_id == member.id, Consent.withdrawn_at.is_(None))
        .order_by(Consent.client_id)
    )
    queued = 0
    for consent in consents:
        covered = {c for scope in consent.scopes for c in SCOPE_CLAIMS.get(scope, ())}
        touched = sorted(claims_now & covered)
        if not touched:
            continue

        def events(subject, now, touched=touched):
            return {
                ssf_events.TOKEN_CLAIMS_CHANGE: {
                    "subject": subject,
                    "event_timestamp": now,
                    "initiating_entity": "user",
                    "reason_admin": {"en": "The member changed " + ", ".join(touched) + "."},
                    "claims": {"updated_at": at},
                }
            }

        queued += ssf_events.publish(
            consent.client, member_event_claims(consent.client, member, events)
        )
    return queued


def account_purged(member: Member, client_ids: list[int]) -> int:
    """RISC ``account-purged`` to each of these clients that has a stream."""
    queued = 0
    for client in _stream_clients(client_ids):

        def events(subject, now):
            return {ssf_events.ACCOUNT_PURGED: {"subject": subject, "event_timestamp": now}}

        queued += ssf_events.publish(client, member_event_claims(client, member, events))
    return queued


def account_disabled(member: Member, client_ids: list[int], reason: str | None) -> int:
    """RISC ``account-disabled`` to each of these clients that has a stream."""
    body = {"reason": reason} if reason else {}
    return _account_event(member, client_ids, ssf_events.ACCOUNT_DISABLED, body)


def account_enabled(member: Member, client_ids: list[int]) -> int:
    """RISC ``account-enabled`` to each of these clients that has a stream."""
    return _account_event(member, client_ids, ssf_events.ACCOUNT_ENABLED, {})


def _account_event(member: Member, client_ids: list[int], event_type: str, body: dict) -> int:
    queued = 0
    for client in _stream_clients(client_ids):

        def events(subject, now):
            return {event_type: {"subject": subject, "event_timestamp": now, **body}}

        queued += ssf_events.publish(client, member_event_claims(client, member, events))
    return queued


def standing_clients(member_id: str) -> list[int]:
    """The clients holding a standing consent of the member (the account deletion's audience)."""
    return list(
        db.session.scalars(
            select(Consent.client_id)
            .where(Consent.member_id == member_id, Consent.withdrawn_at.is_(None))
            .distinct()
        )
    )
