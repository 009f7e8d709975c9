"""Linking a Lufthansa Group ID profile, logging in with it and unlinking it, against a real
airline ID service (another instance of this provider in a process of its own)."""

from __future__ import annotations

import requests
from sqlalchemy import select

from idp.extensions import db
from idp.linking import metadata, upstreams
from idp.models import AuditEvent, Member, UpstreamRequest
from idp.services import linked_profiles
from tests.factories import issue_token, log_in, make_client, make_member
from tests.linking.conftest import ISSUER, path_of, query_of
from tests.linking.upstream import drive_upstream
from tests.login_flow import alert_text, csrf_token, h1, post_form, totp_code


def start(client, airline: str = "lufthansa"):
    page = client.get("/account/linked-profiles").get_data(as_text=True)
    return client.post(
        f"/account/linked-profiles/{airline}/link", data={"csrf_token": csrf_token(page)}
    )


def link_through_airline(client, http, profile, decision="allow"):
    """Link profile: the airline's login and consent, then the callback; returns both."""
    started = start(client)
    assert started.status_code == 303, started.get_data(as_text=True)
    back = drive_upstream(http, started.headers["Location"], profile, ISSUER, decision)
    return back, client.get(path_of(back))


def events(name: str, member_id=None) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.event == name)
    if member_id:
        query = query.where(AuditEvent.member_id == member_id)
    return list(db.session.scalars(query))


def test_linking_needs_both_logins_and_keeps_the_consent_evidence(
    linking_app, app_ctx, client, airline, unique
):
    member, _, _ = make_member()
    log_in(client, member)
    started = start(client)
    assert started.status_code == 303
    request = query_of(started.headers["Location"])
    assert started.headers["Location"].startswith(airline.url + "/")
    assert request["redirect_uri"] == f"{ISSUER}/linking/lufthansa/callback"
    assert request["code_challenge_method"] == "S256" and request["scope"] == "openid"
    assert len(request["state"]) >= 32 and len(request["nonce"]) >= 32
    assert request["ui_locales"] == "en"  # the airline speaks the member's language
    profile = airline.new_profile(unique("lh") + "@example.com")

    with requests.Session() as http:
        back = drive_upstream(http, started.headers["Location"], profile, ISSUER)
    assert query_of(back)["iss"] == airline.url  # RFC 9207, checked by this provider
    done = client.get(path_of(back))
    assert done.status_code == 303 and done.headers["Location"].endswith("/account/linked-profiles")

    page = client.get("/account/linked-profiles").get_data(as_text=True)
    assert h1(page) == "Linked profiles"
    assert 'role="status"' in page and "Your Lufthansa profile is linked." in page
    [linked] = linked_profiles.profiles_of(member.id)
    assert (linked.airline, linked.issuer) == ("lufthansa", airline.url)
    assert linked.subject in page and ">Unlink</button>" in page
    [record] = linked_profiles.history(member.id)
    assert (record.action, record.subject, record.language) == ("linked", linked.subject, "en")
    assert record.text_version.startswith("lhg-link-") and len(record.text_sha256) == 64
    assert events("linking.linked", member.id)

    # The same answer again (a replay) links nothing and says why.
    replay = client.get(path_of(back))
    assert replay.status_code == 400
    assert h1(replay.get_data(as_text=True)) == "Linking with Lufthansa did not work"
    assert len(linked_profiles.profiles_of(member.id)) == 1


def test_login_with_a_linked_profile_still_asks_the_second_factor(
    linking_app, app_ctx, client, airline, unique
):
    member, _, key = make_member()
    log_in(client, member)
    profile = airline.new_profile(unique("lh") + "@example.com")
    with requests.Session() as http:
        link_through_airline(client, http, profile)
        assert linked_profiles.profiles_of(member.id)

        browser = linking_app.test_client()
        login_page = browser.get("/login?next=/account/apps").get_data(as_text=True)
        assert ">Log in with Lufthansa</button>" in login_page
        started = browser.post(
            "/login/with/lufthansa?next=/account/apps",
            data={"csrf_token": csrf_token(login_page)},
        )
        assert started.status_code == 303
        # Still logged in at the airline: straight back, no password asked there.
        back = drive_upstream(http, started.headers["Location"], None, ISSUER)
    answered = browser.get(path_of(back))
    assert answered.status_code == 302 and answered.headers["Location"].endswith("/login/verify")
    # Not logged in yet: only the Miles & More second factor makes it a session.
    assert browser.get("/account").status_code == 302
    verified = post_form(browser, "/login/verify", {"code": totp_code(key)})
    assert verified.status_code == 302 and verified.headers["Location"].endswith("/account/apps")
    assert browser.get("/account").status_code == 200
    [succeeded] = events("login.succeeded", member.id)[-1:]
    assert succeeded.details["amr"] == ["fed", "otp"]
    assert events("login.upstream_authenticated", member.id)


def test_an_unlinked_profile_logs_nobody_in_and_matches_no_email(
    linking_app, app_ctx, airline, unique
):
    email = unique("same") + "@example.com"
    make_member(email=email)  # a member with the profile's very email address
    members_before = db.session.query(Member).count()
    profile = airline.new_profile(email)
    browser = linking_app.test_client()
    login_page = browser.get("/login").get_data(as_text=True)
    started = browser.post("/login/with/lufthansa", data={"csrf_token": csrf_token(login_page)})
    with requests.Session() as http:
        back = drive_upstream(http, started.headers["Location"], profile, ISSUER)
    page = browser.get(path_of(back))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert h1(html) == "This Lufthansa profile is not linked"
    assert "No account was created" in html
    assert browser.get("/account").status_code == 302
    assert browser.get("/login/verify").headers["Location"].endswith("/login")
    assert db.session.query(Member).count() == members_before
    assert events("login.upstream_not_linked")


def test_a_profile_linked_to_another_member_is_refused_and_audited(
    linking_app, app_ctx, airline, unique
):
    first, _, _ = make_member()
    second, _, _ = make_member()
    profile = airline.new_profile(unique("lh") + "@example.com")
    with requests.Session() as http:
        one = linking_app.test_client()
        log_in(one, first)
        link_through_airline(one, http, profile)
        other = linking_app.test_client()
        log_in(other, second)
        _back, answered = link_through_airline(other, http, None)
    assert answered.status_code == 303
    page = other.get("/account/linked-profiles").get_data(as_text=True)
    assert "already linked to another Miles &amp; More account" in alert_text(page) or (
        "already linked to another Miles & More account" in alert_text(page)
    )
    assert linked_profiles.profiles_of(second.id) == []
    assert len(linked_profiles.profiles_of(first.id)) == 1
    [refused] = events("linking.refused", second.id)
    assert refused.details["reason"] == "linked_to_another_member"


def test_unlinking_withdraws_the_consent_and_keeps_the_evidence(
    linking_app, app_ctx, client, airline, unique
):
    member, _, _ = make_member()
    log_in(client, member)
    with requests.Session() as http:
        link_through_airline(client, http, airline.new_profile(unique("lh") + "@example.com"))
    page = client.get("/account/linked-profiles").get_data(as_text=True)
    done = client.post(
        "/account/linked-profiles/lufthansa/unlink", data={"csrf_token": csrf_token(page)}
    )
    assert done.status_code == 303
    page = client.get("/account/linked-profiles").get_data(as_text=True)
    assert "Your Lufthansa profile is unlinked" in page and ">Link profile</button>" in page
    assert linked_profiles.profiles_of(member.id) == []
    assert [r.action for r in linked_profiles.history(member.id)] == ["unlinked", "linked"]
    assert events("linking.unlinked", member.id)


def test_lhg_profiles_reach_a_partner_only_under_its_scope(
    linking_app, app_ctx, client, airline, unique
):
    member, _, _ = make_member()
    log_in(client, member)
    with requests.Session() as http:
        link_through_airline(client, http, airline.new_profile(unique("lh") + "@example.com"))
    [linked] = linked_profiles.profiles_of(member.id)
    partner_client, _ = make_client(scope="openid profile lhg_profiles")
    granted = issue_token(member, partner_client, "openid lhg_profiles")
    claims = client.get(
        "/oauth/userinfo", headers={"Authorization": f"Bearer {granted.access_token}"}
    ).get_json()
    assert claims["lhg_profiles"] == [{"airline": "lufthansa", "profile_id": linked.subject}]
    without = issue_token(member, partner_client, "openid profile")
    claims = client.get(
        "/oauth/userinfo", headers={"Authorization": f"Bearer {without.access_token}"}
    ).get_json()
    assert "lhg_profiles" not in claims


def test_no_at_the_airline_ends_on_a_page_and_links_nothing(
    linking_app, app_ctx, client, airline, unique
):
    member, _, _ = make_member()
    log_in(client, member)
    with requests.Session() as http:
        back, answered = link_through_airline(
            client, http, airline.new_profile(unique("lh") + "@example.com"), decision="deny"
        )
    assert query_of(back)["error"] == "access_denied"
    html = answered.get_data(as_text=True)
    assert answered.status_code == 400 and "cancelled at Lufthansa" in alert_text(html)
    assert linked_profiles.profiles_of(member.id) == []


def test_forged_state_and_another_browser_are_refused(linking_app, app_ctx, client, airline):
    member, _, _ = make_member()
    log_in(client, member)
    forged = client.get("/linking/lufthansa/callback?code=abc&state=forged-state")
    assert forged.status_code == 400 and "Nothing was changed." in forged.get_data(as_text=True)
    started = start(client)
    state = query_of(started.headers["Location"])["state"]
    elsewhere = linking_app.test_client()
    log_in(elsewhere, member)
    answered = elsewhere.get(f"/linking/lufthansa/callback?code=abc&state={state}")
    assert answered.status_code == 400
    assert linked_profiles.profiles_of(member.id) == []
    assert events("linking.upstream_refused")


def test_an_airline_that_is_down_ends_on_a_page_and_stores_nothing(linking_app, app_ctx, client):
    member, _, _ = make_member()
    log_in(client, member)
    before = db.session.query(UpstreamRequest).count()
    answered = start(client, "austrian")
    html = answered.get_data(as_text=True)
    assert answered.status_code == 502
    assert h1(html) == "Linking with Austrian Airlines did not work"
    assert "cannot be reached" in alert_text(html)
    assert db.session.query(UpstreamRequest).count() == before
    assert linked_profiles.profiles_of(member.id) == []


def test_linking_needs_a_recent_login(linking_app, app_ctx, client):
    from datetime import timedelta

    from idp.models import SSOSession
    from idp.models.types import utcnow

    member, _, _ = make_member()
    sid = log_in(client, member)
    db.session.get(SSOSession, sid).auth_time = utcnow() - timedelta(hours=2)
    db.session.commit()
    answered = start(client)
    assert answered.status_code == 303 and "prompt=login" in answered.headers["Location"]


def test_the_airline_rotating_its_signing_key_is_followed(
    linking_app, app_ctx, client, airline, unique
):
    first, _, _ = make_member()
    log_in(client, first)
    with requests.Session() as http:
        link_through_airline(client, http, airline.new_profile(unique("lh") + "@example.com"))
    assert linked_profiles.profiles_of(first.id)  # the airline's key set is now cached here
    cached = {key.kid for key in metadata.key_set(upstreams.find("lufthansa"))}
    rotated = airline.command("keys", "rotate")
    assert rotated["kid"] not in cached
    second, _, _ = make_member()
    other = linking_app.test_client()
    log_in(other, second)
    with requests.Session() as http:
        _back, answered = link_through_airline(
            other, http, airline.new_profile(unique("lh") + "@example.com")
        )
    assert answered.status_code == 303, answered.get_data(as_text=True)
    assert linked_profiles.profiles_of(second.id), f"not linked after rotating to {rotated['kid']}"
    # Signed with the new key, which made this provider fetch the key set again.
    assert rotated["kid"] in {key.kid for key in metadata.key_set(upstreams.find("lufthansa"))}


def test_the_failure_page_speaks_the_members_language(linking_app, app_ctx, client):
    member, _, _ = make_member(locale="de")
    log_in(client, member)
    answered = start(client, "austrian")
    html = answered.get_data(as_text=True)
    assert answered.status_code == 502
    assert h1(html) == "Die Verknüpfung mit Austrian Airlines hat nicht geklappt"
    assert "Es wurde nichts geändert." in alert_text(html)


def test_login_with_a_linked_profile_without_a_second_factor_mails_the_enrolment_link(
    linking_app, app_ctx, client, airline, unique
):
    from idp.models import Credential, OutgoingMail

    member, _, _key = make_member()
    log_in(client, member)
    profile = airline.new_profile(unique("lh") + "@example.com")
    with requests.Session() as http:
        link_through_airline(client, http, profile)
        credential = db.session.get(Credential, member.id)
        credential.totp_secret = credential.totp_enrolled_at = None
        db.session.commit()
        browser = linking_app.test_client()
        login_page = browser.get("/login").get_data(as_text=True)
        started = browser.post("/login/with/lufthansa", data={"csrf_token": csrf_token(login_page)})
        back = drive_upstream(http, started.headers["Location"], None, ISSUER)
    answered = browser.get(path_of(back))
    assert answered.headers["Location"].endswith("/login/enrol/email")
    assert browser.get("/login/enrol").headers["Location"].endswith("/login/enrol/email")
    mails = db.session.scalars(
        select(OutgoingMail).where(OutgoingMail.purpose == "enrolment_link")
    ).all()
    assert [m.recipient for m in mails] == [member.email]
