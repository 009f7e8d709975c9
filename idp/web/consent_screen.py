"""Everything the consent screen says, built once per request in the member's language.

The template shows only these words, and the same words, one per line, are
hashed as evidence of the exact text shown (``Screen.text``), so what is
stored is what the member read. It lives here, not in ``consent_screens``,
because the previews (the operator console's approval queue) show the same
words: ``preview`` builds them for a member who has not consented yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from flask_babel import format_date, get_locale
from flask_babel import gettext as _

from idp.catalog import PURPOSES, SCOPE_CLAIMS, required_scopes, scope_of_claim
from idp.models.types import utcnow
from idp.services import branding
from idp.services.consent import OFFLINE_SCOPE, ConsentRequest, data_scopes
from idp.services.consent_evidence import Evidence, evidence_for
from idp.web.texts import (
    CATEGORY_TEXTS,
    CLAIM_TEXTS,
    LEGAL_BASIS_TEXTS,
    PURPOSE_TEXTS,
    SCOPE_TEXTS,
)


@dataclass
class Item:
    scope: str
    label: str
    optional: bool
    #: Set for a claim asked for by itself (``ConsentRequest.optional_claims``): an optional
    #: item of ``scope`` that grants only this claim.
    claim: str | None = None


@dataclass
class PurposeGroup:
    name: str
    title: str
    basis: str
    items: list[Item] = field(default_factory=list)


@dataclass
class Screen:
    partner_name: str
    category: str
    #: Where the data goes: the host of the redirect URI (``branding.domain_for``).
    domain: str | None
    lead: str
    #: Said when the decision replaces a standing consent (``ConsentRequest.replaces_standing``).
    replacement_note: str | None
    identity: str
    #: Said once above the items when some are optional.
    optional_note: str | None
    groups: list[PurposeGroup]
    duration: str
    offline_note: str | None
    unlimited_label: str | None
    responsibility: str
    withdrawal: str
    extra_text: str | None
    language: str
    purposes: list[str]

    def lines(self) -> list[str]:
        lines = [self.partner_name, self.domain or "", self.category, self.lead]
        lines += [self.replacement_note or "", self.identity]
        lines.append(self.optional_note or "")
        for group in self.groups:
            lines += [group.title, group.basis]
            lines += [("[optional] " if i.optional else "") + i.label for i in group.items]
        lines += [self.duration, self.offline_note or "", self.unlimited_label or ""]
        lines += [self.responsibility, self.withdrawal, self.extra_text or ""]
        return [line for line in lines if line]

    def text(self) -> str:
        return "\n".join(self.lines())

    def evidence(self) -> Evidence:
        return evidence_for(self.text(), self.purposes, self.language)


def build(plan: ConsentRequest, redirect_uri: str | None = None) -> Screen:
    client = plan.client
    partner = client.partner
    language = str(get_locale() or "en")
    asked = [*plan.required, *plan.optional]
    placed: set[str] = set()
    placed_claims: set[str] = set()
    groups = []
    purposes = [name for name in client.purposes if name in PURPOSES]
    for name in purposes:
        purpose = PURPOSES[name]
        group = PurposeGroup(
            name=name,
            title=str(PURPOSE_TEXTS[name]),
            basis=str(LEGAL_BASIS_TEXTS[purpose.legal_basis]),
        )
        for scope in asked:
            if scope in purpose.scopes and scope not in placed:
                placed.add(scope)
                group.items.append(Item(scope, str(SCOPE_TEXTS[scope]), scope in plan.optional))
        for claim in plan.optional_claims:
            scope = scope_of_claim(claim)
            if scope in purpose.scopes and claim not in placed_claims:
                placed_claims.add(claim)
                group.items.append(Item(scope, str(CLAIM_TEXTS[claim]), True, claim=claim))
        groups.append(group)
    if plan.keeps_unlimited:
        duration = _("Access lasts without time limit, as you chose before.")
    else:
        duration = _(
            "Access lasts until %(date)s.", date=format_date(plan.limited_until, format="long")
        )
    offline = plan.offline and not plan.keeps_unlimited
    return Screen(
        partner_name=partner.name,
        domain=branding.domain_for(client, redirect_uri),
        category=str(CATEGORY_TEXTS.get(partner.category, "")),
        lead=_(
            "%(client)s would like to use your Miles & More account.", client=client.client_name
        ),
        replacement_note=_(
            "%(partner)s asks you to decide again: what you allow now replaces what you "
            "allowed before.",
            partner=partner.name,
        )
        if plan.replaces_standing
        else None,
        identity=str(SCOPE_TEXTS["openid"]),
        optional_note=_(
            "Items marked optional are yours to choose: untick any you do not want to share."
        )
        if plan.optional or plan.optional_claims
        else None,
        groups=[g for g in groups if g.items],
        duration=duration,
        offline_note=str(SCOPE_TEXTS["offline_access"]) if offline else None,
        unlimited_label=_("Allow access without time limit")
        if offline and plan.unlimited_offered
        else None,
        responsibility=_(
            "%(partner)s alone is responsible for how it processes your data.",
            partner=partner.name,
        ),
        withdrawal=_(
            "You can withdraw your consent at any time under Connected apps in your "
            "Miles & More account."
        ),
        extra_text=branding.extra_text(partner, language.split("_")[0]),
        language=language,
        purposes=purposes,
    )


def preview(client) -> Screen:
    """The screen a member without any consent sees when the client asks for all its scopes.

    Only member scopes: the grant management scopes are never asked of a member."""
    requested = [s for s in dict.fromkeys(client.scopes) if s in SCOPE_CLAIMS]
    asked = data_scopes(requested)
    required = required_scopes(client.purposes) & asked
    plan = ConsentRequest(
        client=client,
        required=tuple(s for s in requested if s in required),
        optional=tuple(s for s in requested if s in asked - required),
        offline=OFFLINE_SCOPE in requested,
        keeps_unlimited=False,
        limited_until=utcnow() + timedelta(seconds=client.grant_ttl),
        # The fullest screen: a public client's request bound to a DPoP key offers it too.
        unlimited_offered=OFFLINE_SCOPE in requested,
    )
    return build(plan)
