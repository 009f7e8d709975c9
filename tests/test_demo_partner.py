"""The demo partner website on its own: its languages, its messages for the errors of an
authorization response, and back-channel logout ending exactly the login it names."""

from __future__ import annotations

import re
import time
from html import unescape

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

import examples.partner as partner_module
from examples.partner import create_partner_app

ISSUER = "http://127.0.0.1:5999"
CLIENT_ID = "demo-client"
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig"})


@pytest.fixture
def partner(monkeypatch):
    app = create_partner_app(ISSUER, CLIENT_ID, "demo-secret", "http://127.0.0.1:5001/callback")
    app.config.update(TESTING=True)
    mam = app.extensions["authlib.integrations.flask_client"].create_client("mam")
    mam.server_metadata.update({"jwks_uri": f"{ISSUER}/jwks", "_loaded_at": time.time()})

    class JWKS:
        def json(self):
            return KeySet([KEY]).as_dict(private=False)

    monkeypatch.setattr(partner_module.requests, "get", lambda url, timeout: JWKS())
    return app.test_client()


def words(response) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def logout_token(**claims) -> str:
    body = {
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "iat": int(time.time()),
        "jti": "j-" + str(time.time_ns()),
        "events": {"http://schemas.openid.net/event/backchannel-logout": {}},
        **claims,
    }
    return jwt.encode({"alg": "RS256", "kid": "k1"}, body, KEY)


def sign_in(client, sid: str, sub: str = "s-1", at: float | None = None) -> None:
    with client.session_transaction() as session:
        session["user"] = {
            "sub": sub,
            "given_name": "Erika",
            "sid": sid,
            "signed_in_at": time.time() if at is None else at,
        }


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "You chose not to share your Miles & More data with us"),
        ("de", "Sie haben entschieden, Ihre Miles & More Daten nicht mit uns zu teilen"),
        ("nl", "U hebt ervoor gekozen uw Miles & More-gegevens niet met ons te delen"),
        ("pl", "Nie udostępniasz nam swoich danych Miles & More, więc logowanie się nie odbyło"),
    ],
)
def test_deny_is_told_in_the_member_language(partner, language, message):
    partner.get(f"/language/{language}")
    response = partner.get(
        "/callback",
        query_string={
            "error": "access_denied",
            "error_description": "The member denied the request.",
            "iss": ISSUER,
        },
    )
    assert response.status_code == 302
    page = partner.get(response.headers["Location"])
    assert f'<html lang="{language}">' in page.get_data(as_text=True)
    assert message in words(page)
    assert "The member denied the request." not in words(page)
    assert 'role="alert"' in page.get_data(as_text=True)


def test_the_browser_language_counts_until_one_is_chosen(partner):
    page = partner.get("/", headers={"Accept-Language": "nl-NL,nl;q=0.9"})
    assert '<html lang="nl">' in page.get_data(as_text=True)
    assert "Inloggen bij Demo Partner Shop" in words(page)
    assert partner.get("/language/xx").status_code == 404


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"error": "temporarily_unavailable", "iss": ISSUER}, "is not available at the moment"),
        ({"error": "<b>made up</b>", "iss": ISSUER}, "did not work. Please try again."),
        ({"code": "x", "iss": "https://elsewhere.example"}, "did not come from Miles & More"),
    ],
)
def test_other_errors_get_a_message_of_their_own_never_the_text_sent(partner, query, message):
    page = partner.get(partner.get("/callback", query_string=query).headers["Location"])
    assert message in words(page)
    assert "made up" not in page.get_data(as_text=True)


def test_backchannel_logout_ends_that_login_and_not_the_next(partner):
    sign_in(partner, "sid-1")
    assert "Welcome, Erika" in words(partner.get("/"))
    response = partner.post("/backchannel-logout", data={"logout_token": logout_token(sid="sid-1")})
    assert response.status_code == 200
    assert "Sign in to Demo Partner Shop" in words(partner.get("/"))
    # A new login (a new sid) is not refused because of the old one.
    sign_in(partner, "sid-2")
    assert "Welcome, Erika" in words(partner.get("/"))
    # Nor is a login made after the logout that happens to carry the same sid.
    sign_in(partner, "sid-1")
    assert "Welcome, Erika" in words(partner.get("/"))
    # A logout naming only the subject ends every earlier login of that member.
    token = logout_token(sub="s-1")
    assert partner.post("/backchannel-logout", data={"logout_token": token}).status_code == 200
    assert "Sign in to Demo Partner Shop" in words(partner.get("/"))


@pytest.mark.parametrize(
    "claims",
    [
        {"sid": "sid-1", "iss": "https://elsewhere.example"},
        {"sid": "sid-1", "aud": "someone-else"},
        {"sid": "sid-1", "events": {}},
        {"sid": "sid-1", "nonce": "n"},
        {},
    ],
)
def test_bad_logout_tokens_are_refused_and_end_nothing(partner, claims):
    sign_in(partner, "sid-1", at=time.time() - 5)
    response = partner.post("/backchannel-logout", data={"logout_token": logout_token(**claims)})
    assert response.status_code == 400
    assert "Welcome, Erika" in words(partner.get("/"))
