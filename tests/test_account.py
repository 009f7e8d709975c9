"""``/account``: the member's overview, and ``/account/security`` with recovery codes."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from idp.extensions import db
from idp.models import RecoveryCode, SSOSession
from idp.models.types import utcnow
from idp.services import authentication
from idp.services.cards import luhn_check_digit
from tests.factories import make_member
from tests.login_flow import enter_password, h1, log_in, post_form, totp_code


def test_root_goes_to_the_account(client):
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/account"


def test_account_needs_a_login_and_comes_back_after_it(client, app_ctx):
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Faccount"
    member, password, key = make_member()
    after = log_in(client, member.email, password, key, next_path="%2Faccount")
    assert after.headers["Location"] == "/account"


def test_overview_shows_the_member(client, app_ctx):
    member, password, key = make_member(
        given_name="Zofia",
        family_name="Nowak",
        status_tier="senator",
        miles_balance=123456,
        card_number="99200000000000" + luhn_check_digit("99200000000000"),
    )
    log_in(client, member.email, password, key)
    html = client.get("/account").get_data(as_text=True)
    assert h1(html) == "Zofia Nowak"
    # The card number masked but recognisable: its last four digits.
    assert f"992 •••• •••• 000{luhn_check_digit('99200000000000')}" in html
    assert "992 0000 0000" not in html
    assert "Senator" in html
    assert "123,456" in html
    assert 'href="/account/security"' in html
    assert re.search(r"<button[^>]*>Log out</button>", html)


def test_security_page_counts_and_regenerates_recovery_codes(client, app_ctx):
    member, password, key = make_member()
    old = authentication.regenerate_recovery_codes(member)
    log_in(client, member.email, password, key)
    html = client.get("/account/security").get_data(as_text=True)
    assert h1(html) == "Security"
    assert "You have 10 unused recovery codes." in html

    response = post_form(client, "/account/security/recovery-codes", {}, page="/account/security")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'role="status"' in html and "old codes no longer work" in html
    new = re.findall(r'<code class="recovery-code">([A-Z2-7-]+)</code>', html)
    assert len(new) == 10 and not set(new) & set(old)
    assert db.session.query(RecoveryCode).filter_by(member_id=member.id).count() == 10
    # Shown once: the page afterwards only counts them.
    again = client.get("/account/security").get_data(as_text=True)
    assert not re.findall(r'class="recovery-code"', again)

    # The old codes no longer log in; a new one does.
    post_form(client, "/logout", {})
    enter_password(client, member.email, password)
    assert post_form(client, "/login/verify/recovery", {"code": old[0]}).status_code == 400
    assert post_form(client, "/login/verify/recovery", {"code": new[0]}).status_code == 302
    assert "You have 9 unused recovery codes." in client.get("/account/security").get_data(
        as_text=True
    )


def test_security_page_needs_a_recent_login(client, app_ctx):
    member, password, key = make_member()
    log_in(client, member.email, password, key)
    db.session.execute(
        update(SSOSession)
        .where(SSOSession.member_id == member.id)
        .values(auth_time=utcnow() - timedelta(hours=1))
    )
    db.session.commit()
    response = client.get("/account/security")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Faccount%2Fsecurity&prompt=login"
    # The overview does not ask again.
    assert client.get("/account").status_code == 200
    # Nor can the codes be replaced without logging in again.
    blocked = post_form(client, "/account/security/recovery-codes", {}, page="/account")
    assert blocked.status_code == 302
    assert "prompt=login" in blocked.headers["Location"]

    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert "please log in again" in page.get_data(as_text=True)
    again = post_form(
        client, response.headers["Location"], {"login": member.email, "password": password}
    )
    assert again.headers["Location"] == "/login/verify"
    done = post_form(client, "/login/verify", {"code": totp_code(key, steps_ahead=1)})
    assert done.headers["Location"] == "/account/security"
    assert client.get("/account/security").status_code == 200
    sessions = db.session.scalars(select(SSOSession).where(SSOSession.member_id == member.id))
    assert [s.ended_at is None for s in sessions].count(True) == 1


def test_security_pages_without_login_go_to_login(client):
    assert client.get("/account/security").headers["Location"] == (
        "/login?next=%2Faccount%2Fsecurity"
    )
    response = post_form(client, "/account/security/recovery-codes", {}, page="/login")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
