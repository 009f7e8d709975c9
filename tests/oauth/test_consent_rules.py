"""The rules of granular, limited consent and its evidence (SPEC.md §5, §6).

- an unticked scope's claims never reach the partner (token scope, ID token,
  UserInfo, introspection);
- a limited grant ends at the client's grant period (time moved by editing
  rows), one without time limit does not;
- each decision is stored as append-only evidence with the text version, the
  hash of the exact words shown and the language; a new text version asks again.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from html import unescape
from urllib.parse import urlsplit

import pytest
from babel.dates import format_date
from sqlalchemy import select

from idp import catalog
from idp.extensions import db
from idp.models import Consent, ConsentRecord, Token
from idp.models.types import utcnow
from tests.oauth.conftest import redirect_params

SCOPE = "openid profile email phone card_number miles offline_access"


def introspect(oauth, rp, token):
    return oauth.http.post("/oauth/introspect", data={"token": token}, headers=rp.basic())


def records(oauth, member_id) -> list[ConsentRecord]:
    with oauth.app.app_context():
        rows = db.session.scalars(
            select(ConsentRecord)
            .where(ConsentRecord.member_id == member_id)
            .order_by(ConsentRecord.id)
        ).all()
        db.session.expunge_all()
        return rows


def move_time_forward(oauth, member_id, days: int) -> None:
    """Everything of the member's grants happened ``days`` earlier."""
    delta = timedelta(days=days)
    with oauth.app.app_context():
        for consent in db.session.scalars(select(Consent).where(Consent.member_id == member_id)):
            consent.granted_at -= delta
            if consent.expires_at is not None:
                consent.expires_at -= delta
        for token in db.session.scalars(select(Token).where(Token.member_id == member_id)):
            token.issued_at -= delta
            if token.refresh_expires_at is not None:
                token.refresh_expires_at -= delta
        db.session.commit()


def test_unticked_scope_never_reaches_the_partner(oauth, rp, member_id):
    oauth.login(member_id)
    response = oauth.authorize(rp, scope=SCOPE)
    response = oauth.answer(response, scopes=["profile", "email"])  # phone unticked
    code = redirect_params(response)["code"]
    body = oauth.exchange(rp, code).get_json()
    assert set(body["scope"].split()) == {
        "openid",
        "profile",
        "email",
        "card_number",
        "miles",
        "offline_access",
    }
    id_token = oauth.id_token_claims(body["id_token"])
    userinfo = oauth.http.get(
        "/oauth/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}
    ).get_json()
    assert "email" in userinfo and "card_number" in userinfo
    for claims in (id_token, userinfo):
        assert "phone_number" not in claims and "phone_number_verified" not in claims
    for token in (body["access_token"], body["refresh_token"]):
        assert "phone" not in introspect(oauth, rp, token).get_json()["scope"].split()
    # Refreshing cannot widen it either.
    refreshed = oauth.token(
        rp, grant_type="refresh_token", refresh_token=body["refresh_token"], scope=SCOPE
    )
    assert refreshed.status_code == 400, refreshed.get_json()
    assert refreshed.get_json() == {
        "error": "invalid_scope",
        "error_description": "The scope exceeds the one originally granted.",
    }


def test_required_data_cannot_be_unticked(oauth, rp, member_id):
    oauth.login(member_id)
    response = oauth.answer(oauth.authorize(rp, scope="openid card_number miles email"), scopes=[])
    body = oauth.exchange(rp, redirect_params(response)["code"]).get_json()
    assert set(body["scope"].split()) == {"openid", "card_number", "miles"}


def test_a_limited_grant_ends_with_its_period(oauth, rp, member_id):
    oauth.login(member_id)
    body = oauth.tokens(rp, scope=SCOPE)
    info = introspect(oauth, rp, body["refresh_token"]).get_json()
    assert info["active"] is True
    with oauth.app.app_context():
        consent = db.session.scalars(select(Consent).where(Consent.member_id == member_id)).one()
        period = consent.expires_at - consent.granted_at
        assert period == timedelta(days=90)
        assert info["exp"] == int(consent.expires_at.timestamp())

    move_time_forward(oauth, member_id, days=89)
    still = oauth.token(rp, grant_type="refresh_token", refresh_token=body["refresh_token"])
    assert still.status_code == 200
    body = still.get_json()

    move_time_forward(oauth, member_id, days=2)
    assert introspect(oauth, rp, body["refresh_token"]).get_json() == {"active": False}
    ended = oauth.token(rp, grant_type="refresh_token", refresh_token=body["refresh_token"])
    assert ended.status_code == 400 and ended.get_json()["error"] == "invalid_grant"
    # The screen shows again, saying until when.
    _, page = oauth.consent_page(oauth.authorize(rp, scope="openid email"))
    assert "Access lasts until" in page.get_data(as_text=True)


def test_a_grant_without_time_limit_does_not_end(oauth, rp, member_id):
    oauth.login(member_id)
    response = oauth.answer(oauth.authorize(rp, scope=SCOPE), unlimited=True)
    body = oauth.exchange(rp, redirect_params(response)["code"]).get_json()
    assert "exp" not in introspect(oauth, rp, body["refresh_token"]).get_json()

    move_time_forward(oauth, member_id, days=3650)
    refreshed = oauth.token(rp, grant_type="refresh_token", refresh_token=body["refresh_token"])
    assert refreshed.status_code == 200, refreshed.get_json()
    info = introspect(oauth, rp, refreshed.get_json()["refresh_token"]).get_json()
    assert info["active"] is True and "exp" not in info
    # Remembered: no screen at the next login.
    assert "code" in redirect_params(oauth.authorize(rp, scope="openid email"))


def test_each_decision_is_evidence_of_the_exact_text_shown(oauth, rp, member_id):
    oauth.login(member_id)
    response = oauth.authorize(rp, scope="openid email card_number", ui_locales="de")
    _, page = oauth.consent_page(response)
    html = unescape(page.get_data(as_text=True))
    oauth.answer(response, scopes=["email"])

    [given] = records(oauth, member_id)
    assert given.action == "given" and given.actor == "member"
    assert given.language == "de"
    assert given.scopes == {"openid", "email", "card_number"}
    assert set(given.purposes) == {"registration", "miles"}
    assert given.unlimited is False and given.expires_at is not None
    assert given.text_version == "registration-2026-11-01 miles-2026-11-01"
    assert re.fullmatch(r"[0-9a-f]{64}", given.text_sha256)
    # The hash is of the words on the page, one per line, in the order shown; written
    # out here, so hashing anything else (another order, a word missing) fails.
    until = format_date(given.expires_at, format="long", locale="de")
    shown = [
        "Sky Hotels",
        "partner.example",
        "Miles & More Partnerunternehmen",
        "Test Partner Website möchte Ihr Miles & More Konto verwenden.",
        "Eine Kennung, mit der der Partner Sie bei Ihrem nächsten Besuch wiedererkennt",
        "Optionale Angaben können Sie selbst wählen: Entfernen Sie das Häkchen bei allem, "
        "was Sie nicht teilen möchten.",
        "Registrierung auf der Website des Partners",
        "Auf Grundlage Ihrer Einwilligung (Art. 6 Abs. 1 lit. a DSGVO)",
        "[optional] Ihre E-Mail-Adresse",
        "Meilen sammeln und einlösen",
        "Erforderlich für Ihren Miles & More Teilnahmevertrag (Art. 6 Abs. 1 lit. b DSGVO)",
        "Ihre Miles & More Kartennummer",
        f"Der Zugriff gilt bis zum {until}.",
        "Sky Hotels ist allein dafür verantwortlich, wie Ihre Daten dort verarbeitet werden.",
        "Sie können Ihre Einwilligung jederzeit in Ihrem Miles & More Konto unter "
        "„Verbundene Apps“ widerrufen.",
    ]
    expected = hashlib.sha256("\n".join(shown).encode("utf-8")).hexdigest()
    assert given.text_sha256 == expected
    for line in shown:
        assert line.removeprefix("[optional] ") in html, line
    assert html.index(shown[6]) < html.index("Ihre E-Mail-Adresse") < html.index(shown[9])

    # More data later: the change is recorded too, and earlier rows stay as they were.
    response = oauth.authorize(rp, scope="openid email phone")
    _, page = oauth.consent_page(response)
    shown_language = re.search(r'<html lang="([^"]+)"', page.get_data(as_text=True)).group(1)
    oauth.answer(response, scopes=["phone"])
    first, second = records(oauth, member_id)
    assert (first.id, first.text_sha256, first.scope) == (given.id, given.text_sha256, given.scope)
    assert second.action == "changed" and "phone" in second.scopes
    assert second.language == shown_language
    assert second.text_sha256 != first.text_sha256


def test_the_hash_is_the_sha256_of_the_screen_text(app):
    from idp.services.consent_evidence import evidence_for

    evidence = evidence_for("line one\nline two", ["miles"], "nl")
    assert evidence.text_sha256 == hashlib.sha256(b"line one\nline two").hexdigest()
    assert evidence.text_version == "miles-2026-11-01" and evidence.language == "nl"


def test_a_new_text_version_asks_again_at_next_login(oauth, rp, member_id, monkeypatch):
    oauth.login(member_id)
    body = oauth.tokens(rp, scope="openid email card_number")
    assert "code" in redirect_params(oauth.authorize(rp, scope="openid email"))

    monkeypatch.setitem(catalog.CONSENT_TEXT_VERSIONS, "registration", "registration-2027-01-01")
    response = oauth.authorize(rp, scope="openid email")
    assert urlsplit(response.headers["Location"]).path.startswith("/consent/")
    oauth.answer(response)
    latest = records(oauth, member_id)[-1]
    assert latest.action == "given"
    assert latest.text_version == "registration-2027-01-01 miles-2026-11-01"
    assert "code" in redirect_params(oauth.authorize(rp, scope="openid email"))
    assert introspect(oauth, rp, body["access_token"]).get_json()["active"] is True


def test_deny_records_no_consent(oauth, rp, member_id):
    oauth.login(member_id)
    response = oauth.answer(oauth.authorize(rp, scope="openid email"), decision="deny")
    assert redirect_params(response)["error"] == "access_denied"
    assert records(oauth, member_id) == []


def test_consent_screen_groups_data_by_purpose_with_legal_basis(oauth, member_id):
    rp = oauth.client(
        "Lufthansa",
        category="lhg_airline",
        scope=SCOPE,
        purposes=["miles", "registration"],
        policy_uri="https://lufthansa.example/privacy",
        tos_uri="https://lufthansa.example/terms",
    )
    oauth.login(member_id)
    _, page = oauth.consent_page(oauth.authorize(rp, scope=SCOPE))
    html = page.get_data(as_text=True)
    assert "Lufthansa Group airline" in html
    miles = html.index("Collecting and redeeming miles")
    registration = html.index("Registration on the partner")
    assert miles < html.index("Needed for your Miles &amp; More contract") < registration
    assert registration < html.index("Based on your consent") < html.index('value="email"')
    assert html.index("Your miles balance") < registration
    assert 'href="https://lufthansa.example/privacy"' in html
    assert 'href="https://lufthansa.example/terms"' in html
    assert "Lufthansa alone is responsible" in html
    assert "under Connected apps" in html
    with oauth.app.app_context():
        until = (utcnow() + timedelta(days=90)).year
    assert re.search(rf"Access lasts until \w+ \d+, {until}\.", html)


def test_consent_evidence_cannot_be_changed(oauth, rp, member_id):
    from sqlalchemy import text, update

    from idp.models import AppendOnlyError

    oauth.login(member_id)
    oauth.tokens(rp, scope="openid email")
    with oauth.app.app_context():
        record = db.session.scalars(select(ConsentRecord)).one()
        record.scope = "openid email phone"
        with pytest.raises(AppendOnlyError):
            db.session.flush()
        db.session.rollback()
        with pytest.raises(Exception, match="append-only"):
            with db.session.begin_nested():
                db.session.execute(
                    update(ConsentRecord)
                    .values(scope="openid")
                    .execution_options(synchronize_session=False)
                )
        db.session.rollback()
        stored = db.session.execute(text("SELECT scope FROM consent_records")).scalar_one()
    assert stored == "email openid"
