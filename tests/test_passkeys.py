"""Passkeys: added, renamed and removed on the security page; used at the second login step.

The browser's part is played by ``tests.webauthn_authenticator``: real P-256
keys, real authenticator data, client data and "none" attestations, so the
``webauthn`` package checks them as it would a browser's.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from idp.extensions import db
from idp.models import AuditEvent, Lockout, Passkey, PasskeyChallenge, SSOSession
from idp.models.types import utcnow
from idp.services import lockout
from tests.factories import log_in as start_session
from tests.factories import make_member
from tests.login_flow import alert_text, csrf_token, enter_password, log_in, post_form
from tests.oauth.conftest import OAuth
from tests.webauthn_authenticator import SoftwareAuthenticator, b64url

ISSUER = "http://127.0.0.1:5000"
SECURITY = "/account/security"
OPTIONS = "/account/security/passkeys/options"
ADD = "/account/security/passkeys"
LOGIN_OPTIONS = "/login/verify/passkey/options"
LOGIN = "/login/verify/passkey"


def json_post(client, url, body=None, page=SECURITY, csrf=True, **kwargs):
    """POST JSON as passkeys.js does: the page's CSRF token in ``X-CSRFToken``."""
    headers = {"Accept": "application/json"}
    if csrf:
        headers["X-CSRFToken"] = csrf_token(client.get(page).get_data(as_text=True))
    if "data" in kwargs:
        return client.post(
            url, headers=headers, content_type="application/json", data=kwargs["data"]
        )
    return client.post(url, headers=headers, json=body if body is not None else {})


def authenticator(**fields) -> SoftwareAuthenticator:
    return SoftwareAuthenticator(origin=ISSUER, rp_id="127.0.0.1", **fields)


def add_passkey(client, device: SoftwareAuthenticator, **bend):
    options = json_post(client, OPTIONS)
    assert options.status_code == 200, options.get_json()
    credential = device.create(options.get_json()["publicKey"], **bend)
    return json_post(client, ADD, {"credential": credential})


@pytest.fixture
def member(client, app_ctx):
    """A member with an authenticator app, logged in with it just now."""
    member, password, key = make_member()
    log_in(client, member.email, password, key)
    return member, password


def passkeys_of(member_id):
    return list(db.session.scalars(select(Passkey).where(Passkey.member_id == member_id)))


def log_out_and_enter_password(client, member, password):
    post_form(client, "/logout", {})
    response = enter_password(client, member.email, password)
    assert response.headers["Location"].endswith("/login/verify")


def assertion(client, device, **bend):
    options = json_post(client, LOGIN_OPTIONS, page="/login/verify")
    assert options.status_code == 200, options.get_json()
    return options.get_json()["publicKey"], device.get(options.get_json()["publicKey"], **bend)


def failures(member_id) -> int:
    row = db.session.get(Lockout, lockout.member_key(member_id))
    db.session.refresh(row) if row else None
    return row.failures if row else 0


# -- adding, on the security page ---------------------------------------------------------


def test_a_member_adds_a_passkey_and_sees_it_listed(client, member):
    member, _password = member
    html = client.get(SECURITY).get_data(as_text=True)
    assert "<h2" in html and "Passkeys" in html and "You have not added a passkey yet." in html
    assert re.search(r"<button[^>]*>Add passkey</button>", html)
    assert '<script src="/static/js/passkeys.js" defer></script>' in html

    response = add_passkey(client, authenticator())
    assert response.status_code == 201, response.get_json()
    assert response.get_json() == {"redirect": "/account/security"}

    (passkey,) = passkeys_of(member.id)
    assert passkey.name == "Passkey 1"
    assert passkey.attachment == "cross-platform" and passkey.kind == "security_key"
    assert passkey.transports == ["usb"]
    assert passkey.backup_eligible is False and passkey.sign_count == 0
    assert passkey.last_used_at is None and passkey.created_at is not None
    # The member's name for it is personal data: encrypted at rest.
    stored = db.session.execute(text("SELECT name FROM passkeys")).scalar()
    assert "Passkey 1" not in stored

    html = client.get(SECURITY).get_data(as_text=True)
    assert 'role="status"' in html and "Your passkey “Passkey 1” is added." in html
    assert "<h3>Passkey 1</h3>" in html and "Security key" in html and "Not used yet" in html
    assert re.search(r'<label for="passkey-name-[0-9a-f]+">Passkey name</label>', html)
    assert re.search(r"<button[^>]*>Rename</button>", html)
    assert re.search(r"<button[^>]*>Remove</button>", html)
    assert (
        db.session.scalar(select(AuditEvent).where(AuditEvent.event == "passkey.added")) is not None
    )


def test_registration_options_name_this_provider_and_exclude_known_passkeys(client, member):
    member, _password = member
    options = json_post(client, OPTIONS).get_json()["publicKey"]
    assert options["rp"] == {"id": "127.0.0.1", "name": "Miles & More"}
    assert options["user"]["name"] == member.email
    assert member.id not in options["user"]["id"]
    assert options["attestation"] == "none"
    assert options["excludeCredentials"] == []
    device = authenticator(attachment="platform", transports=("internal",), backup_eligible=True)
    assert add_passkey(client, device).status_code == 201
    (known,) = json_post(client, OPTIONS).get_json()["publicKey"]["excludeCredentials"]
    assert known["id"] == b64url(next(iter(device.keys)))
    (passkey,) = passkeys_of(member.id)
    assert passkey.kind == "platform" and passkey.backup_eligible is True
    assert "Synced across your devices" in client.get(SECURITY).get_data(as_text=True)
    # The same authenticator's credential again is refused.
    again = json_post(client, OPTIONS).get_json()["publicKey"]
    duplicate = device.create(again, credential_id=next(iter(device.keys)))
    assert json_post(client, ADD, {"credential": duplicate}).status_code == 400
    # A response whose id is not the credential it attests is refused too.
    mismatched = device.create(json_post(client, OPTIONS).get_json()["publicKey"])
    mismatched["id"] = mismatched["rawId"] = b64url(b"another credential")
    assert json_post(client, ADD, {"credential": mismatched}).status_code == 400
    assert len(passkeys_of(member.id)) == 1


def test_adding_needs_a_recent_two_factor_login(client, app_ctx):
    member, _password, _key = make_member()
    start_session(client, member, amr=("pwd",))
    response = json_post(client, OPTIONS, page="/account")
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["login"] == "/login?next=%2Faccount%2Fsecurity&prompt=login"
    # An old two-factor login will not do either.
    start_session(client, member)
    db.session.execute(
        update(SSOSession)
        .where(SSOSession.member_id == member.id)
        .values(auth_time=utcnow() - timedelta(hours=1))
    )
    db.session.commit()
    assert json_post(client, OPTIONS, page="/account").status_code == 403
    assert json_post(client, ADD, {"credential": {}}, page="/account").status_code == 403
    assert passkeys_of(member.id) == []


def test_adding_without_a_login_is_refused(client):
    response = json_post(client, OPTIONS, page="/login")
    assert response.status_code == 401 and response.get_json()["login"].startswith("/login")


@pytest.mark.parametrize(
    "bend",
    [
        {"origin": "https://evil.example"},
        {"rp_id": "evil.example"},
        {"challenge": b64url(b"x" * 32)},
    ],
    ids=["wrong-origin", "wrong-rp-id", "bad-challenge"],
)
def test_a_registration_that_does_not_verify_is_refused(client, member, bend):
    member, _password = member
    response = add_passkey(client, authenticator(), **bend)
    assert response.status_code == 400
    assert "could not be added" in response.get_json()["detail"]
    assert passkeys_of(member.id) == []
    assert (
        db.session.scalar(select(AuditEvent).where(AuditEvent.event == "passkey.add_failed"))
        is not None
    )


def test_a_registration_challenge_answers_once(client, member):
    member, _password = member
    device = authenticator()
    options = json_post(client, OPTIONS).get_json()["publicKey"]
    first = device.create(options)
    assert json_post(client, ADD, {"credential": first}).status_code == 201
    # The same challenge with another new credential: used already.
    second = device.create(options)
    assert json_post(client, ADD, {"credential": second}).status_code == 400
    assert len(passkeys_of(member.id)) == 1


def test_an_expired_registration_challenge_is_refused(client, member):
    member, _password = member
    options = json_post(client, OPTIONS).get_json()["publicKey"]
    db.session.execute(update(PasskeyChallenge).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    credential = authenticator().create(options)
    assert json_post(client, ADD, {"credential": credential}).status_code == 400


@pytest.mark.parametrize(
    "data",
    [
        "not json",
        "[]",
        '{"credential": "x"}',
        '{"credential": {}}',
        '{"credential": {"id": "a", "rawId": "a", "type": "public-key", "response": {}}}',
        '{"credential": {"response": {"clientDataJSON": "!!!", "attestationObject": 3}}}',
    ],
)
def test_bad_json_gets_a_json_error(client, member, data):
    member, _password = member
    json_post(client, OPTIONS)
    response = json_post(client, ADD, data=data)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["detail"]
    assert passkeys_of(member.id) == []


def test_json_endpoints_need_the_csrf_token(client, member):
    member, _password = member
    response = json_post(client, OPTIONS, csrf=False)
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert db.session.scalar(select(PasskeyChallenge.id)) is None
    options = json_post(client, OPTIONS).get_json()["publicKey"]
    credential = authenticator().create(options)
    assert json_post(client, ADD, {"credential": credential}, csrf=False).status_code == 400
    assert passkeys_of(member.id) == []


# -- naming and removing ----------------------------------------------------------------


def test_a_member_renames_a_passkey(client, member):
    member, _password = member
    add_passkey(client, authenticator())
    (passkey,) = passkeys_of(member.id)
    url = f"/account/security/passkeys/{passkey.id}/rename"
    response = post_form(client, url, {"name": "  My   security key "}, page=SECURITY)
    assert response.status_code == 303 and response.headers["Location"] == SECURITY
    db.session.refresh(passkey)
    assert passkey.name == "My security key"
    assert "The passkey is now called “My security key”." in client.get(SECURITY).get_data(
        as_text=True
    )

    for bad in ("", "   ", "x" * 65, "bad\x00name"):
        refused = post_form(client, url, {"name": bad}, page=SECURITY)
        assert refused.status_code == 400
        assert alert_text(refused.get_data(as_text=True))
    db.session.refresh(passkey)
    assert passkey.name == "My security key"
    # Without the form's token nothing changes.
    assert client.post(url, data={"name": "Sneaky"}).status_code == 400
    db.session.refresh(passkey)
    assert passkey.name == "My security key"


def test_a_member_cannot_touch_another_members_passkey(client, member, app):
    member, _password = member
    other, other_password, other_key = make_member()
    other_client = app.test_client()
    log_in(other_client, other.email, other_password, other_key)
    add_passkey(other_client, authenticator())
    (theirs,) = passkeys_of(other.id)
    base = f"/account/security/passkeys/{theirs.id}"
    assert post_form(client, base + "/rename", {"name": "Mine"}, page=SECURITY).status_code == 404
    assert post_form(client, base + "/remove", {}, page=SECURITY).status_code == 404
    db.session.refresh(theirs)
    assert theirs.name == "Passkey 1"


def test_a_member_with_an_authenticator_app_removes_a_passkey(client, member):
    member, _password = member
    add_passkey(client, authenticator())
    (passkey,) = passkeys_of(member.id)
    response = post_form(
        client, f"/account/security/passkeys/{passkey.id}/remove", {}, page=SECURITY
    )
    assert response.status_code == 303
    assert passkeys_of(member.id) == []
    html = client.get(SECURITY).get_data(as_text=True)
    assert "The passkey is removed." in html and "You have not added a passkey yet." in html


def test_the_last_second_factor_cannot_be_removed(client, app_ctx):
    member, _password, _key = make_member(totp=False)
    start_session(client, member, amr=("pwd", "otp"))
    add_passkey(client, authenticator())
    add_passkey(client, authenticator())
    first, second = sorted(passkeys_of(member.id), key=lambda p: p.name)
    ok = post_form(client, f"/account/security/passkeys/{first.id}/remove", {}, page=SECURITY)
    assert ok.status_code == 303
    refused = post_form(client, f"/account/security/passkeys/{second.id}/remove", {}, page=SECURITY)
    assert refused.status_code == 409
    assert "only second factor" in alert_text(refused.get_data(as_text=True))
    assert [p.id for p in passkeys_of(member.id)] == [second.id]


# -- the second login step ----------------------------------------------------------------


def test_login_with_a_passkey_gives_hwk_in_the_id_token(app, client, app_ctx):
    oauth = OAuth(app, client)
    member_id = oauth.member()
    email, password, key = oauth.credentials[member_id]
    log_in(client, email, password, key)
    device = authenticator()
    add_passkey(client, device)
    post_form(client, "/logout", {})

    assert "Use a passkey" not in client.get("/login").get_data(as_text=True)
    enter_password(client, email, password)
    html = client.get("/login/verify").get_data(as_text=True)
    assert re.search(r"<button[^>]*>Use a passkey</button>", html)
    options, credential = assertion(client, device)
    assert [c["id"] for c in options["allowCredentials"]] == [b64url(next(iter(device.keys)))]
    assert options["rpId"] == "127.0.0.1"
    response = json_post(client, LOGIN, {"credential": credential}, page="/login/verify")
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"redirect": "/account"}

    session = db.session.scalar(
        select(SSOSession).where(SSOSession.member_id == member_id, SSOSession.ended_at.is_(None))
    )
    assert session.amr == ["pwd", "hwk", "mfa"]
    (passkey,) = passkeys_of(member_id)
    assert passkey.sign_count == 1 and passkey.last_used_at is not None
    assert "Last used" in client.get(SECURITY).get_data(as_text=True)

    rp = oauth.client()
    claims = oauth.id_token_claims(oauth.tokens(rp)["id_token"])
    assert claims["amr"] == ["pwd", "hwk", "mfa"]


def test_a_synced_passkey_gives_swk(client, member):
    member, password = member
    device = authenticator(
        backup_eligible=True, attachment="platform", transports=("internal", "hybrid"), counts=False
    )
    add_passkey(client, device)
    log_out_and_enter_password(client, member, password)
    _options, credential = assertion(client, device)
    response = json_post(client, LOGIN, {"credential": credential}, page="/login/verify")
    assert response.status_code == 200, response.get_json()
    session = db.session.scalar(
        select(SSOSession).where(SSOSession.member_id == member.id, SSOSession.ended_at.is_(None))
    )
    assert session.amr == ["pwd", "swk", "mfa"]


@pytest.mark.parametrize(
    "bend",
    [
        {"origin": "http://127.0.0.1:5001"},
        {"rp_id": "evil.example"},
        {"challenge": b64url(b"y" * 32)},
    ],
    ids=["wrong-origin", "wrong-rp-id", "bad-challenge"],
)
def test_a_wrong_assertion_is_refused_and_counted(client, member, bend):
    member, password = member
    device = authenticator()
    add_passkey(client, device)
    log_out_and_enter_password(client, member, password)
    _options, credential = assertion(client, device, **bend)
    response = json_post(client, LOGIN, {"credential": credential}, page="/login/verify")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert "could not be verified" in response.get_json()["detail"]
    assert failures(member.id) == 1
    assert (
        db.session.scalar(
            select(SSOSession).where(
                SSOSession.member_id == member.id, SSOSession.ended_at.is_(None)
            )
        )
        is None
    )
    event = db.session.scalar(
        select(AuditEvent)
        .where(AuditEvent.event == "login.second_factor_failed")
        .order_by(AuditEvent.id.desc())
    )
    assert event.details["method"] == "passkey"


def test_a_replayed_assertion_is_refused(client, member):
    member, password = member
    device = authenticator()
    add_passkey(client, device)
    log_out_and_enter_password(client, member, password)
    options, credential = assertion(client, device)
    # The first answer is spent on a wrong signature: the challenge is used up all the same.
    broken = {**credential, "response": {**credential["response"], "signature": b64url(b"0" * 70)}}
    assert json_post(client, LOGIN, {"credential": broken}, page="/login/verify").status_code == 400
    assert (
        json_post(client, LOGIN, {"credential": credential}, page="/login/verify").status_code
        == 400
    )
    assert failures(member.id) == 2
    # A fresh challenge works; sending that same assertion again does not.
    _options, fresh = assertion(client, device)
    assert json_post(client, LOGIN, {"credential": fresh}, page="/login/verify").status_code == 200
    post_form(client, "/logout", {})
    enter_password(client, member.email, password)
    assert json_post(client, LOGIN, {"credential": fresh}, page="/login/verify").status_code == 400


def test_a_signature_counter_that_goes_back_is_refused(client, member):
    member, password = member
    device = authenticator()
    add_passkey(client, device)
    log_out_and_enter_password(client, member, password)
    _options, credential = assertion(client, device)
    assert (
        json_post(client, LOGIN, {"credential": credential}, page="/login/verify").status_code
        == 200
    )
    # A clone of the authenticator, with the counter where it was before.
    post_form(client, "/logout", {})
    enter_password(client, member.email, password)
    next(iter(device.keys.values())).sign_count = 0
    _options, cloned = assertion(client, device)
    assert json_post(client, LOGIN, {"credential": cloned}, page="/login/verify").status_code == 400


def test_an_unknown_credential_is_refused(client, member, app):
    member, password = member
    add_passkey(client, authenticator())
    # Another member's passkey is unknown for this one.
    other, other_password, other_key = make_member()
    other_client = app.test_client()
    log_in(other_client, other.email, other_password, other_key)
    theirs = authenticator()
    add_passkey(other_client, theirs)
    log_out_and_enter_password(client, member, password)
    options = json_post(client, LOGIN_OPTIONS, page="/login/verify").get_json()["publicKey"]
    credential = theirs.get(options, credential_id=next(iter(theirs.keys)))
    response = json_post(client, LOGIN, {"credential": credential}, page="/login/verify")
    assert response.status_code == 400 and failures(member.id) == 1


@pytest.mark.parametrize("data", ["not json", "{}", '{"credential": []}'])
def test_bad_json_at_login_gets_a_json_error(client, member, data):
    member, password = member
    add_passkey(client, authenticator())
    log_out_and_enter_password(client, member, password)
    response = json_post(client, LOGIN, page="/login/verify", data=data)
    assert response.status_code == 400 and response.mimetype == "application/problem+json"


def test_malformed_assertions_are_refused_and_counted(client, member):
    member, password = member
    device = authenticator()
    add_passkey(client, device)
    log_out_and_enter_password(client, member, password)
    _options, credential = assertion(client, device)
    for broken in (
        {"id": 3},
        {**credential, "response": {"clientDataJSON": "%%%"}},
        {**credential, "response": {**credential["response"], "authenticatorData": "AAAA"}},
    ):
        response = json_post(client, LOGIN, {"credential": broken}, page="/login/verify")
        assert response.status_code == 400
    assert failures(member.id) == 3


def test_login_with_a_passkey_needs_the_password_first_and_the_csrf_token(client, member):
    member, password = member
    device = authenticator()
    add_passkey(client, device)
    post_form(client, "/logout", {})
    response = json_post(client, LOGIN_OPTIONS, page="/login")
    assert response.status_code == 400 and response.get_json()["login"] == "/login"
    enter_password(client, member.email, password)
    assert json_post(client, LOGIN_OPTIONS, page="/login/verify", csrf=False).status_code == 400
    _options, credential = assertion(client, device)
    no_token = json_post(client, LOGIN, {"credential": credential}, csrf=False)
    assert no_token.status_code == 400
    assert (
        db.session.scalar(
            select(SSOSession).where(
                SSOSession.member_id == member.id, SSOSession.ended_at.is_(None)
            )
        )
        is None
    )


def test_a_member_without_a_passkey_is_not_offered_one(client, app_ctx):
    member, password, _key = make_member()
    enter_password(client, member.email, password)
    assert "Use a passkey" not in client.get("/login/verify").get_data(as_text=True)
    response = json_post(client, LOGIN_OPTIONS, page="/login/verify")
    assert response.status_code == 400


def test_wrong_assertions_lock_the_account(client, member):
    member, password = member
    device = authenticator()
    add_passkey(client, device)
    log_out_and_enter_password(client, member, password)
    statuses = []
    for _attempt in range(6):
        _options, credential = assertion(client, device, origin="https://evil.example")
        statuses.append(
            json_post(client, LOGIN, {"credential": credential}, page="/login/verify").status_code
        )
    assert statuses == [400, 400, 400, 400, 429, 429]
    _options, good = assertion(client, device)
    locked = json_post(client, LOGIN, {"credential": good}, page="/login/verify")
    assert locked.status_code == 429 and "Retry-After" in locked.headers
    assert "Too many failed attempts" in locked.get_json()["detail"]


def test_the_per_address_limit_answers_the_script_in_json(client, member, app, monkeypatch):
    from dataclasses import replace

    member, password = member
    add_passkey(client, authenticator())
    log_out_and_enter_password(client, member, password)
    monkeypatch.setitem(app.config, "IDP", replace(app.config["IDP"], login_rate_limit="1/minute"))
    client.environ_base["REMOTE_ADDR"] = "198.51.100.77"
    assert json_post(client, LOGIN_OPTIONS, page="/login/verify").status_code == 200
    limited = json_post(client, LOGIN_OPTIONS, page="/login/verify")
    assert limited.status_code == 429 and limited.mimetype == "application/problem+json"
    assert "Too many attempts" in limited.get_json()["detail"]
