"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) at /oauth/logout."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from idp.extensions import db
from idp.models import AuditEvent, SSOSession
from idp.services import signing_keys, subjects
from tests.factories import log_in, make_client, make_member
from tests.id_token_hints import MALFORMED, malformed_hints

ISSUER = "http://127.0.0.1:5000"
RETURN = "https://partner.example/logged-out"
URL = "/oauth/logout"


@pytest.fixture
def member(app_ctx):
    return make_member()[0]


@pytest.fixture
def partner_client(app_ctx):
    client, _ = make_client(
        post_logout_redirect_uris=[RETURN, "https://partner.example/bye?lang=de"]
    )
    return client


def id_token(member, client, *, sid=None, expired=False, **overrides) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": subjects.subject_for(member, client),
        "aud": client.client_id,
        "iat": now - 7200 if expired else now,
        "exp": now - 3600 if expired else now + 3600,
    }
    if sid:
        claims["sid"] = sid
    claims.update(overrides)
    return signing_keys.sign(claims)


def session_ended(sid: str) -> bool:
    row = db.session.get(SSOSession, sid)
    db.session.refresh(row)
    return row.ended_at is not None


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def hidden_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input id="(\w+)" name="\1" type="hidden" value="([^"]*)"', html))


def assert_error_page(response):
    assert response.status_code == 400
    assert "Location" not in response.headers
    html = response.get_data(as_text=True)
    assert html.count("<h1") == 1
    assert 'role="alert"' in html


def test_without_a_session_the_member_sees_the_logged_out_page(client, app_ctx):
    response = client.get(URL)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1>You are logged out</h1>" in html
    assert 'role="status"' in html


def test_without_a_hint_the_member_confirms_first(client, member, app_ctx):
    sid = log_in(client, member)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count("<h1") == 1
    assert re.search(r"<button[^>]*>Log out</button>", html)
    assert 'name="csrf_token"' in html
    assert not session_ended(sid)

    response = client.post(URL, data={"csrf_token": csrf_token(html), "confirm": "yes"})
    assert response.status_code == 200
    assert "You are logged out" in response.get_data(as_text=True)
    assert session_ended(sid)
    # The old cookie no longer counts as logged in: no confirmation any more.
    assert "You are logged out" in client.get(URL).get_data(as_text=True)
    event = db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.event == "session.ended")
    ).all()[-1]
    assert event.details == {"sid": sid, "reason": "rp_logout"}


def test_a_confirmation_without_the_csrf_token_logs_nobody_out(client, member, app_ctx):
    sid = log_in(client, member)
    response = client.post(URL, data={"confirm": "yes"})
    assert_error_page(response)
    assert not session_ended(sid)
    response = client.post(URL, data={"confirm": "yes", "csrf_token": "forged"})
    assert_error_page(response)
    assert not session_ended(sid)


def test_a_hint_of_this_session_logs_out_at_once_and_returns_state(client, member, partner_client):
    sid = log_in(client, member)
    response = client.get(
        URL,
        query_string={
            "id_token_hint": id_token(member, partner_client, sid=sid),
            "post_logout_redirect_uri": RETURN,
            "state": "a b&c=d/é",
        },
    )
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == RETURN
    assert parse_qs(target.query) == {"state": ["a b&c=d/é"]}
    assert session_ended(sid)


def test_an_expired_hint_is_accepted(client, member, partner_client):
    sid = log_in(client, member)
    response = client.get(
        URL,
        query_string={
            "id_token_hint": id_token(member, partner_client, sid=sid, expired=True),
            "post_logout_redirect_uri": RETURN,
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == RETURN
    assert session_ended(sid)


def test_a_hint_without_sid_for_this_member_logs_out_at_once(client, member, partner_client):
    sid = log_in(client, member)
    response = client.get(URL, query_string={"id_token_hint": id_token(member, partner_client)})
    assert response.status_code == 200
    assert "You are logged out" in response.get_data(as_text=True)
    assert session_ended(sid)


def test_a_hint_of_an_earlier_session_asks_first(client, member, partner_client):
    sid = log_in(client, member)
    hint = id_token(member, partner_client, sid="0" * 32)
    response = client.get(URL, query_string={"id_token_hint": hint})
    assert response.status_code == 200
    assert "Log out of Miles & More?" in response.get_data(as_text=True)
    assert not session_ended(sid)


def test_a_hint_for_another_member_never_logs_out_silently(client, member, partner_client):
    sid = log_in(client, member)
    someone_else = make_member()[0]
    response = client.get(
        URL,
        query_string={
            "id_token_hint": id_token(someone_else, partner_client),
            "post_logout_redirect_uri": RETURN,
            "state": "s1",
        },
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "a different account" in html and 'role="alert"' in html
    assert not session_ended(sid)

    # The member may still choose to log out; the partner's request goes along.
    fields = hidden_fields(html)
    assert fields["post_logout_redirect_uri"] == RETURN and fields["state"] == "s1"
    response = client.post(URL, data={**fields, "csrf_token": csrf_token(html), "confirm": "yes"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"{RETURN}?state=s1"
    assert session_ended(sid)


def test_client_id_with_a_registered_uri_keeps_its_query(client, member, partner_client):
    sid = log_in(client, member)
    response = client.get(
        URL,
        query_string={
            "client_id": partner_client.client_id,
            "post_logout_redirect_uri": "https://partner.example/bye?lang=de",
            "state": "xyz",
            "ui_locales": "de",
        },
    )
    html = response.get_data(as_text=True)
    assert '<html lang="de">' in html
    assert not session_ended(sid)
    response = client.post(
        URL, data={**hidden_fields(html), "csrf_token": csrf_token(html), "confirm": "yes"}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "https://partner.example/bye?lang=de&state=xyz"
    assert session_ended(sid)


def test_without_a_session_a_registered_uri_is_followed(client, partner_client):
    response = client.get(
        URL,
        query_string={
            "client_id": partner_client.client_id,
            "post_logout_redirect_uri": RETURN,
            "state": "st",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"{RETURN}?state=st"


def test_a_partner_may_post_the_request(client, member, partner_client):
    sid = log_in(client, member)
    response = client.post(
        URL,
        data={
            "id_token_hint": id_token(member, partner_client, sid=sid),
            "post_logout_redirect_uri": RETURN,
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == RETURN
    assert session_ended(sid)


def test_a_posted_request_without_a_hint_still_asks(client, member, partner_client):
    sid = log_in(client, member)
    response = client.post(
        URL, data={"client_id": partner_client.client_id, "post_logout_redirect_uri": RETURN}
    )
    assert response.status_code == 200
    assert "Log out of Miles & More?" in response.get_data(as_text=True)
    assert not session_ended(sid)


def test_an_unregistered_return_address_gets_an_error_page(client, member, partner_client):
    sid = log_in(client, member)
    for uri in ("https://evil.example/", RETURN + "/", RETURN.upper(), RETURN + "?x=1"):
        response = client.get(
            URL,
            query_string={
                "id_token_hint": id_token(member, partner_client, sid=sid),
                "post_logout_redirect_uri": uri,
            },
        )
        assert_error_page(response)
    assert not session_ended(sid)


def test_a_return_address_without_a_client_gets_an_error_page(client, app_ctx):
    assert_error_page(client.get(URL, query_string={"post_logout_redirect_uri": RETURN}))


def test_another_clients_return_address_is_refused(client, member, partner_client):
    other, _ = make_client(post_logout_redirect_uris=["https://other.example/bye"])
    response = client.get(
        URL,
        query_string={
            "id_token_hint": id_token(member, partner_client),
            "post_logout_redirect_uri": "https://other.example/bye",
        },
    )
    assert_error_page(response)


@pytest.mark.parametrize(
    "hint",
    [
        "not.a.jwt",
        "garbage",
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
    ],
)
def test_a_malformed_hint_gets_an_error_page(client, member, partner_client, hint):
    sid = log_in(client, member)
    assert_error_page(client.get(URL, query_string={"id_token_hint": hint}))
    assert not session_ended(sid)


def test_a_hint_signed_by_someone_else_gets_an_error_page(client, member, partner_client):
    sid = log_in(client, member)
    foreign = RSAKey.generate_key(2048, parameters={"kid": "foreign"}, private=True)
    forged = jwt.encode(
        {"alg": "RS256", "kid": "foreign"},
        {
            "iss": ISSUER,
            "sub": subjects.subject_for(member, partner_client),
            "aud": partner_client.client_id,
            "sid": sid,
        },
        foreign,
    )
    response = client.get(
        URL, query_string={"id_token_hint": forged, "post_logout_redirect_uri": RETURN}
    )
    assert_error_page(response)
    assert not session_ended(sid)


@pytest.mark.parametrize(
    "overrides",
    [
        {"iss": "https://other-issuer.example"},
        {"aud": "no-such-client"},
        {"aud": []},
        {"aud": ["a", "b"]},
        {"sub": 42},
    ],
)
def test_a_hint_with_wrong_claims_gets_an_error_page(client, member, partner_client, overrides):
    sid = log_in(client, member)
    hint = id_token(member, partner_client, sid=sid, **overrides)
    assert_error_page(client.get(URL, query_string={"id_token_hint": hint}))
    assert not session_ended(sid)


def test_an_unknown_or_mismatched_client_id_gets_an_error_page(client, member, partner_client):
    assert_error_page(client.get(URL, query_string={"client_id": "nobody"}))
    other, _ = make_client()
    response = client.get(
        URL,
        query_string={
            "id_token_hint": id_token(member, partner_client),
            "client_id": other.client_id,
        },
    )
    assert_error_page(response)


def test_repeated_or_oversized_parameters_get_an_error_page(client, partner_client):
    assert_error_page(client.get(f"{URL}?state=a&state=b"))
    assert_error_page(client.get(URL, query_string={"state": "s" * 5000}))


@pytest.mark.parametrize("name", MALFORMED)
def test_every_kind_of_malformed_hint_gets_an_error_page(client, member, partner_client, name):
    sid = log_in(client, member)
    claims = {
        "iss": ISSUER,
        "sub": subjects.subject_for(member, partner_client),
        "aud": partner_client.client_id,
        "sid": sid,
    }
    hint = malformed_hints(claims)[name]
    response = client.get(
        URL, query_string={"id_token_hint": hint, "post_logout_redirect_uri": RETURN}
    )
    assert_error_page(response)
    assert not session_ended(sid)


def test_a_hint_for_another_client_with_this_client_id_gets_an_error_page(
    client, member, partner_client
):
    sid = log_in(client, member)
    other, _ = make_client(post_logout_redirect_uris=[RETURN])
    response = client.get(
        URL,
        query_string={
            "id_token_hint": id_token(member, other, sid=sid),
            "client_id": partner_client.client_id,
            "post_logout_redirect_uri": RETURN,
        },
    )
    assert_error_page(response)
    assert not session_ended(sid)
