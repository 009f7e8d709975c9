"""Signed consent receipts: one per consent record, for the member to keep and prove later.

The receipt carries the fields of the Kantara Initiative Consent Receipt
Specification v1.1.0 (the record structure ISO/IEC TS 27560 builds on),
filled from the ``ConsentRecord`` alone, so that a receipt downloaded twice
says the same:

- ``version`` (``KI-CR-v1.1.0``), ``jurisdiction`` (``DE``: the controller's
  seat; the GDPR applies), ``consentTimestamp`` (seconds since the epoch, UTC),
  ``collectionMethod``, ``consentReceiptID`` (a UUID derived from the issuer
  and the record, stable), ``publicKey`` (the provider's public JWK that
  signs the receipt), ``language`` (of the consent text shown);
- ``piiPrincipalId``: the member's subject identifier at the partner (the
  ``sub`` the partner knows), never an email address or a card number;
- ``piiControllers``: the provider's operator (``IDP_*`` settings, privacy
  policy §1), ``policyUrl``: its privacy policy;
- ``services``: the partner's client, with one entry in ``purposes`` per
  purpose of the record: ``purposeCategory``, ``consentType``, ``piiCategory``
  (the data categories of the record's scopes in that purpose),
  ``primaryPurpose``, ``termination`` (the consented period),
  ``thirdPartyDisclosure`` and ``thirdPartyName`` (the partner, which
  answers alone for its own processing), plus ``legalBasis`` (GDPR article);
- ``sensitive`` (false: no special category of Art. 9) and ``spiCat`` (none);
- ``consentRecord`` (an extension): the action (``given``, ``changed``,
  ``withdrawn``), who acted, the scopes granted and declined, the claims
  granted and declined by themselves (``claims``, ``declinedClaims``: asked
  for through the OIDC ``claims`` parameter), and the consent text's version
  and SHA-256 hash, as the evidence holds them.

The receipt is signed by the provider as a compact JWS (RFC 7515) with the
key that signs ID tokens, ``typ: consent-receipt+jwt`` and its ``kid``; the
JWT claims ``iss``, ``iat`` and ``jti`` (the receipt id) are added to the
receipt's fields. The key is in the JWKS at the discovery's ``jwks_uri``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from idp.catalog import PURPOSES, scope_of_claim
from idp.extensions import db
from idp.models import Client, ConsentRecord, Member, Partner
from idp.models.types import utcnow
from idp.services import signing_keys
from idp.services.errors import NotFound
from idp.services.subjects import subject_for

VERSION = "KI-CR-v1.1.0"
JURISDICTION = "DE"
JWS_TYPE = "consent-receipt+jwt"
ALGORITHM = "RS256"

#: Kantara CR v1.1 PII categories of each scope's data.
PII_CATEGORIES: dict[str, str] = {
    "profile": "1 - Biographical",
    "email": "2 - Contact",
    "phone": "2 - Contact",
    "address": "2 - Contact",
    "card_number": "5 - Network/Service",
    "status": "5 - Network/Service",
    "miles": "7 - Financial",
    "lhg_profiles": "5 - Network/Service",
}

#: The purpose as the receipt names it, and its Kantara purpose category.
PURPOSE_DESCRIPTIONS: dict[str, tuple[str, str]] = {
    "miles": ("Collecting and redeeming miles at the partner", "2 - Contracted Service"),
    "registration": ("Registration on the partner's website", "1 - Core Function"),
    "autofill": ("Filling in forms on the partner's website", "5 - Personalized Experience"),
}

COLLECTION_METHODS: dict[str, str] = {
    "given": "Consent screen of Login with Miles & More (web form, explicit Allow)",
    "changed": "Consent screen of Login with Miles & More (web form, explicit Allow)",
    "withdrawn": "Withdrawal",
    "narrowed": "Connected apps of Login with Miles & More (Stop sharing one item)",
    "paused": "Connected apps of Login with Miles & More (Pause: restriction, GDPR Art. 18)",
    "resumed": "Connected apps of Login with Miles & More (Resume after a pause)",
}
WITHDRAWN_BY: dict[str, str] = {
    "member": "by the member on Connected apps",
    "admin": "by Miles & More",
    "account_deletion": "by the deletion of the member's account",
    "partner": "by the partner, releasing its grant (Grant Management for OAuth 2.0)",
}


@dataclass
class SignedReceipt:
    receipt: dict
    jws: str


def record_of(member_id: str, record_id: int) -> ConsentRecord:
    """The member's own consent record; ``NotFound`` for anyone else's."""
    if not 0 < record_id < 2**31:
        raise NotFound("No such consent record.")
    record = db.session.scalar(
        select(ConsentRecord).where(
            ConsentRecord.id == record_id, ConsentRecord.member_id == member_id
        )
    )
    if record is None:
        raise NotFound("No such consent record.")
    return record


def receipt_id(record: ConsentRecord) -> str:
    issuer = current_app.config["IDP"].issuer
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{issuer}/consent-records/{record.id}"))


def build(record: ConsentRecord, public_jwk: dict) -> dict:
    """The receipt's fields for ``record`` (see the module docstring)."""
    settings = current_app.config["IDP"]
    client = db.session.get(Client, record.client_id)
    partner = db.session.get(Partner, client.partner_id)
    member = db.session.get(Member, record.member_id)
    # A claim granted by itself is data of its scope's category too.
    scopes = [*record.scope.split(), *map(scope_of_claim, record.granted_claims or ())]
    purposes = [
        _purpose(name, scopes, record, partner, primary=index == 0)
        for index, name in enumerate(record.purposes or [])
        if name in PURPOSES
    ]
    method = COLLECTION_METHODS.get(record.action, record.action)
    if record.action == "withdrawn":
        method = f"{method} {WITHDRAWN_BY.get(record.actor, record.actor)}"
    return {
        "version": VERSION,
        "jurisdiction": JURISDICTION,
        "consentTimestamp": int(record.created_at.timestamp()),
        "collectionMethod": method,
        "consentReceiptID": receipt_id(record),
        "publicKey": public_jwk,
        "language": record.language or "en",
        "piiPrincipalId": subject_for(member, client),
        "piiControllers": [
            {
                "piiController": settings.controller_name,
                "onBehalf": False,
                "address": settings.controller_address,
                "email": settings.controller_email,
                "url": settings.issuer,
            }
        ],
        "policyUrl": settings.privacy_policy_url,
        "services": [
            {"service": f"Login with Miles & More at {client.client_name}", "purposes": purposes}
        ],
        "sensitive": False,
        "spiCat": [],
        "consentRecord": {
            "id": record.id,
            "action": record.action,
            "actor": record.actor,
            "scope": record.scope,
            "declinedScope": record.declined_scope or "",
            "claims": list(record.granted_claims or []),
            "declinedClaims": list(record.declined_claims or []),
            "unlimited": bool(record.unlimited),
            "expiresAt": record.expires_at.isoformat() if record.expires_at else None,
            "textVersion": record.text_version,
            "textSha256": record.text_sha256,
            "clientId": client.client_id,
            "partnerId": partner.id,
        },
    }


def _purpose(name: str, scopes: list[str], record, partner, primary: bool) -> dict:
    purpose = PURPOSES[name]
    description, category = PURPOSE_DESCRIPTIONS.get(name, (name, name))
    categories = sorted(
        {PII_CATEGORIES[s] for s in scopes if s in purpose.scopes and s in PII_CATEGORIES}
    )
    return {
        "purpose": description,
        "purposeCategory": [category],
        "consentType": "EXPLICIT",
        "legalBasis": f"{purpose.article} ({purpose.legal_basis})",
        "piiCategory": categories,
        "primaryPurpose": primary,
        "termination": _termination(record),
        "thirdPartyDisclosure": True,
        "thirdPartyName": partner.name,
    }


def _termination(record: ConsentRecord) -> str:
    if record.action == "withdrawn":
        return f"Withdrawn at {record.created_at.isoformat()}"
    if record.unlimited or record.expires_at is None:
        return "Without time limit, until withdrawn on Connected apps"
    return f"Until {record.expires_at.isoformat()}, or earlier when withdrawn on Connected apps"


def signed_receipt(member_id: str, record_id: int) -> SignedReceipt:
    """The member's receipt for one of their consent records, and its JWS."""
    record = record_of(member_id, record_id)
    key = signing_keys.current_key(ALGORITHM)
    receipt = build(record, dict(key.public_jwk))
    claims = {
        **receipt,
        "iss": current_app.config["IDP"].issuer,
        "iat": int(utcnow().timestamp()),
        "jti": receipt["consentReceiptID"],
    }
    jws = signing_keys.sign(claims, alg=ALGORITHM, typ=JWS_TYPE)
    return SignedReceipt(receipt=receipt, jws=jws)
