"""Your data (``/account/export``) and what partners read (``partner_access``), over HTTP.

The reads are real: a partner gets tokens through the code flow (an ID token
with member claims asked for in the ``claims`` parameter), calls UserInfo and
the miles API, and the export then says exactly that, checked against the
database, with nothing of another member in it and no secret at all.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from idp.extensions import db
from idp.models import (
    AccountLink,
    AuditEvent,
    CardNumber,
    Consent,
    ConsentRecord,
    Credential,
    EmailChange,
    Member,
    PartnerAccess,
    Passkey,
    SSOSession,
    Token,
)
from idp.models.token import hash_value
from idp.models.types import utcnow
from idp.services import consent_usage
from tests.factories import log_in
from tests.login_flow import alert_text, csrf_token, h1
from tests.oauth.conftest import OAuth

PAGE = "/account/export"
DOWNLOAD = "/account/export/download"
SCOPE = "openid profile email card_number miles"
#: The keys INTERFACE.md promises.
KEYS = {
    "member",
    "card_numbers",
    "consents",
    "consent_records",
    "partner_access",
    "linked_profiles",
    "sessions",
    "audit_events",
}


@pytest.fixture
def oauth(app, client) -> OAuth:
    return OAuth(app, client)


@pytest.fixture
def rp(oauth):
    return oauth.client(
        "Sky Hotels",
        scope="openid profile email phone card_number miles status offline_access",
        purposes=["registration", "miles"],
    )


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def download(http):
    """The export as the page's button sends it: the page's CSRF token in a POST."""
    html = http.get(PAGE).get_data(as_text=True)
    return http.post(DOWNLOAD, data={"csrf_token": csrf_token(html)})


def partner_reads(oauth: OAuth, rp, http) -> dict:
    """Tokens by the code flow with ``email`` in the ID token, 2 UserInfo and 3 miles reads."""
    body = oauth.tokens(rp, scope=SCOPE, claims=json.dumps({"id_token": {"email": None}}))
    assert "email" in oauth.id_token_claims(body["id_token"])
    for _ in range(2):
        assert http.get("/oauth/userinfo", headers=bearer(body["access_token"])).status_code == 200
    for _ in range(3):
        assert http.get("/api/v1/me/miles", headers=bearer(body["access_token"])).status_code == 200
    return body


def add_account_data(app, member_id: str, tag: str) -> None:
    """Travel preferences, a pending TOTP key, the sessions' network, a passkey, a change
    of address and a mailed link, each naming ``tag`` where it can."""
    with app.app_context():
        now = utcnow()
        db.session.get(Member, member_id).travel_preferences = {"seat": f"{tag}-seat"}
        db.session.get(Credential, member_id).totp_pending_secret = f"PENDING{tag.upper()}KEY"
        for session in db.session.scalars(
            select(SSOSession).where(SSOSession.member_id == member_id)
        ):
            session.address_prefix = f"{tag}-network/24"
        db.session.add_all(
            [
                Passkey(
                    member_id=member_id,
                    credential_id=f"{tag}-credential-id",
                    public_key=f"{tag}-public-key".encode(),
                    name=f"{tag} phone",
                    attachment="cross-platform",
                    backup_eligible=True,
                    backed_up=True,
                    last_used_at=now,
                ),
                EmailChange(
                    member_id=member_id,
                    token_hash=hash_value(f"{tag}-change"),
                    new_email=f"{tag}-new@example.com",
                    expires_at=now + timedelta(hours=1),
                ),
                AccountLink(
                    member_id=member_id,
                    token_hash=hash_value(f"{tag}-link"),
                    purpose="enrolment",
                    expires_at=now + timedelta(hours=1),
                ),
            ]
        )
        db.session.commit()


def access_rows(app, member_id: str) -> set[tuple]:
    with app.app_context():
        rows = db.session.scalars(select(PartnerAccess).where(PartnerAccess.member_id == member_id))
        return {(r.partner_id, r.category, r.day.isoformat(), r.count) for r in rows}


def audit_count(app, member_id: str, event: str | None = None) -> int:
    with app.app_context():
        query = select(AuditEvent).where(AuditEvent.member_id == member_id)
        if event:
            query = query.where(AuditEvent.event == event)
        return len(db.session.scalars(query).all())


# -- the export of real reads ---------------------------------------------------------


def test_export_holds_what_the_database_holds_for_the_member_and_nothing_else(
    app, client, oauth, rp
):
    member_id = oauth.member(phone_number="+4969123456", birthdate="1980-02-29", miles_balance=4200)
    other_id = oauth.member(given_name="Otto", family_name="Andersson")
    # Another member at the same partner, with reads of its own, in another browser.
    other_browser = app.test_client()
    other = OAuth(app, other_browser)
    other.credentials = oauth.credentials
    other.login(other_id)
    other_tokens = partner_reads(other, rp, other_browser)

    oauth.login(member_id)
    tokens = partner_reads(oauth, rp, client)
    add_account_data(app, member_id, "mine")
    add_account_data(app, other_id, "theirs")

    response = download(client)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert ".json" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    text = response.get_data(as_text=True)
    document = json.loads(text)
    assert KEYS <= set(document)

    today = utcnow().date().isoformat()
    # What the partner read: userinfo x2 (profile, email, card number, miles), the miles
    # API x3 (card number, miles), the ID token's email once.
    expected = {
        (rp.partner_id, "profile", today, 2),
        (rp.partner_id, "email", today, 3),
        (rp.partner_id, "card_number", today, 5),
        (rp.partner_id, "miles", today, 5),
    }
    assert access_rows(app, member_id) == expected
    exported = {
        (a["partner_id"], a["category"], a["day"], a["count"]) for a in document["partner_access"]
    }
    assert exported == expected
    assert {a["partner"] for a in document["partner_access"]} == {"Sky Hotels"}
    assert {a["category"]: a["data_category"] for a in document["partner_access"]} == {
        "profile": "basic_data",
        "email": "basic_data",
        "card_number": "card_number",
        "miles": "programme_data",
    }

    with app.app_context():
        member = db.session.get(Member, member_id)
        assert document["member"]["id"] == member.id
        assert document["member"]["email"] == member.email
        assert document["member"]["given_name"] == member.given_name
        assert document["member"]["phone_number"] == "+4969123456"
        assert document["member"]["birthdate"] == "1980-02-29"
        assert document["member"]["miles_balance"] == 4200
        cards = db.session.scalars(select(CardNumber).where(CardNumber.member_id == member_id))
        assert [c["number"] for c in document["card_numbers"]] == [c.number for c in cards]
        assert document["card_numbers"][0]["current"] is True
        consents = db.session.scalars(select(Consent).where(Consent.member_id == member_id)).all()
        assert [c["id"] for c in document["consents"]] == [c.id for c in consents]
        assert document["consents"][0]["scopes"] == sorted(SCOPE.split())
        assert document["consents"][0]["partner"] == "Sky Hotels"
        records = db.session.scalars(
            select(ConsentRecord).where(ConsentRecord.member_id == member_id)
        ).all()
        assert sorted(r["id"] for r in document["consent_records"]) == sorted(r.id for r in records)
        assert document["consent_records"][0]["action"] == "given"
        assert document["consent_records"][0]["text_sha256"] == records[0].text_sha256
        sessions = db.session.scalars(
            select(SSOSession).where(SSOSession.member_id == member_id)
        ).all()
        assert sorted(s["sid"] for s in document["sessions"]) == sorted(s.id for s in sessions)
        member_tokens = db.session.scalars(select(Token).where(Token.member_id == member_id)).all()
        assert len(document["tokens"]) == len(member_tokens) == 1
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.member_id == member_id)
        ).all()
        # Every event of the member before the export, in order; the export's own comes after.
        assert [e["event"] for e in document["audit_events"]] == [
            e.event for e in events if e.event != "account.data_exported"
        ]
        assert document["linked_profiles"] == []
        assert document["member"]["travel_preferences"] == {"seat": "mine-seat"}
        assert {s["address_prefix"] for s in document["sessions"]} == {"mine-network/24"}
        passkey = db.session.scalars(select(Passkey).where(Passkey.member_id == member_id)).one()
        assert document["second_factors"]["passkeys"] == [
            {
                "name": "mine phone",
                "kind": "security_key",
                "synced": True,
                "added_at": passkey.created_at.isoformat(),
                "last_used_at": passkey.last_used_at.isoformat(),
            }
        ]
        change = db.session.scalars(
            select(EmailChange).where(EmailChange.member_id == member_id)
        ).one()
        assert document["email_changes"] == [
            {
                "new_email": "mine-new@example.com",
                "requested_at": change.created_at.isoformat(),
                "expires_at": change.expires_at.isoformat(),
                "confirmed_at": None,
                "cancelled_at": None,
            }
        ]
        link = db.session.scalars(
            select(AccountLink).where(AccountLink.member_id == member_id)
        ).one()
        assert document["account_links"] == [
            {
                "purpose": "enrolment",
                "created_at": link.created_at.isoformat(),
                "expires_at": link.expires_at.isoformat(),
                "used_at": None,
            }
        ]
        credential = db.session.get(Credential, member_id)
        session_hashes = [s.token_hash for s in sessions]
        other_member = db.session.get(Member, other_id)

        # No secret of any kind.
        secrets = [
            credential.password_hash,
            credential.totp_secret,
            tokens["access_token"],
            hash_value(tokens["access_token"]),
            tokens["id_token"],
            member.pairwise_salt,
            member.email_index,
            *session_hashes,
            credential.totp_pending_secret,
            passkey.credential_id,
            hash_value("mine-change"),
            hash_value("mine-link"),
        ]
        if tokens.get("refresh_token"):
            secrets += [tokens["refresh_token"], hash_value(tokens["refresh_token"])]
        for secret in secrets:
            assert secret not in text
        assert "$argon2" not in text
        assert "public-key" not in text and "public_key" not in text

        # Nothing of the other member.
        for value in (
            other_id,
            other_member.email,
            other_member.card_number,
            other_tokens["access_token"],
        ):
            assert value not in text
        assert "Andersson" not in text
        # Nor its passkeys, address changes, links, preferences, network or keys.
        assert "theirs" not in text.lower()
    assert all(e["event"] for e in document["audit_events"])

    # The export itself is audited, once.
    assert audit_count(app, member_id, "account.data_exported") == 1


def test_connected_apps_shows_what_each_partner_read(app, client, oauth, rp):
    member_id = oauth.member()
    oauth.login(member_id)
    partner_reads(oauth, rp, client)
    html = client.get("/account/apps").get_data(as_text=True)
    section = html[html.index('id="partner-' + rp.partner_id) :]
    assert "What it read" in section
    table = section[section.index('class="history partner-access"') : section.index("</table>")]
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", table, re.S)]
    rows = [cells[i : i + 3] for i in range(0, len(cells), 3)]
    counts = {row[0]: row[2] for row in rows}
    assert counts == {
        "Your Miles & More card number": "5",
        "Your miles balance": "5",
        "Your email address": "3",
        "Your name, gender, date of birth, academic title and preferred language": "2",
    }


def test_each_id_token_with_member_claims_counts_as_a_read(app, oauth, rp):
    member_id = oauth.member()
    oauth.login(member_id)
    claims = json.dumps({"id_token": {"email": None, "miles_balance": None}})
    first = oauth.tokens(rp, scope="openid email offline_access", claims=claims)
    refreshed = oauth.token(rp, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert refreshed.status_code == 200
    assert "email" in oauth.id_token_claims(refreshed.get_json()["id_token"])
    # miles was not granted, so it was neither released nor counted.
    today = utcnow().date().isoformat()
    assert access_rows(app, member_id) == {(rp.partner_id, "email", today, 2)}


def test_a_partner_that_read_nothing_says_so(app, client, oauth, rp):
    member_id = oauth.member()
    oauth.login(member_id)
    oauth.tokens(rp, scope="openid email")  # no member claims in the ID token, no call
    html = client.get("/account/apps").get_data(as_text=True)
    assert "Sky Hotels has read none of your data in the last 90 days." in html
    assert access_rows(app, member_id) == set()


def test_a_read_releasing_only_the_subject_counts_nothing(app, client, oauth, rp):
    member_id = oauth.member()
    oauth.login(member_id)
    body = oauth.tokens(rp, scope="openid")
    claims = client.get("/oauth/userinfo", headers=bearer(body["access_token"])).get_json()
    assert set(claims) == {"sub"}
    assert access_rows(app, member_id) == set()


def test_a_read_that_cannot_be_recorded_releases_nothing(app, client, oauth, rp, monkeypatch):
    member_id = oauth.member()
    oauth.login(member_id)
    body = oauth.tokens(rp, scope="openid email miles")

    def refuse(*args, **kwargs):
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(consent_usage, "count_read", refuse)
    for url in ("/oauth/userinfo", "/api/v1/me/miles"):
        response = client.get(url, headers=bearer(body["access_token"]))
        assert response.status_code == 503
        assert response.get_json()["error"] == "temporarily_unavailable"
        assert "email" not in response.get_json() and "miles_balance" not in response.get_json()
    assert access_rows(app, member_id) == set()


# -- the page and its bad input -----------------------------------------------------------


def test_the_page_has_its_heading_and_button(client, oauth):
    oauth.login(oauth.member())
    response = client.get(PAGE)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert h1(html) == "Your data"
    assert re.search(r"<button[^>]*>\s*Download my data\s*</button>", html)
    assert f'action="{DOWNLOAD}"' in html and 'method="post"' in html


def test_not_logged_in_is_sent_to_the_login_page(app, client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=%2Faccount%2Fexport")
    response = client.post(DOWNLOAD, data={})
    assert response.status_code in (302, 400)
    assert "attachment" not in response.headers.get("Content-Disposition", "")


@pytest.mark.parametrize("token", [None, "", "not-the-token"])
def test_without_a_valid_csrf_token_nothing_is_exported(app, client, oauth, token):
    member_id = oauth.member()
    oauth.login(member_id)
    client.get(PAGE)
    data = {} if token is None else {"csrf_token": token}
    response = client.post(DOWNLOAD, data=data)
    assert response.status_code == 400
    assert "Content-Disposition" not in response.headers
    assert alert_text(response.get_data(as_text=True))
    assert audit_count(app, member_id, "account.data_exported") == 0


def test_an_old_login_must_log_in_again_first(app, client, oauth):
    member_id = oauth.member()
    oauth.login(member_id, auth_time=utcnow() - timedelta(hours=2))
    page = client.get(PAGE).get_data(as_text=True)
    assert "you will be asked to log in again" in page
    response = client.post(DOWNLOAD, data={"csrf_token": csrf_token(page)})
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login?next=%2Faccount%2Fexport")
    assert "prompt=login" in response.headers["Location"]
    assert "Content-Disposition" not in response.headers
    assert audit_count(app, member_id, "account.data_exported") == 0


def test_a_login_without_a_second_factor_must_log_in_again_first(app, client, oauth):
    member_id = oauth.member()
    with app.app_context():
        log_in(client, db.session.get(Member, member_id), amr=("pwd",))
    page = client.get(PAGE).get_data(as_text=True)
    response = client.post(DOWNLOAD, data={"csrf_token": csrf_token(page)})
    assert response.status_code == 303
    assert "prompt=login" in response.headers["Location"]
    assert audit_count(app, member_id, "account.data_exported") == 0


def test_the_download_is_a_post(client, oauth):
    oauth.login(oauth.member())
    assert client.get(DOWNLOAD).status_code == 405
