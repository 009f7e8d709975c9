"""Account deletion (``/account/delete``, GDPR Art. 17, SPEC.md §7).

Refused (wrong password, wrong code, locked out, no CSRF token): nothing
changes. Done: the login fails like an unknown account, the partner's tokens
are dead at introspection, UserInfo and the token endpoint, the partner is
notified (Security Event Token, back-channel logout), the personal data is
gone, the evidence is kept but blocked and unused, ``mam-idp purge`` keeps it
until its retention period ends and erases it then, and the card number is
never issued again.
"""

from __future__ import annotations

import json
from datetime import timedelta
from unittest.mock import patch

import pyotp
import pytest
from sqlalchemy import delete, func, select

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
    MemberErasure,
    OutgoingMail,
    PartnerAccess,
    PartnerNotification,
    Passkey,
    PasskeyChallenge,
    RecoveryCode,
    RetiredCardNumber,
    SSOSession,
)
from idp.models.types import utcnow
from idp.services import audit_log, retention, second_factor
from idp.services.errors import Conflict, NotFound
from idp.services.member_reference import find_member
from idp.services.members import NewMember, create_member
from tests.login_flow import alert_text, csrf_token, h1
from tests.oauth.conftest import OAuth

SCOPE = "openid profile email card_number miles offline_access"
LOGOUT_URI = "https://partner.example/backchannel-logout"
EVENTS_URI = "https://partner.example/security-events"


@pytest.fixture
def oauth(app, client) -> OAuth:
    return OAuth(app, client)


@pytest.fixture
def rp(oauth):
    return oauth.client(
        scope=SCOPE,
        purposes=["registration", "miles"],
        backchannel_logout_uri=LOGOUT_URI,
        security_event_uri=EVENTS_URI,
    )


@pytest.fixture
def connected(oauth, rp):
    """A member logged in, whose consent gave the partner access and refresh tokens."""
    member_id = oauth.member()
    sid = oauth.login(member_id)
    tokens = oauth.tokens(rp, scope=SCOPE)
    with oauth.app.app_context():
        member = db.session.get(Member, member_id)
        card = member.card_number
    return member_id, sid, tokens, card


def _code(oauth, member_id) -> tuple[str, object]:
    """A TOTP code of a step later than any used, and the moment it belongs to."""
    _, _, key = oauth.credentials[member_id]
    moment = max(utcnow(), oauth._totp_moments.get(member_id, utcnow()))
    oauth._totp_moments[member_id] = moment + timedelta(seconds=30)
    return pyotp.TOTP(key).at(moment), moment


def _delete(oauth, member_id, password=None, code=None, csrf=True):
    page = oauth.http.get("/account/delete")
    assert page.status_code == 200
    form = {"password": password or oauth.credentials[member_id][1]}
    moment = utcnow()
    if code is None:
        code, moment = _code(oauth, member_id)
    form["code"] = code
    if csrf:
        form["csrf_token"] = csrf_token(page.get_data(as_text=True))
    with patch.object(second_factor, "utcnow", lambda: moment):
        return oauth.http.post("/account/delete", data=form)


def _more_personal_data(oauth, rp, member_id, sid) -> None:
    """Passkeys, a change of address, mailed links, travel preferences, a pending TOTP key,
    the session's network and what the partner read: each is about the member."""
    with oauth.app.app_context():
        now = utcnow()
        member = db.session.get(Member, member_id)
        member.travel_preferences = {"seat": "aisle", "meal": "vegetarian"}
        db.session.get(Credential, member_id).totp_pending_secret = "JBSWY3DPEHPK3PXP"
        db.session.get(SSOSession, sid).address_prefix = "192.0.2.0/24"
        db.session.add_all(
            [
                Passkey(
                    member_id=member_id,
                    credential_id="deleted-member-credential",
                    public_key=b"\xa5\x01\x02",
                    name="Work laptop",
                    attachment="platform",
                ),
                PasskeyChallenge(
                    challenge_hash="c" * 64,
                    member_id=member_id,
                    purpose="register",
                    expires_at=now + timedelta(minutes=5),
                ),
                EmailChange(
                    member_id=member_id,
                    token_hash="e" * 64,
                    new_email="new-address@example.com",
                    expires_at=now + timedelta(hours=1),
                ),
                OutgoingMail(
                    recipient="new-address@example.com",
                    subject="Confirm your new email address",
                    body="a link",
                    purpose="email_change",
                ),
                AccountLink(
                    member_id=member_id,
                    token_hash="a" * 64,
                    purpose="password_reset",
                    expires_at=now + timedelta(hours=1),
                ),
                PartnerAccess(
                    member_id=member_id,
                    partner_id=rp.partner_id,
                    category="miles",
                    day=now.date(),
                    count=3,
                ),
            ]
        )
        db.session.commit()


def _count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def introspect(oauth, rp, token):
    return oauth.http.post("/oauth/introspect", data={"token": token}, headers=rp.basic())


def _unchanged(oauth, rp, member_id, tokens):
    with oauth.app.app_context():
        member = db.session.get(Member, member_id)
        assert member.email == oauth.credentials[member_id][0]
        assert db.session.get(MemberErasure, member_id) is None
        assert db.session.get(Credential, member_id) is not None
    assert introspect(oauth, rp, tokens["access_token"]).get_json()["active"] is True
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert oauth.http.get("/oauth/userinfo", headers=bearer).status_code == 200


def test_the_page_has_the_words_of_the_interface(oauth, connected):
    html = oauth.http.get("/account/delete").get_data(as_text=True)
    assert h1(html) == "Delete your account"
    assert '<label for="password">Password</label>' in html
    assert '<label for="code">Authentication code</label>' in html
    assert ">Delete my account</button>" in html
    assert 'name="csrf_token"' in html


def test_the_page_needs_a_login(client):
    response = client.get("/account/delete")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_wrong_password_changes_nothing(oauth, rp, connected):
    member_id, _, tokens, _ = connected
    response = _delete(oauth, member_id, password="not the password at all")
    assert response.status_code == 400
    assert "not right" in alert_text(response.get_data(as_text=True))
    _unchanged(oauth, rp, member_id, tokens)


def test_a_wrong_code_changes_nothing(oauth, rp, connected):
    member_id, _, tokens, _ = connected
    response = _delete(oauth, member_id, code="000000")
    assert response.status_code == 400
    assert "has not been deleted" in alert_text(response.get_data(as_text=True))
    response = _delete(oauth, member_id, code="AAAA-BBBB-CCCC-DDDD")
    assert response.status_code == 400
    assert "AAAA-BBBB" not in response.get_data(as_text=True)  # a code is never shown again
    _unchanged(oauth, rp, member_id, tokens)


def test_missing_fields_and_a_missing_csrf_token_change_nothing(oauth, rp, connected):
    member_id, _, tokens, _ = connected
    response = _delete(oauth, member_id, csrf=False)
    assert response.status_code == 400
    assert alert_text(response.get_data(as_text=True))
    empty = oauth.http.post(
        "/account/delete",
        data={"csrf_token": csrf_token(oauth.http.get("/account/delete").get_data(as_text=True))},
    )
    assert empty.status_code == 400
    html = empty.get_data(as_text=True)
    assert 'role="alert"' in html and "Enter your password." in html
    _unchanged(oauth, rp, member_id, tokens)


def test_repeated_failures_lock_the_account_and_the_right_answer_is_refused(oauth, rp, connected):
    member_id, _, tokens, _ = connected
    threshold = oauth.app.config["IDP"].lockout_threshold
    statuses = [
        _delete(oauth, member_id, password=f"wrong password {n}").status_code
        for n in range(threshold)
    ]
    assert statuses[:-1] == [400] * (threshold - 1) and statuses[-1] == 429
    locked = _delete(oauth, member_id)
    assert locked.status_code == 429
    assert "Too many failed attempts" in alert_text(locked.get_data(as_text=True))
    assert int(locked.headers["Retry-After"]) > 0
    _unchanged(oauth, rp, member_id, tokens)


def test_deletion_ends_everything_and_blocks_the_evidence(oauth, rp, connected, runner):
    member_id, sid, tokens, card = connected
    email, password, _ = oauth.credentials[member_id]
    _more_personal_data(oauth, rp, member_id, sid)
    response = _delete(oauth, member_id)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert h1(html) == "Your account has been deleted"
    assert 'role="status"' in html
    # The browser is logged out.
    assert oauth.http.get("/account").status_code == 302

    # The partner's tokens are dead everywhere.
    for token in (tokens["access_token"], tokens["refresh_token"]):
        assert introspect(oauth, rp, token).get_json() == {"active": False}
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert oauth.http.get("/oauth/userinfo", headers=bearer).status_code == 401
    refreshed = oauth.token(rp, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refreshed.status_code == 400 and refreshed.get_json()["error"] == "invalid_grant"

    # The login fails as for an account that never existed.
    for login in (email, card):
        page = oauth.http.get("/login?prompt=login").get_data(as_text=True)
        refused = oauth.http.post(
            "/login", data={"login": login, "password": password, "csrf_token": csrf_token(page)}
        )
        page = oauth.http.get("/login?prompt=login").get_data(as_text=True)
        unknown = oauth.http.post(
            "/login",
            data={
                "login": "nobody-at-all@example.com" if "@" in login else "992000000000007",
                "password": password,
                "csrf_token": csrf_token(page),
            },
        )
        assert refused.status_code == unknown.status_code == 400
        assert alert_text(refused.get_data(as_text=True)) == alert_text(
            unknown.get_data(as_text=True)
        )

    with oauth.app.app_context():
        # The partner was told: a Security Event Token and a back-channel logout.
        kinds = db.session.scalars(
            select(PartnerNotification.kind).where(PartnerNotification.client_id == rp.pk)
        ).all()
        assert sorted(kinds) == ["backchannel_logout", "security_event"]
        sent = [
            json.loads(n.payload)["claims"]
            for n in db.session.scalars(
                select(PartnerNotification).where(PartnerNotification.client_id == rp.pk)
            )
        ]
        logout = next(c for c in sent if "sid" in c)
        assert logout["sid"] == sid
        event = next(c for c in sent if "sid" not in c)
        (revoked,) = [v for k, v in event["events"].items() if k.endswith("/consent-revoked")]
        assert revoked["initiator"] == "account_deletion"

        # Personal data is gone.
        member = db.session.get(Member, member_id)
        assert (member.email, member.given_name, member.family_name) == ("", "", "")
        assert member.birthdate is None and member.phone_number is None
        assert member.miles_balance == 0
        assert db.session.scalars(select(CardNumber).where(CardNumber.member_id == member_id)).all() == []
        assert db.session.get(Credential, member_id) is None
        assert db.session.scalar(
            select(func.count()).select_from(RecoveryCode).where(RecoveryCode.member_id == member_id)
        ) == 0
        assert db.session.scalar(
            select(func.count()).select_from(SSOSession).where(SSOSession.member_id == member_id)
        ) == 0
        assert member.travel_preferences is None
        # The pending TOTP key went with the credential, the network with the session.
        assert _count(Credential, Credential.totp_pending_secret.is_not(None)) == 0
        assert _count(SSOSession, SSOSession.address_prefix == "192.0.2.0/24") == 0
        for model in (Passkey, PasskeyChallenge, EmailChange, AccountLink, PartnerAccess):
            assert _count(model, model.member_id == member_id) == 0, model.__tablename__
        assert all(
            m.recipient != "new-address@example.com"
            for m in db.session.scalars(select(OutgoingMail))
        )

        # The evidence is kept, blocked until its retention period ends, and never used.
        erasure = db.session.get(MemberErasure, member_id)
        period = timedelta(days=oauth.app.config["IDP"].evidence_retention_days)
        assert abs(erasure.evidence_blocked_until - (erasure.erased_at + period)) < timedelta(seconds=1)
        actions = db.session.scalars(
            select(ConsentRecord.action)
            .where(ConsentRecord.member_id == member_id)
            .order_by(ConsentRecord.id)
        ).all()
        assert actions == ["given", "withdrawn"]
        consent = db.session.scalars(select(Consent).where(Consent.member_id == member_id)).one()
        assert consent.withdrawn_at is not None
        events = db.session.scalars(
            select(AuditEvent.event).where(AuditEvent.member_id == member_id)
        ).all()
        assert "account.deleted" in events
        with pytest.raises(NotFound):  # the operators' search knows nobody by that id
            audit_log.search(audit_log.AuditQuery(member=member_id))
        assert audit_log.search(audit_log.AuditQuery(event="account.deleted")) == []
        assert find_member(member_id) is None
        deleted = db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.member_id == member_id, AuditEvent.event == "account.deleted"
            )
        ).one()
        assert email not in json.dumps(deleted.details) and card not in json.dumps(deleted.details)

    # Nobody's Connected apps show it: another member logging in sees nothing of it.
    other = oauth.member()
    oauth.login(other)
    page = oauth.http.get("/account/apps").get_data(as_text=True)
    assert rp.partner_name not in page

    # The card number is never issued again.
    with oauth.app.app_context():
        with pytest.raises(Conflict):
            create_member(
                NewMember(
                    email="someone-new@example.com",
                    password="another long password",
                    given_name="Jan",
                    family_name="Kowalski",
                    card_number=card,
                )
            )


def test_purge_keeps_blocked_evidence_until_its_period_ends_then_erases_it(
    oauth, rp, connected
):
    member_id, _, _, card = connected
    assert _delete(oauth, member_id).status_code == 200

    def counts():
        return (
            db.session.scalar(
                select(func.count()).select_from(ConsentRecord).where(ConsentRecord.member_id == member_id)
            ),
            db.session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.member_id == member_id)
            ),
        )

    with oauth.app.app_context():
        records, events = counts()
        assert records == 2 and events > 3
        # The database refuses to delete blocked audit events directly.
        with pytest.raises(Exception, match="append-only"):
            with db.session.begin_nested():
                db.session.execute(delete(AuditEvent).where(AuditEvent.member_id == member_id))
        # Login analytics hold counts only: neither the deletion nor the purge changes them.
        from idp.services import analytics

        today = utcnow().date()
        figures = [d.as_dict() for d in analytics.report(rp.partner_id, today)]
        erasure = db.session.get(MemberErasure, member_id)
        before_end = erasure.evidence_blocked_until - timedelta(days=1)
        kept = retention.purge(now=before_end)
        assert "consent_records" not in kept and "audit_events" not in kept
        assert counts() == (records, events)

        after_end = erasure.audit_blocked_until + timedelta(seconds=1)
        dry = retention.purge(dry_run=True, now=after_end)
        assert dry["consent_records"] == records and dry["audit_events"] == events
        assert counts() == (records, events)
        done = retention.purge(now=after_end)
        assert done["consent_records"] == records and done["audit_events"] == events
        assert done["members"] == 1 and done["member_erasures"] == 1
        assert counts() == (0, 0)
        assert db.session.get(Member, member_id) is None
        assert [d.as_dict() for d in analytics.report(rp.partner_id, today)] == figures
        # The card number's tombstone stays: still never issued again.
        assert db.session.scalar(select(func.count()).select_from(RetiredCardNumber)) >= 1
        with pytest.raises(Conflict):
            create_member(
                NewMember(
                    email="later@example.com",
                    password="another long password",
                    given_name="Jan",
                    family_name="Kowalski",
                    card_number=card,
                )
            )


def test_purge_command_reports_blocked_tables(oauth, rp, connected, runner):
    member_id, _, _, _ = connected
    assert _delete(oauth, member_id).status_code == 200
    with oauth.app.app_context():
        db.session.execute(
            MemberErasure.__table__.update()
            .where(MemberErasure.member_id == member_id)
            .values(
                evidence_blocked_until=utcnow() - timedelta(days=1),
                audit_blocked_until=utcnow() - timedelta(days=1),
            )
        )
        db.session.commit()
    dry = runner.invoke(args=["purge", "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    planned = json.loads(dry.stdout)["deleted"]
    assert planned["consent_records"] == 2 and planned["members"] == 1
    with oauth.app.app_context():
        assert db.session.get(Member, member_id) is not None
    done = runner.invoke(args=["purge", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["deleted"]["consent_records"] == 2
    with oauth.app.app_context():
        assert db.session.get(Member, member_id) is None


def test_a_recovery_code_is_a_second_factor_too(oauth, rp, connected):
    member_id, _, tokens, _ = connected
    with oauth.app.app_context():
        member = db.session.get(Member, member_id)
        codes = second_factor.new_recovery_codes(member)
        db.session.commit()
    response = _delete(oauth, member_id, code=codes[0])
    assert response.status_code == 200
    assert introspect(oauth, rp, tokens["access_token"]).get_json() == {"active": False}


def test_a_failure_midway_leaves_nothing_half_done(oauth, rp, connected):
    member_id, _, tokens, _ = connected
    from idp.services import account_deletion

    def broken(member):
        raise account_deletion.SQLAlchemyError("the database went away")

    with patch.object(account_deletion, "_erase_personal_fields", broken):
        with pytest.raises(account_deletion.SQLAlchemyError):
            with oauth.app.app_context():
                account_deletion.delete_account(member_id)
    _unchanged(oauth, rp, member_id, tokens)
    with oauth.app.app_context():
        assert db.session.scalars(
            select(Consent.withdrawn_at).where(Consent.member_id == member_id)
        ).all() == [None]
        assert db.session.scalar(
            select(func.count()).select_from(PartnerNotification).where(
                PartnerNotification.client_id == rp.pk
            )
        ) == 0


def test_retention_periods_come_from_the_environment():
    from idp.config import ConfigError, load_settings

    settings = load_settings(
        {"IDP_EVIDENCE_RETENTION_DAYS": "1095", "IDP_AUDIT_RETENTION_DAYS": "30"},
        secret_key="x" * 32,
        data_keys=("A" * 43 + "=",),
    )
    assert (settings.evidence_retention_days, settings.audit_retention_days) == (1095, 30)
    assert load_settings({}, secret_key="x" * 32, data_keys=("A" * 43 + "=",)).audit_retention_days == 3650
    for bad in ("0", "ten years", "-1"):
        with pytest.raises(ConfigError, match="IDP_AUDIT_RETENTION_DAYS"):
            load_settings(
                {"IDP_AUDIT_RETENTION_DAYS": bad}, secret_key="x" * 32, data_keys=("A" * 43 + "=",)
            )


def test_a_linked_profile_is_unlinked_with_its_evidence_kept_then_purged(app_ctx):
    from idp.models import LinkedProfile, LinkingRecord
    from idp.services import account_deletion, linked_profiles
    from tests.factories import make_member

    member, _, _ = make_member()
    member_id = member.id
    linked_profiles.link(member, "lufthansa", "https://id.lufthansa.example", "LH-123", None)
    account_deletion.delete_account(member_id)

    assert linked_profiles.profiles_of(member_id) == []
    assert db.session.scalar(
        select(func.count()).select_from(LinkedProfile).where(LinkedProfile.member_id == member_id)
    ) == 0
    records = db.session.scalars(
        select(LinkingRecord).where(LinkingRecord.member_id == member_id).order_by(LinkingRecord.id)
    ).all()
    assert [(r.action, r.actor) for r in records] == [
        ("linked", "member"),
        ("unlinked", "account_deletion"),
    ]
    # The airline's profile can be linked to another account: the old link is gone.
    other, _, _ = make_member()
    linked_profiles.link(other, "lufthansa", "https://id.lufthansa.example", "LH-123", None)

    erasure = db.session.get(MemberErasure, member_id)
    done = retention.purge(now=erasure.evidence_blocked_until + timedelta(seconds=1))
    assert done["linking_records"] == 2
    assert db.session.scalar(
        select(func.count()).select_from(LinkingRecord).where(LinkingRecord.member_id == member_id)
    ) == 0


def test_every_other_browser_of_the_member_is_logged_out(oauth, rp, connected):
    from tests.factories import log_in as start_session

    member_id, _, _, _ = connected
    other_browser = oauth.app.test_client()
    with oauth.app.app_context():
        other_sid = start_session(other_browser, db.session.get(Member, member_id))
    assert other_browser.get("/account").status_code == 200
    assert _delete(oauth, member_id).status_code == 200
    response = other_browser.get("/account")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    with oauth.app.app_context():
        assert db.session.get(SSOSession, other_sid) is None
