"""Deleting a member's account (GDPR Art. 17, SPEC.md §7): erase, and block what must be kept.

``delete_account`` does everything in one transaction, so a failure leaves
the account exactly as it was:

1. each client with a standing consent and a Shared Signals stream gets the
   RISC ``account-purged`` event (``ssf_member_events``), then
   every consent is withdrawn with the partners notified
   (``withdrawal.withdraw_all_for_member``: tokens revoked, a Security Event
   Token and back-channel logout tokens queued, the withdrawal kept as
   evidence with the actor ``account_deletion``); any token left is revoked;
2. every SSO session ends, and each partner that received tokens in one gets
   a back-channel logout token (OIDC Back-Channel Logout 1.0 §2.5) unless the
   withdrawal queued it already;
3. the personal data is erased: the member row keeps its id and nothing that
   names the member (email, names, birthdate, address, phone, language,
   travel preferences, status and miles); card numbers, credentials
   (password, TOTP key, a pending TOTP key), passkeys and their challenges,
   recovery codes, email codes, changes of email address, mailed
   password-reset and enrolment links, linked profiles, pending requests
   (consent steps, authorization codes, upstream requests), sessions (with
   the network they started from), what each partner read (``PartnerAccess``:
   usage data about the member, neither evidence of a consent nor a
   business record, so no retention period of the privacy policy §9
   applies), the lockout record, staff and developer roles, and the mail
   still addressed to the member (or to a new address asked for) are
   deleted;
4. each card number's blind index becomes a ``RetiredCardNumber``, so the
   number is never issued again (the number itself is not kept);
5. what retention law requires is kept but *blocked* (a ``MemberErasure``
   with the day each retention period ends, seeds' privacy policy §9): the
   consent evidence (consent and linking records, and the withdrawn consents
   they belong to) and the member's audit events. Nothing uses them again:
   the member cannot log in (the login name and card number are gone), the
   operators' audit search leaves them out (``audit_log``), the member
   lookup of the CLI and admin pages finds nobody (``member_reference``);
   ``mam-idp purge`` erases them when their period ends (``retention``).

The audit event ``account.deleted`` names the member's id only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.exc import SQLAlchemyError

from idp.extensions import db
from idp.models import (
    AccountLink,
    AuthorizationCode,
    CardNumber,
    Client,
    ConsentStep,
    Credential,
    EmailChange,
    EmailCode,
    LinkedProfile,
    Lockout,
    Member,
    MemberErasure,
    OutgoingMail,
    PartnerAccess,
    PartnerDeveloper,
    Passkey,
    PasskeyChallenge,
    RecoveryCode,
    RetiredCardNumber,
    SSOSession,
    StaffMember,
    Token,
    UpstreamRequest,
)
from idp.models.types import new_id, utcnow
from idp.services import (
    audit,
    linked_profiles,
    lockout,
    notifications,
    ssf_member_events,
    withdrawal,
)
from idp.services.backchannel_logout import logout_claims
from idp.services.errors import NotFound

#: The ``email_index`` of an erased member: never a blind index (those are 64 hex digits).
ERASED_EMAIL_INDEX_PREFIX = "erased:"


@dataclass
class Deletion:
    """What one account deletion did (counts only: nothing that names the member)."""

    partners_notified: int
    #: Tokens no standing consent covered, revoked besides the withdrawal's.
    other_tokens_revoked: int
    sessions_ended: int
    erasure: MemberErasure


def is_erased(member_id: str) -> bool:
    return db.session.get(MemberErasure, member_id) is not None


def erased_member_ids():
    """A subquery of every erased member's id, for queries that must leave them out."""
    return select(MemberErasure.member_id)


def delete_account(member_id: str) -> Deletion:
    """Delete the account of ``member_id`` in one transaction (see the module docstring). Commits.

    The caller has checked the member's password and second factor.
    """
    member = db.session.get(Member, member_id)
    if member is None or is_erased(member_id):
        raise NotFound("No such member.")
    try:
        deletion = _delete(member)
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        raise
    return deletion


def _delete(member: Member) -> Deletion:
    now = utcnow()
    settings = current_app.config["IDP"]
    sids = list(
        db.session.scalars(
            select(SSOSession.id).where(
                SSOSession.member_id == member.id, SSOSession.ended_at.is_(None)
            )
        )
    )
    # Pairs the withdrawal notifies itself (live tokens); the rest get a logout below.
    notified_by_withdrawal = set(withdrawal._live_sessions(member.id, _client_ids(member.id)))
    ssf_member_events.account_purged(member, ssf_member_events.standing_clients(member.id))
    partners = withdrawal.withdraw_all_for_member(member.id, "account_deletion", commit=False)
    leftover = db.session.execute(
        update(Token)
        .where(Token.member_id == member.id, Token.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    _queue_session_logouts(member, sids, notified_by_withdrawal)
    # Every link still standing is withdrawn as a decision of its own (its evidence stays).
    standing_links = {profile.airline for profile in linked_profiles.profiles_of(member.id)}
    linked_profiles.unlink_airlines(member.id, standing_links, "account_deletion")

    requested = _requested_addresses(member.id)
    _retire_cards(member.id, now)
    # The revoked tokens stay until the purge; they forget the codes going now.
    db.session.execute(
        update(Token)
        .where(Token.member_id == member.id, Token.code_id.is_not(None))
        .values(code_id=None)
        .execution_options(synchronize_session=False)
    )
    for model in (
        Credential,
        Passkey,
        PasskeyChallenge,
        RecoveryCode,
        EmailCode,
        EmailChange,
        AccountLink,
        LinkedProfile,
        ConsentStep,
        AuthorizationCode,
        UpstreamRequest,
        SSOSession,
        StaffMember,
        PartnerDeveloper,
        PartnerAccess,
    ):
        db.session.execute(
            delete(model)
            .where(model.member_id == member.id)
            .execution_options(synchronize_session=False)
        )
    db.session.execute(delete(Lockout).where(Lockout.key == lockout.member_key(member.id)))
    _forget_mail(member.email, requested)
    _erase_personal_fields(member)

    erasure = MemberErasure(
        member_id=member.id,
        erased_at=now,
        evidence_blocked_until=now + timedelta(days=settings.evidence_retention_days),
        audit_blocked_until=now + timedelta(days=settings.audit_retention_days),
    )
    db.session.add(erasure)
    audit.record(
        "account.deleted",
        member_id=member.id,
        partners_notified=partners,
        sessions_ended=len(sids),
        evidence_blocked_until=erasure.evidence_blocked_until.isoformat(),
        audit_blocked_until=erasure.audit_blocked_until.isoformat(),
    )
    db.session.flush()
    return Deletion(partners, leftover, len(sids), erasure)


def _client_ids(member_id: str) -> list[int]:
    return list(
        db.session.scalars(select(Token.client_id).where(Token.member_id == member_id).distinct())
    )


def _queue_session_logouts(member: Member, sids: list[str], already: set) -> None:
    """Back-channel logout for every (session, client) the withdrawal did not notify."""
    if sids:
        db.session.execute(
            update(SSOSession)
            .where(SSOSession.id.in_(sids))
            .values(ended_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    if not sids:
        return
    rows = db.session.execute(
        select(Token.sid, Token.client_id)
        .join(Client, Client.id == Token.client_id)
        .where(
            Token.member_id == member.id,
            Token.sid.in_(sids),
            Client.backchannel_logout_uri.is_not(None),
        )
        .distinct()
    )
    for sid, client_pk in sorted(rows):
        if (sid, client_pk) in already:
            continue
        client = db.session.get(Client, client_pk)
        notifications.queue(
            client,
            "backchannel_logout",
            logout_claims(client, member, sid),
            url=client.backchannel_logout_uri,
        )


def _retire_cards(member_id: str, now) -> None:
    indexes = list(
        db.session.scalars(select(CardNumber.number_index).where(CardNumber.member_id == member_id))
    )
    for index in indexes:
        db.session.add(RetiredCardNumber(number_index=index, retired_at=now))
    db.session.execute(
        delete(CardNumber)
        .where(CardNumber.member_id == member_id)
        .execution_options(synchronize_session=False)
    )


def _requested_addresses(member_id: str) -> set[str]:
    return set(
        db.session.scalars(select(EmailChange.new_email).where(EmailChange.member_id == member_id))
    )


def _forget_mail(address: str, requested: set[str]) -> None:
    """Mail addressed to the member (codes, links) leaves the outbox, sent or not.

    So do the confirmation links sent to the new addresses the member asked
    for; a notice to another member whose address was asked for stays theirs.
    """
    rows = db.session.execute(
        select(OutgoingMail.id, OutgoingMail.recipient, OutgoingMail.purpose)
    ).all()
    ids = [
        row_id
        for row_id, recipient, purpose in rows
        if recipient == address or (purpose == "email_change" and recipient in requested)
    ]
    if ids:
        db.session.execute(delete(OutgoingMail).where(OutgoingMail.id.in_(ids)))


def _erase_personal_fields(member: Member) -> None:
    db.session.expire(member, ["cards"])
    member.email_index = ERASED_EMAIL_INDEX_PREFIX + member.id
    member.email = ""
    member.email_verified = False
    member.given_name = ""
    member.family_name = ""
    member.gender = None
    member.birthdate = None
    member.academic_title = None
    member.phone_number = None
    member.phone_number_verified = False
    member.address = None
    member.locale = None
    member.travel_preferences = None
    member.status_tier = "base"
    member.status_miles = 0
    member.miles_balance = 0
    # Pairwise subjects can no longer be computed for the erased account.
    member.pairwise_salt = new_id()
