"""Who asks and who answers: the partner on the login page; logo, domain, the member
signed in (with a way to switch account) and the optional items on the consent screen."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

from idp.extensions import db
from idp.models import Partner, SSOSession
from tests.login_flow import csrf_token, h1


def text(response) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def test_the_login_page_names_the_partner_that_asks(oauth, rp):
    with oauth.app.app_context():
        db.session.get(Partner, rp.partner_id).logo_uri = "https://partner.example/logo.png"
        db.session.commit()
    login_page = oauth.authorize(rp).headers["Location"]
    page = oauth.http.get(login_page)
    html = page.get_data(as_text=True)
    assert "Sky Hotels asks you to log in with your Miles & More account." in text(page)
    assert "partner.example" in text(page)
    assert 'src="https://partner.example/logo.png" alt="Logo of Sky Hotels"' in html
    assert h1(html) == "Log in with Miles & More"
    # Not for a login of the member's own, nor for a client that does not exist.
    assert "asks you to log in" not in text(oauth.http.get("/login?next=/account"))
    forged = "/login?next=" + "/oauth/authorize%3Fclient_id%3Dnobody"
    assert "asks you to log in" not in text(oauth.http.get(forged))


def test_the_consent_screen_shows_domain_member_and_optional_items(oauth, rp, member_id):
    oauth.login(member_id)
    _location, page = oauth.consent_page(oauth.authorize(rp, scope="openid email card_number"))
    words = text(page)
    assert "partner.example" in words
    email = oauth.credentials[member_id][0]
    masked = email[0] + "•••@" + email.split("@")[1]
    assert f"Signed in as Anna ({masked})" in words
    assert email not in page.get_data(as_text=True)
    assert "Not you? Use another account" in words
    # The optional item is marked; the required one has no checkbox and no mark.
    html = page.get_data(as_text=True)
    label = re.search(r'<label class="checkbox" for="scope-email">(.*?)</label>', html, re.S)
    assert "(optional)" in label.group(1)
    assert 'id="scope-card_number"' not in html
    assert words.count("(optional)") == 1


def test_not_you_logs_out_and_returns_to_the_same_request(oauth, rp, member_id):
    other = oauth.member(given_name="Piotr")
    oauth.login(member_id)
    location, page = oauth.consent_page(oauth.authorize(rp, state="same", ui_locales="pl"))
    step = urlsplit(location).path
    response = oauth.http.post(
        step + "/switch-account", data={"csrf_token": csrf_token(page.get_data(as_text=True))}
    )
    assert response.status_code == 303
    login_page = response.headers["Location"]
    query = parse_qs(urlsplit(login_page).query)
    assert urlsplit(login_page).path == "/login" and query["ui_locales"] == ["pl"]
    back = parse_qs(urlsplit(query["next"][0]).query)
    assert back["state"] == ["same"] and back["client_id"] == [rp.client_id]
    with oauth.app.app_context():
        assert db.session.query(SSOSession).filter_by(member_id=member_id, ended_at=None).count() == 0
    # The old step is answered no more; the other member logs in and sees the screen.
    assert oauth.http.get(step).status_code in (302, 400)
    oauth.login(other)
    _location, page = oauth.consent_page(oauth.http.get(query["next"][0]))
    assert "Piotr" in text(page)


def test_not_you_needs_the_form_and_the_step(oauth, rp, member_id):
    oauth.login(member_id)
    location, _page = oauth.consent_page(oauth.authorize(rp))
    step = urlsplit(location).path
    assert oauth.http.post(step + "/switch-account", data={}).status_code == 400
    assert oauth.http.post("/consent/nothing/switch-account", data={}).status_code == 400
    # Still logged in: a bad request changed nothing.
    assert oauth.http.get("/account").status_code == 200
