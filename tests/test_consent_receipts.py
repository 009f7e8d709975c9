"""Consent receipts: Kantara CR 1.1 fields from the record, signed with the published key."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from urllib.parse import urlsplit

from joserfc import jws
from joserfc.jwk import KeySet

from idp.catalog import CONSENT_TEXT_VERSIONS
from idp.extensions import db
from idp.models import ConsentRecord
from idp.models.types import utcnow
from idp.services import consent_evidence
from idp.services.subjects import subject_for
from tests.factories import log_in, make_client, make_consent, make_member, make_partner


def _given(member, client, language="de", **consent_fields):
    consent = make_consent(member, client, **consent_fields)
    evidence = consent_evidence.evidence_for(
        "Test Partner Website receives your name and email.", consent.purposes, language
    )
    record = consent_evidence.add_record(consent, "given", evidence)
    db.session.commit()
    return consent, record


def _published_keys(client) -> KeySet:
    discovery = client.get("/.well-known/openid-configuration").get_json()
    response = client.get(urlsplit(discovery["jwks_uri"]).path)
    assert response.status_code == 200
    return KeySet.import_key_set(response.get_json())


def test_the_receipt_holds_the_record_and_verifies_with_the_published_key(client, app_ctx):
    member, _, _ = make_member()
    partner = make_partner("Receipt Hotels")
    registered, _secret = make_client(
        partner, scope="openid profile email card_number miles offline_access",
        purposes=["miles", "registration"],
    )
    until = utcnow() + timedelta(days=90)
    consent, record = _given(
        member, registered, scope="openid profile card_number miles", expires_at=until
    )
    log_in(client, member)

    apps = client.get("/account/apps").get_data(as_text=True)
    links = re.findall(r'href="(/account/apps/receipts/\d+)"[^>]*>Download receipt<', apps)
    assert links == [f"/account/apps/receipts/{record.id}"]

    response = client.get(links[0])
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    download = response.get_json()
    receipt = download["receipt"]

    row = db.session.get(ConsentRecord, record.id)
    assert receipt["version"] == "KI-CR-v1.1.0"
    assert receipt["jurisdiction"] == "DE"
    assert receipt["consentTimestamp"] == int(row.created_at.timestamp())
    assert receipt["language"] == row.language == "de"
    assert receipt["piiPrincipalId"] == subject_for(member, registered)
    assert receipt["piiControllers"][0]["piiController"] == "Miles & More GmbH"
    assert receipt["policyUrl"].startswith("https://")
    assert receipt["sensitive"] is False and receipt["spiCat"] == []
    evidence = receipt["consentRecord"]
    assert evidence["action"] == "given"
    assert evidence["scope"] == row.scope
    assert evidence["textVersion"] == row.text_version
    assert evidence["textVersion"] == " ".join(CONSENT_TEXT_VERSIONS[p] for p in row.purposes)
    assert evidence["textSha256"] == row.text_sha256 and len(row.text_sha256) == 64
    (service,) = receipt["services"]
    purposes = {p["purposeCategory"][0]: p for p in service["purposes"]}
    assert len(service["purposes"]) == 2
    miles = service["purposes"][0]
    assert miles["legalBasis"] == "Art. 6(1)(b) GDPR (contract)"
    assert miles["piiCategory"] == ["5 - Network/Service", "7 - Financial"]
    assert miles["primaryPurpose"] is True
    registration = service["purposes"][1]
    assert registration["legalBasis"] == "Art. 6(1)(a) GDPR (consent)"
    assert registration["piiCategory"] == ["1 - Biographical"]  # email was not granted
    for purpose in purposes.values():
        assert purpose["thirdPartyDisclosure"] is True
        assert purpose["thirdPartyName"] == "Receipt Hotels"
        assert purpose["consentType"] == "EXPLICIT"
        assert purpose["termination"].startswith(f"Until {row.expires_at.isoformat()}")

    keys = _published_keys(client)
    token = jws.deserialize_compact(download["jws"], keys, algorithms=["RS256"])
    assert token.headers()["typ"] == "consent-receipt+jwt"
    assert token.headers()["kid"] == receipt["publicKey"]["kid"]
    signed = json.loads(token.payload)
    assert signed["iss"] == "http://127.0.0.1:5000"
    assert signed["jti"] == receipt["consentReceiptID"]
    assert {k: v for k, v in signed.items() if k not in ("iss", "iat", "jti")} == receipt

    # Downloaded again: the same receipt (same id), signed anew.
    again = client.get(links[0]).get_json()
    assert again["receipt"] == receipt


def test_a_tampered_receipt_does_not_verify(client, app_ctx):
    member, _, _ = make_member()
    registered, _secret = make_client()
    _, record = _given(member, registered)
    log_in(client, member)
    signed = client.get(f"/account/apps/receipts/{record.id}").get_json()["jws"]
    header, payload, signature = signed.split(".")
    forged = ".".join([header, payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB"), signature])
    keys = _published_keys(client)
    try:
        jws.deserialize_compact(forged, keys, algorithms=["RS256"])
    except Exception as exc:  # joserfc raises BadSignatureError (or a decode error)
        assert "signature" in type(exc).__name__.lower() or "decode" in str(exc).lower()
    else:
        raise AssertionError("a changed payload verified")


def test_a_withdrawal_has_its_receipt_too(client, app_ctx):
    from idp.services import withdrawal

    member, _, _ = make_member()
    registered, _secret = make_client()
    _given(member, registered)
    withdrawal.withdraw_partner_access(member.id, registered.partner_id)
    withdrawn = db.session.scalars(
        db.select(ConsentRecord).where(
            ConsentRecord.member_id == member.id, ConsentRecord.action == "withdrawn"
        )
    ).one()
    log_in(client, member)
    receipt = client.get(f"/account/apps/receipts/{withdrawn.id}").get_json()["receipt"]
    assert receipt["consentRecord"]["action"] == "withdrawn"
    assert receipt["collectionMethod"] == "Withdrawal by the member on Connected apps"
    assert receipt["services"][0]["purposes"][0]["termination"].startswith("Withdrawn at ")


def test_stop_sharing_pause_and_resume_have_signed_receipts_saying_how(client, app_ctx):
    from idp.services import narrowing, restriction

    member, _, _ = make_member()
    registered, _secret = make_client()
    _given(member, registered, scope="openid profile email")
    narrowing.stop_sharing(member.id, registered.partner_id, "email")
    restriction.pause_partner(member.id, registered.partner_id)
    restriction.resume_partner(member.id, registered.partner_id)
    records = db.session.scalars(
        db.select(ConsentRecord)
        .where(ConsentRecord.member_id == member.id)
        .order_by(ConsentRecord.id)
    ).all()
    assert [r.action for r in records] == ["given", "narrowed", "paused", "resumed"]
    log_in(client, member)
    keys = _published_keys(client)
    methods = {}
    for record in records[1:]:
        download = client.get(f"/account/apps/receipts/{record.id}").get_json()
        verified = jws.deserialize_compact(download["jws"], keys, algorithms=["RS256"])
        signed = json.loads(verified.payload)
        assert signed["collectionMethod"] == download["receipt"]["collectionMethod"]
        assert signed["consentRecord"]["action"] == record.action
        methods[record.action] = download["receipt"]["collectionMethod"]
    assert "Stop sharing" in methods["narrowed"]
    assert "Pause" in methods["paused"] and "Art. 18" in methods["paused"]
    assert "Resume" in methods["resumed"]


def test_another_members_record_is_not_found(client, app_ctx):
    owner, _, _ = make_member()
    other, _, _ = make_member()
    registered, _secret = make_client()
    _, record = _given(owner, registered)
    log_in(client, other)
    assert client.get(f"/account/apps/receipts/{record.id}").status_code == 404
    assert client.get("/account/apps/receipts/999999999").status_code == 404
    assert client.get("/account/apps/receipts/99999999999999999999999").status_code == 404
    assert client.get("/account/apps/receipts/abc").status_code == 404


def test_a_receipt_needs_a_login(client, app_ctx):
    owner, _, _ = make_member()
    registered, _secret = make_client()
    _, record = _given(owner, registered)
    response = client.get(f"/account/apps/receipts/{record.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_consent_without_time_limit_says_so(client, app_ctx):
    member, _, _ = make_member()
    registered, _secret = make_client()
    _, record = _given(member, registered, unlimited=True)
    log_in(client, member)
    receipt = client.get(f"/account/apps/receipts/{record.id}").get_json()["receipt"]
    assert receipt["consentRecord"]["unlimited"] is True
    assert receipt["consentRecord"]["expiresAt"] is None
    (purpose,) = receipt["services"][0]["purposes"]
    assert purpose["termination"] == "Without time limit, until withdrawn on Connected apps"
    assert purpose["piiCategory"] == ["1 - Biographical", "2 - Contact"]
