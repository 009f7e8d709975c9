"""The answers a real airline never gives, from a small upstream in this process: each is
refused with a page, and nothing is linked. One good answer first, so the checks can fail."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from joserfc.jwk import RSAKey

from idp.services import linked_profiles
from tests.factories import log_in, make_member
from tests.linking.conftest import query_of
from tests.login_flow import alert_text, csrf_token


@pytest.fixture
def member(linking_app, app_ctx, client):
    member, _, _ = make_member()
    log_in(client, member)
    return member


def answer(client, fake, *, iss_parameter="default", key=None, delay=0, **claim_changes):
    page = client.get("/account/linked-profiles").get_data(as_text=True)
    started = client.post("/account/linked-profiles/swiss/link",
                          data={"csrf_token": csrf_token(page)})
    assert started.status_code == 303, started.get_data(as_text=True)
    request = query_of(started.headers["Location"])
    fake.answer = {"claims": fake.claims(request["nonce"], **claim_changes), "delay": delay}
    if key is not None:
        fake.answer["key"] = key
    query = {"code": "c0de", "state": request["state"]}
    if iss_parameter:
        query["iss"] = fake.url if iss_parameter == "default" else iss_parameter
    return client.get("/linking/swiss/callback", query_string=query)


def refused(response, status=400) -> str:
    html = response.get_data(as_text=True)
    assert response.status_code == status, html[:500]
    assert "Nothing was changed." in alert_text(html)
    return alert_text(html)


def test_a_good_answer_links_the_profile(member, client, fake_upstream):
    linked = answer(client, fake_upstream)
    assert linked.status_code == 303
    [profile] = linked_profiles.profiles_of(member.id)
    assert (profile.airline, profile.subject) == ("swiss", "swiss-profile-1")


def test_a_wrong_nonce_is_refused(member, client, fake_upstream):
    assert "could not be verified" in refused(answer(client, fake_upstream, nonce="another"))
    assert linked_profiles.profiles_of(member.id) == []


def test_an_id_token_of_another_issuer_is_refused(member, client, fake_upstream):
    refused(answer(client, fake_upstream, iss="https://id.other-airline.example"))
    assert linked_profiles.profiles_of(member.id) == []


def test_an_id_token_signed_by_an_unknown_key_is_refused(member, client, fake_upstream):
    rogue = RSAKey.generate_key(2048, parameters={"kid": "rogue"})
    refused(answer(client, fake_upstream, key=rogue))
    same_kid = RSAKey.generate_key(2048, parameters={"kid": fake_upstream.key.kid})
    refused(answer(client, fake_upstream, key=same_kid))  # a known kid, a forged signature
    assert linked_profiles.profiles_of(member.id) == []


def test_a_rotated_key_is_fetched_and_accepted(member, client, fake_upstream):
    answer(client, fake_upstream, sub="before-rotation")  # the key set is now cached
    linked_profiles.unlink(member.id, "swiss")
    rotated = RSAKey.generate_key(2048, parameters={"kid": "key-2"})
    fake_upstream.published = [fake_upstream.key, rotated]
    try:
        assert answer(client, fake_upstream, key=rotated, sub="after").status_code == 303
    finally:
        fake_upstream.published = [fake_upstream.key]
    assert [p.subject for p in linked_profiles.profiles_of(member.id)] == ["after"]


@pytest.mark.parametrize(
    "changes",
    [
        {"aud": "someone-else"},
        {"exp": int(time.time()) - 120},
        {"iat": int(time.time()) + 3600},
        {"sub": None},
    ],
    ids=["audience", "expired", "issued-in-the-future", "no-subject"],
)
def test_an_id_token_whose_claims_do_not_hold_is_refused(member, client, fake_upstream, changes):
    refused(answer(client, fake_upstream, **changes))
    assert linked_profiles.profiles_of(member.id) == []


def test_a_response_naming_another_issuer_or_none_is_refused(member, client, fake_upstream):
    refused(answer(client, fake_upstream, iss_parameter="https://evil.example"))  # mix-up
    refused(answer(client, fake_upstream, iss_parameter=None))  # the upstream always sends it
    assert linked_profiles.profiles_of(member.id) == []


def test_an_upstream_too_slow_to_answer_is_refused(linking_app, member, client, fake_upstream,
                                                   monkeypatch):
    settings = replace(linking_app.config["IDP"], upstream_timeout_seconds=0.5)
    monkeypatch.setitem(linking_app.config, "IDP", settings)
    assert "did not answer in time" in refused(answer(client, fake_upstream, delay=1.5), 504)
    assert linked_profiles.profiles_of(member.id) == []


def test_an_airline_partner_reached_through_a_link_is_shown_once_and_withdrawn_once(
    member, client, fake_upstream
):
    from tests.factories import make_client, make_consent, make_partner

    assert answer(client, fake_upstream, sub="swiss-apps").status_code == 303
    airline = make_partner("SWISS", "lhg_airline")
    partner_client, _ = make_client(airline, scope="openid profile")
    make_consent(member, partner_client)
    page = client.get("/account/apps").get_data(as_text=True)
    assert page.count('<h2 id="partner-') == 1 and page.count(">SWISS</h2>") == 1
    assert "swiss-apps" in page
    page = client.get(f"/account/apps/{airline.id}/revoke").get_data(as_text=True)
    assert "Revoking access also unlinks it." in page
    revoked = client.post(f"/account/apps/{airline.id}/revoke",
                          data={"csrf_token": csrf_token(page)})
    assert revoked.status_code == 303
    assert linked_profiles.profiles_of(member.id) == []
    latest = linked_profiles.history(member.id)[0]
    assert (latest.action, latest.actor, latest.subject) == ("unlinked", "member", "swiss-apps")


def test_a_second_profile_at_the_same_airline_is_refused(member, client, fake_upstream):
    assert answer(client, fake_upstream, sub="first-profile").status_code == 303
    refused_link = answer(client, fake_upstream, sub="second-profile")
    assert refused_link.status_code == 303
    page = client.get("/account/linked-profiles").get_data(as_text=True)
    assert "Unlink it first." in alert_text(page)
    assert [p.subject for p in linked_profiles.profiles_of(member.id)] == ["first-profile"]
