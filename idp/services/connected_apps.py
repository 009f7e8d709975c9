"""What the Connected apps page shows: per partner, who gets what, for what, for how long.

A partner may run several clients; the member sees one partner with what all
of them hold together, and withdraws at the partner (``idp.services.withdrawal``).
Beside what was allowed, what was used: per data scope, what the partner read
in the last ``READS_DAYS`` days (``PartnerAccess``), the last day and how often.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from idp.extensions import db
from idp.models import Client, Consent, ConsentRecord, LinkedProfile, Partner, PartnerAccess
from idp.models.types import utcnow
from idp.services.consent import IDENTITY_SCOPE, OFFLINE_SCOPE, in_force, is_paused, text_outdated
from idp.services.consent_evidence import history
from idp.services.linked_profiles import airlines_of_partner, profiles_of
from idp.services.narrowing import optional_scopes

#: How far back Connected apps sums up what a partner read.
READS_DAYS = 90


@dataclass(frozen=True)
class Reads:
    """One data scope a partner read: on how many occasions, and the last day it did."""

    category: str
    last_day: date
    count: int


@dataclass
class ConnectedPartner:
    partner: Partner
    #: Consents in force on the current texts, paused ones included: a consent on an
    #: outdated text is asked again, so the page no longer counts it as connected.
    active: list[Consent] = field(default_factory=list)
    history: list[ConsentRecord] = field(default_factory=list)
    #: The member's linked profiles at this partner when it is a linked airline: the
    #: airline is shown once, and revoking its access withdraws the link too.
    linked: list[LinkedProfile] = field(default_factory=list)
    #: What the partner read in the last ``READS_DAYS`` days, most read first.
    reads: list[Reads] = field(default_factory=list)

    @property
    def connected(self) -> bool:
        return bool(self.active or self.linked)

    @property
    def scopes(self) -> list[str]:
        found = set().union(*(c.scopes for c in self.active)) if self.active else set()
        return sorted(found - {IDENTITY_SCOPE, OFFLINE_SCOPE})

    @property
    def claims(self) -> list[str]:
        """Claims granted by themselves (the ``claims`` parameter): each an optional item."""
        found = (
            set().union(*(c.granted_claims or () for c in self.active)) if self.active else set()
        )
        return sorted(found)

    @property
    def optional(self) -> set[str]:
        """The items the member may stop sharing: optional at every client that holds them."""
        return {
            scope
            for scope in self.scopes
            if all(scope in optional_scopes(c) for c in self.active if scope in c.scopes)
        }

    @property
    def paused(self) -> bool:
        """The member paused the partner (GDPR Art. 18): listed, but nothing is released."""
        return any(is_paused(c) for c in self.active)

    @property
    def purposes(self) -> list[str]:
        seen: dict[str, None] = {}
        for consent in self.active:
            seen.update(dict.fromkeys(consent.purposes or []))
        return list(seen)

    @property
    def since(self) -> datetime | None:
        return min((c.granted_at for c in self.active), default=None)

    @property
    def unlimited(self) -> bool:
        return any(c.expires_at is None for c in self.active)

    @property
    def until(self) -> datetime | None:
        if self.unlimited:
            return None
        return max((c.expires_at for c in self.active), default=None)

    @property
    def last_used(self) -> datetime | None:
        used = [c.last_used_at for c in self.active if c.last_used_at]
        return max(used, default=None)


def connected_partners(member_id: str) -> list[ConnectedPartner]:
    """Every partner the member ever consented to, connected ones first, then by name."""
    now = utcnow()
    rows = db.session.execute(
        select(Consent, Partner)
        .join(Client, Client.id == Consent.client_id)
        .join(Partner, Partner.id == Client.partner_id)
        .where(Consent.member_id == member_id)
    ).all()
    partners: dict[str, ConnectedPartner] = {}
    client_partner: dict[int, str] = {}
    for consent, partner in rows:
        entry = partners.setdefault(partner.id, ConnectedPartner(partner))
        client_partner[consent.client_id] = partner.id
        if in_force(consent, now) and not text_outdated(consent):
            entry.active.append(consent)
    _add_linked_airlines(member_id, partners)
    _add_reads(member_id, partners, now.date())
    for record in history(member_id):
        partner_id = client_partner.get(record.client_id)
        if partner_id in partners:
            partners[partner_id].history.append(record)
    return sorted(partners.values(), key=lambda p: (not p.connected, p.partner.name.lower()))


def _add_linked_airlines(member_id: str, partners: dict[str, ConnectedPartner]) -> None:
    """Each airline partner the member reaches through a linked profile, once."""
    profiles = profiles_of(member_id)
    if not profiles:
        return
    airline_partners = db.session.scalars(select(Partner).where(Partner.category == "lhg_airline"))
    for partner in airline_partners:
        airlines = airlines_of_partner(partner)
        linked = [p for p in profiles if p.airline in airlines]
        if linked:
            partners.setdefault(partner.id, ConnectedPartner(partner)).linked.extend(linked)


def _add_reads(member_id: str, partners: dict[str, ConnectedPartner], today: date) -> None:
    """Per partner and data scope: the reads of the last ``READS_DAYS`` days (today included)."""
    rows = db.session.execute(
        select(
            PartnerAccess.partner_id,
            PartnerAccess.category,
            func.max(PartnerAccess.day),
            func.sum(PartnerAccess.count),
        )
        .where(
            PartnerAccess.member_id == member_id,
            PartnerAccess.day > today - timedelta(days=READS_DAYS),
        )
        .group_by(PartnerAccess.partner_id, PartnerAccess.category)
    )
    for partner_id, category, last_day, count in rows:
        if partner_id in partners:
            partners[partner_id].reads.append(Reads(category, last_day, int(count)))
    for entry in partners.values():
        entry.reads.sort(key=lambda r: (-r.count, r.category))
