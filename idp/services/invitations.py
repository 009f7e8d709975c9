"""Who develops a partner's clients: the partners a member created, joined or was added to.

A member becomes a developer of a partner in one of three ways: by creating
the partner in the developer portal (category ``partner_company``; whether its
clients go live is still the operator's approval), by an operator's
``mam-idp partners add-developer``, or by accepting an invitation a developer
of that partner sent by email.

An invitation is a single-use link: only the SHA-256 hash of its random token
is stored, it expires, and it is accepted by the member who is logged in when
the link is followed, and only when that member's email address is the one
invited. A member is never added because their address matches: they accept
it themselves, logged in with two factors, so a forwarded link adds nobody.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from urllib.parse import urlencode

from flask import current_app, render_template
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from idp.extensions import db
from idp.models import Client, DeveloperInvitation, Member, Partner, PartnerDeveloper, hash_secret
from idp.models.types import utcnow
from idp.request_text import is_text
from idp.services import audit, mail
from idp.services.errors import Conflict, InvalidInput, NotFound
from idp.services.member_reference import require_member
from idp.services.members import normalize_email
from idp.services.registration import add_developer

#: How long an invitation link works.
INVITATION_LIFETIME = timedelta(days=7)
#: Invitations one partner may send per day: enough for a team, too few to spam with.
MAX_INVITATIONS_PER_DAY = 20
MAX_EMAIL_LENGTH = 254
MAX_PARTNER_NAME_LENGTH = 200
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def partners_of(member_id: str) -> list[Partner]:
    """The partners the member develops for, by name."""
    return list(
        db.session.scalars(
            select(Partner)
            .join(PartnerDeveloper, PartnerDeveloper.partner_id == Partner.id)
            .where(PartnerDeveloper.member_id == member_id)
            .order_by(Partner.name, Partner.id)
        )
    )


def is_any_developer(member_id: str) -> bool:
    found = db.session.scalar(
        select(PartnerDeveloper.partner_id).where(PartnerDeveloper.member_id == member_id).limit(1)
    )
    return found is not None


def clients_of(partner_id: str) -> list[Client]:
    return list(
        db.session.scalars(
            select(Client)
            .where(Client.partner_id == partner_id)
            .order_by(Client.client_name, Client.id)
        )
    )


def partner_for_developer(partner_id: str, member_id: str) -> Partner:
    """The partner, when the member develops for it; NotFound otherwise (no hint it exists)."""
    partner = None
    if isinstance(partner_id, str) and 0 < len(partner_id) <= 32:
        partner = db.session.get(Partner, partner_id)
    if partner is None or db.session.get(PartnerDeveloper, (partner.id, member_id)) is None:
        raise NotFound("No partner with this id.", "partner_id")
    return partner


def client_for_developer(client_id: str, member_id: str) -> Client:
    """The client, when the member develops for its partner; NotFound otherwise."""
    client = None
    if isinstance(client_id, str) and 0 < len(client_id) <= 64 and is_text(client_id):
        client = db.session.scalar(select(Client).where(Client.client_id == client_id))
    if client is None or db.session.get(PartnerDeveloper, (client.partner_id, member_id)) is None:
        raise NotFound("No client with this id.", "client_id")
    return client


def create_own_partner(name: str, member_id: str) -> Partner:
    """A partner company the member creates and develops for. Commits once, both or neither."""
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > MAX_PARTNER_NAME_LENGTH or not is_text(name):
        raise InvalidInput("A partner needs a name of up to 200 characters.", field="name")
    partner = Partner(name=name, category="partner_company")
    db.session.add(partner)
    db.session.flush()
    audit.record(
        "partner.created", member_id=member_id, partner_id=partner.id, category="partner_company"
    )
    db.session.add(PartnerDeveloper(partner_id=partner.id, member_id=member_id))
    audit.record("partner.developer_added", member_id=member_id, partner_id=partner.id)
    db.session.commit()
    return partner


def add_developer_by_reference(partner_id: str, reference: str) -> tuple[Partner, Member]:
    """``mam-idp partners add-developer``: the member named by id, email or card number."""
    partner = db.session.get(Partner, partner_id) if partner_id else None
    if partner is None:
        raise NotFound("No partner with this id.", "partner_id")
    member = require_member(reference)
    add_developer(partner, member.id)
    return partner, member


def _checked_email(email: str) -> str:
    email = normalize_email(email if isinstance(email, str) else "")
    if not email or len(email) > MAX_EMAIL_LENGTH or not is_text(email) or not _EMAIL.match(email):
        raise InvalidInput("Enter an email address.", "email")
    return email


def invite(partner: Partner, inviter_id: str, email: str) -> DeveloperInvitation:
    """Email a single-use link to join ``partner``'s developers. Commits."""
    email = _checked_email(email)
    since = utcnow() - timedelta(days=1)
    sent_today = db.session.scalar(
        select(func.count(DeveloperInvitation.id)).where(
            DeveloperInvitation.partner_id == partner.id,
            DeveloperInvitation.created_at > since,
        )
    )
    if sent_today >= MAX_INVITATIONS_PER_DAY:
        raise Conflict("This partner has sent as many invitations as it may today.", "email")
    token = secrets.token_urlsafe(32)
    now = utcnow()
    invitation = DeveloperInvitation(
        token_hash=hash_secret(token),
        partner_id=partner.id,
        email=email,
        invited_by=inviter_id,
        created_at=now,
        expires_at=now + INVITATION_LIFETIME,
    )
    db.session.add(invitation)
    db.session.flush()
    link = f"{current_app.config['IDP'].issuer}/developers/invitation?{urlencode({'token': token})}"
    # The invitee has no language on record yet: the inviter's is the best guess.
    with force_locale(str(get_locale() or "en")):
        subject = _("Join %(partner)s on Miles & More for developers", partner=partner.name)
        body = render_template(
            "mail/developer_invitation.txt",
            partner=partner,
            link=link,
            days=INVITATION_LIFETIME.days,
        )
    mail.queue_mail(email, subject, body, purpose="developer_invitation")
    audit.record(
        "partner.developer_invited",
        member_id=inviter_id,
        partner_id=partner.id,
        invitation_id=invitation.id,
    )
    db.session.commit()
    return invitation


def open_invitation(token: str) -> DeveloperInvitation:
    """The invitation of this link, while it is neither used nor expired."""
    invitation = None
    if isinstance(token, str) and 0 < len(token) <= 128 and is_text(token):
        invitation = db.session.scalar(
            select(DeveloperInvitation).where(DeveloperInvitation.token_hash == hash_secret(token))
        )
    if invitation is None:
        raise NotFound("This invitation link is not valid.", "token")
    if invitation.accepted_at is not None:
        raise Conflict("This invitation has been used already.", "token")
    if invitation.expires_at <= utcnow():
        raise Conflict("This invitation has expired. Ask for a new one.", "token")
    return invitation


def accept(token: str, member: Member) -> Partner:
    """The logged-in ``member`` joins the partner's developers. Commits."""
    invitation = open_invitation(token)
    if normalize_email(member.email) != normalize_email(invitation.email):
        raise Conflict(
            "This invitation is for another email address. Log in with that address.", "token"
        )
    now = utcnow()
    # Used once: checked and marked in one statement, so two clicks cannot both pass.
    used = db.session.execute(
        update(DeveloperInvitation)
        .where(
            DeveloperInvitation.id == invitation.id,
            DeveloperInvitation.accepted_at.is_(None),
            DeveloperInvitation.expires_at > now,
        )
        .values(accepted_at=now, accepted_by=member.id)
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:
        db.session.rollback()
        raise Conflict("This invitation has been used already.", "token")
    partner = invitation.partner
    audit.record(
        "partner.invitation_accepted",
        member_id=member.id,
        partner_id=partner.id,
        invitation_id=invitation.id,
    )
    if db.session.get(PartnerDeveloper, (partner.id, member.id)) is None:
        db.session.add(PartnerDeveloper(partner_id=partner.id, member_id=member.id))
        audit.record("partner.developer_added", member_id=member.id, partner_id=partner.id)
    db.session.commit()
    return partner
