"""The language of the pages: ``ui_locales`` for its authorization request only, then the
member's preference, then Accept-Language; the footer's links keep the flow going."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest

from idp.extensions import db
from idp.models import Member
from tests.login_flow import csrf_token, h1
from tests.oauth.conftest import OAuth

LANG = re.compile(r'<html lang="([a-z]+)">')


@pytest.fixture
def oauth(app, client) -> OAuth:
    return OAuth(app, client)


@pytest.fixture
def rp(oauth):
    return oauth.client(
        "Sky Hotels",
        scope="openid profile email phone card_number miles status",
        purposes=["registration", "miles"],
    )


@pytest.fixture
def member_id(oauth) -> str:
    return oauth.member(locale="en", given_name="Anna", family_name="Nowak")


def lang(response) -> str:
    return LANG.search(response.get_data(as_text=True)).group(1)


def footer_link(html: str, code: str) -> str:
    found = re.search(rf'<a href="([^"]+)" lang="{code}"', html)
    assert found, f"no footer link to {code}"
    return unescape(found.group(1))


def stored_locale(app, member_id) -> str | None:
    with app.app_context():
        return db.session.get(Member, member_id).locale


def password_step(oauth, member_id, login_page: str):
    email, password, _key = oauth.credentials[member_id]
    html = oauth.http.get(login_page).get_data(as_text=True)
    response = oauth.http.post(
        login_page, data={"login": email, "password": password, "csrf_token": csrf_token(html)}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/login/verify"
    return response


def code_step(oauth, member_id):
    _email, _password, key = oauth.credentials[member_id]
    html = oauth.http.get("/login/verify").get_data(as_text=True)
    response = oauth.http.post(
        "/login/verify", data={"code": pyotp.TOTP(key).now(), "csrf_token": csrf_token(html)}
    )
    assert response.status_code == 302
    return response


def test_ui_locales_holds_for_its_request_and_no_other_page(oauth, rp, member_id):
    german = {"Accept-Language": "de-DE,de;q=0.9"}
    oauth.http.environ_base["HTTP_ACCEPT_LANGUAGE"] = german["Accept-Language"]
    start = oauth.authorize(rp, ui_locales="pl")
    login_page = start.headers["Location"]
    assert lang(oauth.http.get(login_page)) == "pl"
    password_step(oauth, member_id, login_page)
    # The second factor has no ui_locales of its own: the pending request's counts,
    # not the member's stored English nor the browser's German.
    verify = oauth.http.get("/login/verify")
    assert lang(verify) == "pl" and h1(verify.get_data(as_text=True)) == "Weryfikacja dwuetapowa"
    back = code_step(oauth, member_id)
    assert urlsplit(back.headers["Location"]).path == "/oauth/authorize"
    location, consent = oauth.consent_page(oauth.http.get(back.headers["Location"]))
    assert lang(consent) == "pl"
    assert "Zezwól" in consent.get_data(as_text=True)
    # Afterwards, on an unrelated page, the member's own language again.
    assert lang(oauth.http.get("/account")) == "en"
    assert stored_locale(oauth.app, member_id) == "en"


def test_the_member_preference_beats_the_browser(oauth, member_id):
    with oauth.app.app_context():
        db.session.get(Member, member_id).locale = "nl"
        db.session.commit()
    oauth.login(member_id)
    page = oauth.http.get("/account", headers={"Accept-Language": "de"})
    assert lang(page) == "nl"
    # A page asked for in a language shows it, once; nothing is remembered.
    assert lang(oauth.http.get("/account/security?ui_locales=pl")) == "pl"
    assert lang(oauth.http.get("/account")) == "nl"


def test_language_link_on_the_login_page_keeps_the_authorization_request(oauth, rp, member_id):
    start = oauth.authorize(rp, ui_locales="pl", state="keep-me")
    login_page = start.headers["Location"]
    link = footer_link(oauth.http.get(login_page).get_data(as_text=True), "de")
    switched = oauth.http.get(link)
    assert switched.status_code == 303
    again = switched.headers["Location"]
    assert parse_qs(urlsplit(again).query)["next"] == parse_qs(urlsplit(login_page).query)["next"]
    page = oauth.http.get(again)
    assert lang(page) == "de" and h1(page.get_data(as_text=True)) == "Mit Miles & More anmelden"
    password_step(oauth, member_id, again)
    # The choice beats the partner's ui_locales=pl for the rest of this request.
    verify = oauth.http.get("/login/verify")
    assert lang(verify) == "de"
    # On the second step too, the link keeps the pending login.
    link = footer_link(verify.get_data(as_text=True), "nl")
    assert oauth.http.get(link).headers["Location"] == "/login/verify"
    assert lang(oauth.http.get("/login/verify")) == "nl"
    back = code_step(oauth, member_id)
    location, consent = oauth.consent_page(oauth.http.get(back.headers["Location"]))
    assert lang(consent) == "nl"
    # Chosen before logging in: now the member's preference.
    assert stored_locale(oauth.app, member_id) == "nl"
    # The link on the consent page keeps the consent step, then Allow finishes the request.
    link = footer_link(consent.get_data(as_text=True), "de")
    assert urlsplit(oauth.http.get(link).headers["Location"]).path == urlsplit(location).path
    finished = oauth.answer(oauth.http.get(back.headers["Location"]))
    assert finished.headers["Location"].startswith(rp.redirect_uri)
    assert parse_qs(urlsplit(finished.headers["Location"]).query)["state"] == ["keep-me"]


def test_a_logged_in_member_changes_the_language_anywhere(oauth, rp, member_id):
    oauth.login(member_id)
    page = oauth.http.get("/account/apps")
    link = footer_link(page.get_data(as_text=True), "pl")
    response = oauth.http.get(link)
    assert response.status_code == 303 and response.headers["Location"] == "/account/apps"
    assert stored_locale(oauth.app, member_id) == "pl"
    assert lang(oauth.http.get("/account")) == "pl"
    # On the consent screen: the member's choice beats the partner's ui_locales.
    location, consent = oauth.consent_page(oauth.authorize(rp, ui_locales="nl"))
    assert lang(consent) == "nl"
    oauth.http.get(footer_link(consent.get_data(as_text=True), "de"))
    assert lang(oauth.http.get(urlsplit(location).path)) == "de"
    assert stored_locale(oauth.app, member_id) == "de"


def test_a_link_from_another_site_changes_nothing_stored(oauth, member_id):
    oauth.login(member_id)
    response = oauth.http.get(
        "/language/pl?next=/account", headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    assert stored_locale(oauth.app, member_id) == "en"


@pytest.mark.parametrize(
    "link",
    ["/language/fr?next=/account", "/language/%00?next=/account"],
)
def test_an_unknown_language_is_not_found(client, link):
    assert client.get(link).status_code == 404


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\t/evil", ""])
def test_the_language_link_stays_on_this_provider(client, target):
    response = client.get("/language/de", query_string={"next": target})
    assert response.status_code == 303 and response.headers["Location"] == "/account"
