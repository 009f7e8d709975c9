"""``/account/profile``: basic data edited whole or not at all, and an email change that
takes effect only once the link sent to the new address is followed."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, update

from idp.extensions import db
from idp.models import AuditEvent, EmailChange, Member, OutgoingMail, SSOSession
from idp.models.types import utcnow
from idp.oauth.claims import claims_for_scopes
from idp.services import email_change
from idp.services.mail import send_pending
from idp.services.members import email_index, find_by_email
from tests.factories import issue_token, log_in, make_client, make_member
from tests.login_flow import csrf_token, h1, post_form
from tests.smtp_sink import running_smtp_sink

SENDER = "no-reply@login.miles-and-more.example"
PROFILE = "/account/profile"

#: A complete, valid profile form.
GOOD = {
    "given_name": "Katarzyna",
    "family_name": "Wiśniewska",
    "academic_title": "Dr.",
    "gender": "female",
    "birthdate": "1979-03-21",
    "phone_number": "+48 22 123 45 67",
    "street_address": "ul. Marszałkowska 10",
    "postal_code": "00-950",
    "locality": "Warszawa",
    "country": "PL",
    "locale": "pl",
    "home_airport": "waw",
    "seat": "aisle",
    "meal": "VGML",
}


def _texts(html: str, role: str) -> str:
    found = re.findall(rf'role="{role}"[^>]*>(.*?)</div>', html, re.S)
    return " ".join(" ".join(unescape(re.sub(r"<[^>]+>", " ", f)).split()) for f in found)


def status_text(html: str) -> str:
    return _texts(html, "status")


def alert_text(html: str) -> str:
    """The ``role="alert"`` element with its list of field messages."""
    return _texts(html, "alert")


def audit_events(member_id: str) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.event)
            .where(AuditEvent.member_id == member_id)
            .order_by(AuditEvent.id)
        )
    )


@pytest.fixture
def member(client, app_ctx):
    member, _password, _key = make_member(
        given_name="Anna",
        family_name="Schmidt",
        phone_number="+4969123456",
        birthdate="1985-06-14",
        gender="female",
        locale="en",
    )
    member.phone_number_verified = True
    db.session.commit()
    log_in(client, member)
    return member


def stored(member_id: str) -> Member:
    db.session.expire_all()
    return db.session.get(Member, member_id)


def snapshot(member: Member) -> dict:
    columns = (
        "given_name", "family_name", "academic_title", "gender", "birthdate", "phone_number",
        "phone_number_verified", "address", "locale", "travel_preferences", "email",
        "email_verified",
    )  # fmt: skip
    row = stored(member.id)
    return {name: getattr(row, name) for name in columns}


# -- viewing and editing -----------------------------------------------------------------


def test_profile_needs_a_login(client, app_ctx):
    response = client.get(PROFILE)
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Faccount%2Fprofile"


def test_profile_shows_the_stored_data_with_a_label_for_every_input(client, member):
    html = client.get(PROFILE).get_data(as_text=True)
    assert h1(html) == "Your profile"
    assert 'value="Anna"' in html and 'value="Schmidt"' in html
    assert 'value="1985-06-14"' in html and 'value="+4969123456"' in html
    assert '<option selected value="female">' in html
    assert member.email in html
    for input_id in re.findall(r'<(?:input|select)[^>]*\bid="([^"]+)"', html):
        assert f'for="{input_id}"' in html, f"{input_id} has no label"
    for label in ("Given name", "Academic title", "Postal code", "Home airport", "Meal preference"):
        assert f">{label}</label>" in html
    assert re.search(r"<button[^>]*>Save changes</button>", html)
    assert re.search(r"<button[^>]*>Change email address</button>", html)
    assert 'href="/account/profile"' in client.get("/account").get_data(as_text=True)


def test_saving_the_whole_profile(client, member):
    response = post_form(client, PROFILE, GOOD)
    assert response.status_code == 303 and response.headers["Location"] == PROFILE
    row = stored(member.id)
    assert (row.given_name, row.family_name, row.academic_title) == (
        "Katarzyna",
        "Wiśniewska",
        "Dr.",
    )
    assert (row.gender, row.birthdate, row.locale) == ("female", "1979-03-21", "pl")
    assert row.phone_number == "+48221234567"
    assert row.address == {
        "street_address": "ul. Marszałkowska 10",
        "postal_code": "00-950",
        "locality": "Warszawa",
        "country": "PL",
    }
    assert row.travel_preferences == {"home_airport": "WAW", "seat": "aisle", "meal": "VGML"}
    assert audit_events(member.id)[-1] == "member.profile_updated"
    # The confirmation, in the language just chosen, as is the page from now on.
    html = client.get(PROFILE).get_data(as_text=True)
    assert status_text(html) == "Twój profil został zapisany."
    assert h1(html) == "Twój profil"
    assert '<html lang="pl">' in html
    assert '<option selected value="PL">Polska</option>' in html

    # The same form again changes nothing, and says so.
    again = post_form(client, PROFILE, GOOD)
    assert again.status_code == 303
    assert "Nic się nie zmieniło" in status_text(client.get(PROFILE).get_data(as_text=True))
    assert audit_events(member.id).count("member.profile_updated") == 1


def test_personal_data_and_preferences_are_encrypted_at_rest(client, member):
    post_form(client, PROFILE, GOOD)
    raw = db.session.execute(
        select(Member.__table__.c.travel_preferences, Member.__table__.c.address).where(
            Member.__table__.c.id == member.id
        )
    ).one()
    assert "WAW" not in raw.travel_preferences and "VGML" not in raw.travel_preferences
    assert "Warszawa" not in raw.address


def test_a_new_phone_number_is_not_verified_and_an_unchanged_one_stays_verified(client, member):
    same_phone = {**GOOD, "phone_number": "+49 69 123456"}
    assert post_form(client, PROFILE, same_phone).status_code == 303
    assert stored(member.id).phone_number_verified is True
    assert post_form(client, PROFILE, GOOD).status_code == 303
    row = stored(member.id)
    assert row.phone_number == "+48221234567" and row.phone_number_verified is False


def test_optional_fields_can_be_cleared(client, member):
    post_form(client, PROFILE, GOOD)
    cleared = {name: "" for name in GOOD} | {
        "given_name": "Anna",
        "family_name": "Schmidt",
        "locale": "en",
    }
    assert post_form(client, PROFILE, cleared).status_code == 303
    row = stored(member.id)
    assert row.address is None and row.travel_preferences is None
    assert row.phone_number is None and row.birthdate is None and row.gender is None
    assert row.academic_title is None


BAD_INPUT = [
    ("given_name", "", "Enter your given name."),
    ("given_name", "   ", "Enter your given name."),
    ("given_name", "A" * 101, "A given name can have up to 100 characters."),
    ("given_name", "Anna\x00", "This holds characters that cannot be used."),
    ("given_name", "An\nna", "This holds characters that cannot be used."),
    ("family_name", "", "Enter your family name."),
    ("family_name", "S" * 101, "A family name can have up to 100 characters."),
    ("academic_title", "D" * 41, "An academic title can have up to 40 characters."),
    ("gender", "robot", "Choose a gender from the list."),
    ("birthdate", "14.06.1985", "Enter the date of birth as YYYY-MM-DD."),
    ("birthdate", "1985-02-30", "Enter the date of birth as YYYY-MM-DD."),
    ("birthdate", "2999-01-01", "Enter a real date of birth."),
    ("birthdate", "1850-01-01", "Enter a real date of birth."),
    ("phone_number", "069 123456", "international form"),
    ("phone_number", "+49 abc", "international form"),
    ("phone_number", "+0123456789", "international form"),
    ("street_address", "", "Enter the street and house number."),
    ("street_address", "x" * 201, "The street can have up to 200 characters."),
    ("postal_code", "60549!", "A postal code has up to 16 letters and digits."),
    ("postal_code", "1" * 17, "A postal code has up to 16 letters and digits."),
    ("locality", "", "Enter the city."),
    ("locality", "c" * 101, "The city can have up to 100 characters."),
    ("country", "", "Choose the country."),
    ("country", "XX", "Choose the country."),
    ("country", "EU", "Choose the country."),
    ("locale", "fr", "Choose a language of correspondence from the list."),
    ("locale", "", "Choose a language of correspondence from the list."),
    ("home_airport", "FRAN", "three-letter IATA code"),
    ("home_airport", "F1A", "three-letter IATA code"),
    ("seat", "middle", "Choose a seat preference from the list."),
    ("meal", "PIZZA", "Choose a meal preference from the list."),
]


@pytest.mark.parametrize(("name", "value", "message"), BAD_INPUT)
def test_every_bad_input_is_refused_and_nothing_is_written(client, member, name, value, message):
    before = snapshot(member)
    response = post_form(client, PROFILE, {**GOOD, name: value})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in alert_text(html)
    # Next to the field too, and the page keeps what the member typed.
    assert f'id="{name}-error"' in html
    kept = "Warszawa" if name != "locality" else "Katarzyna"
    assert f'value="{kept}"' in html
    assert snapshot(member) == before
    assert "member.profile_updated" not in audit_events(member.id)


def test_an_address_needs_street_city_and_country_together(client, member):
    response = post_form(
        client,
        PROFILE,
        {**GOOD, "street_address": "", "locality": "", "country": "", "postal_code": "00-950"},
    )
    alert = alert_text(response.get_data(as_text=True))
    assert response.status_code == 400
    for message in ("Enter the street", "Enter the city.", "Choose the country."):
        assert message in alert


def test_every_refused_field_is_named_at_once(client, member):
    response = post_form(client, PROFILE, {**GOOD, "given_name": "", "meal": "X", "seat": "X"})
    alert = alert_text(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "given name" in alert and "meal" in alert and "seat" in alert


def test_a_form_without_its_csrf_token_changes_nothing(client, member):
    before = snapshot(member)
    response = client.post(PROFILE, data=GOOD)
    assert response.status_code == 400
    assert "The form has expired" in response.get_data(as_text=True)
    assert snapshot(member) == before


def test_a_refused_form_is_shown_in_the_members_language(client, member):
    member.locale = "de"
    db.session.commit()
    response = post_form(client, PROFILE, {**GOOD, "locale": "de", "given_name": ""})
    assert response.status_code == 400
    assert "Geben Sie Ihren Vornamen ein." in alert_text(response.get_data(as_text=True))


def test_userinfo_returns_the_new_values_at_the_next_call(client, member):
    rp, _secret = make_client(scope="openid profile email phone address", purposes=["registration"])
    issued = issue_token(member, rp, "openid profile phone address")
    bearer = {"Authorization": f"Bearer {issued.access_token}"}
    before = client.get("/oauth/userinfo", headers=bearer).get_json()
    assert before["given_name"] == "Anna" and before["phone_number_verified"] is True
    assert post_form(client, PROFILE, GOOD).status_code == 303
    after = client.get("/oauth/userinfo", headers=bearer).get_json()
    assert after["given_name"] == "Katarzyna" and after["family_name"] == "Wiśniewska"
    assert after["academic_title"] == "Dr." and after["birthdate"] == "1979-03-21"
    assert after["locale"] == "pl"
    assert after["phone_number"] == "+48221234567" and after["phone_number_verified"] is False
    assert after["address"]["locality"] == "Warszawa" and after["address"]["country"] == "PL"
    assert after["address"]["formatted"] == "ul. Marszałkowska 10\n00-950 Warszawa\nPL"


# -- the email address ---------------------------------------------------------------------


def request_email_change(client, new_email: str):
    return post_form(client, PROFILE + "/email", {"new_email": new_email}, page=PROFILE)


def outbox(purpose: str) -> list[OutgoingMail]:
    return list(
        db.session.scalars(
            select(OutgoingMail).where(OutgoingMail.purpose == purpose).order_by(OutgoingMail.id)
        )
    )


def delivered(sink) -> list:
    """Every mail waiting in the outbox, sent to the test SMTP sink and parsed there."""
    send_pending(sink.url, SENDER)
    return sink.wait_for(len(sink.messages))


def confirmation_link(message) -> str:
    match = re.search(
        r"http://127\.0\.0\.1:5000(/account/profile/email/confirm\?token=\S+)",
        message.get_content(),
    )
    assert match, message.get_content()
    return match.group(1)


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def confirm(client, link: str):
    html = client.get(link).get_data(as_text=True)
    if "csrf_token" not in html:  # the link is dead: no form on its page
        html = client.get(PROFILE).get_data(as_text=True)
    return client.post(
        "/account/profile/email/confirm",
        data={"token": token_of(link), "csrf_token": csrf_token(html)},
    )


def test_a_new_address_takes_effect_only_through_the_link_sent_to_it(client, member, unique):
    old_email = member.email
    new_email = f"{unique('new')}@example.org"
    response = request_email_change(client, new_email.upper())
    assert response.status_code == 303 and response.headers["Location"] == PROFILE
    html = client.get(PROFILE).get_data(as_text=True)
    assert "Check your inbox at " + new_email in status_text(html)
    assert "pending-email" in html and new_email in html
    # Nothing changed yet: the old address still logs in and is what partners read.
    row = stored(member.id)
    assert row.email == old_email and find_by_email(old_email).id == member.id
    assert find_by_email(new_email) is None
    change = db.session.scalar(select(EmailChange).where(EmailChange.member_id == member.id))
    assert change.expires_at - change.created_at == timedelta(hours=24)
    assert change.confirmed_at is None

    with running_smtp_sink() as sink:
        (message,) = delivered(sink)
        assert message["To"] == new_email
        assert message["Subject"] == "Confirm your new email address for Miles & More"
        link = confirmation_link(message)
        # Only the hash of the link's token is stored.
        assert change.token_hash != token_of(link) and token_of(link) not in change.token_hash

        page = client.get(link)
        assert page.status_code == 200
        assert h1(page.get_data(as_text=True)) == "Confirm your new email address"
        assert stored(member.id).email == old_email  # opening the link changes nothing
        done = confirm(client, link)
        assert done.status_code == 303 and done.headers["Location"] == PROFILE
        assert status_text(client.get(PROFILE).get_data(as_text=True)) == (
            f"Your email address is now {new_email}."
        )
        row = stored(member.id)
        assert row.email == new_email and row.email_verified is True
        assert row.email_index == email_index(new_email)
        assert find_by_email(new_email).id == member.id and find_by_email(old_email) is None
        assert audit_events(member.id)[-2:] == [
            "member.email_change_requested",
            "member.email_changed",
        ]

        # The old address is told, without the whole new one.
        (_, notice) = delivered(sink)
        assert notice["To"] == old_email
        assert notice["Subject"] == "Your Miles & More email address was changed"
        assert new_email not in notice.get_content() and "•••@example.org" in notice.get_content()

        # The link works once.
        again = confirm(client, link)
        assert again.status_code == 410
        assert "used already" in alert_text(again.get_data(as_text=True))
        assert client.get(link).status_code == 410
    assert "pending-email" not in client.get(PROFILE).get_data(as_text=True)


def test_the_link_works_without_a_login_in_that_browser(app, client, member, unique):
    new_email = f"{unique('new')}@example.org"
    request_email_change(client, new_email)
    with running_smtp_sink() as sink:
        link = confirmation_link(delivered(sink)[0])
    other_browser = app.test_client()
    response = confirm(other_browser, link)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert status_text(html) == f"Your email address is now {new_email}."
    assert stored(member.id).email == new_email


def test_userinfo_shows_the_new_address_once_confirmed(client, member, unique):
    rp, _secret = make_client(scope="openid email", purposes=["registration"])
    issued = issue_token(member, rp, "openid email")
    bearer = {"Authorization": f"Bearer {issued.access_token}"}
    old_email = member.email
    new_email = f"{unique('new')}@example.org"
    request_email_change(client, new_email)
    assert client.get("/oauth/userinfo", headers=bearer).get_json()["email"] == old_email
    with running_smtp_sink() as sink:
        confirm(client, confirmation_link(delivered(sink)[0]))
    claims = client.get("/oauth/userinfo", headers=bearer).get_json()
    assert claims["email"] == new_email and claims["email_verified"] is True


def test_an_expired_link_changes_nothing(client, member, unique):
    old_email = member.email
    request_email_change(client, f"{unique('new')}@example.org")
    with running_smtp_sink() as sink:
        link = confirmation_link(delivered(sink)[0])
    db.session.execute(
        update(EmailChange)
        .where(EmailChange.member_id == member.id)
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
    page = client.get(link)
    assert page.status_code == 410
    assert "expired" in alert_text(page.get_data(as_text=True))
    assert 'name="token"' not in page.get_data(as_text=True)
    response = confirm(client, link)
    assert response.status_code == 410
    assert stored(member.id).email == old_email
    assert "member.email_changed" not in audit_events(member.id)
    assert "pending-email" not in client.get(PROFILE).get_data(as_text=True)


def test_the_links_lifetime_is_a_setting(app, client, member, unique):
    settings = app.config["IDP"]
    app.config["IDP"] = replace(settings, email_change_seconds=2 * 3600)
    try:
        request_email_change(client, f"{unique('new')}@example.org")
    finally:
        app.config["IDP"] = settings
    change = db.session.scalar(select(EmailChange).where(EmailChange.member_id == member.id))
    assert change.expires_at - change.created_at == timedelta(hours=2)
    (mail,) = outbox("email_change")
    assert "for 2 hours" in mail.body


@pytest.mark.parametrize("token", ["", "no-such-token", "x" * 500, "bad\x00token"])
def test_an_unknown_link_is_refused(client, app_ctx, token):
    response = client.get("/account/profile/email/confirm", query_string={"token": token})
    assert response.status_code == 400
    assert "not valid" in alert_text(response.get_data(as_text=True))


def test_a_newer_request_replaces_the_older_link(client, member, unique):
    first, second = f"{unique('a')}@example.org", f"{unique('b')}@example.org"
    request_email_change(client, first)
    request_email_change(client, second)
    with running_smtp_sink() as sink:
        old_link, new_link = (confirmation_link(m) for m in delivered(sink))
    assert confirm(client, old_link).status_code == 410
    assert stored(member.id).email == member.email
    assert confirm(client, new_link).status_code == 303
    assert stored(member.id).email == second


def test_a_pending_change_can_be_cancelled_and_its_link_dies(client, member, unique):
    new_email = f"{unique('cancel')}@example.org"
    request_email_change(client, new_email)
    html = client.get(PROFILE).get_data(as_text=True)
    assert ">Cancel the change</button>" in html
    # Without its CSRF token the request is refused and the change stays pending.
    refused = client.post(PROFILE + "/email/cancel", data={})
    assert refused.status_code == 400 and 'role="alert"' in refused.get_data(as_text=True)
    assert email_change.pending_change(stored(member.id)) is not None
    response = post_form(client, PROFILE + "/email/cancel", {}, page=PROFILE)
    assert response.status_code == 303 and response.headers["Location"] == PROFILE
    page = client.get(PROFILE).get_data(as_text=True)
    assert 'role="status"' in page and "is cancelled" in page
    assert ">Cancel the change</button>" not in page
    assert email_change.pending_change(stored(member.id)) is None
    with running_smtp_sink() as sink:
        (message,) = delivered(sink)
    assert confirm(client, confirmation_link(message)).status_code == 410
    assert stored(member.id).email == member.email
    assert "member.email_change_cancelled" in audit_events(member.id)
    # Nothing left to cancel: a conflict, said on the page.
    again = post_form(client, PROFILE + "/email/cancel", {}, page=PROFILE)
    assert again.status_code == 409 and "No change of your email address is waiting." in (
        again.get_data(as_text=True)
    )


def test_an_address_of_another_member_gets_the_same_answer_but_no_working_link(
    client, member, unique
):
    other, _password, _key = make_member(locale="de")
    taken = other.email
    response = request_email_change(client, taken)
    assert response.status_code == 303
    html = client.get(PROFILE).get_data(as_text=True)
    assert "Check your inbox at " + taken in status_text(html)
    assert "pending-email" in html
    # The owner of that address is told; no mail carries a link.
    assert outbox("email_change") == []
    (notice,) = outbox("email_change_taken")
    assert notice.recipient == taken and "token=" not in notice.body
    assert "Jemand" in notice.body  # in the owner's language
    assert stored(member.id).email == member.email
    assert stored(other.id).email == taken


def test_an_address_taken_after_the_request_is_not_given_away(client, member, unique):
    new_email = f"{unique('new')}@example.org"
    request_email_change(client, new_email)
    with running_smtp_sink() as sink:
        link = confirmation_link(delivered(sink)[0])
    make_member(email=new_email)
    response = confirm(client, link)
    assert response.status_code == 409
    assert "belongs to another account" in alert_text(response.get_data(as_text=True))
    assert stored(member.id).email == member.email


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Enter your new email address."),
        ("not-an-address", "Enter a valid email address."),
        ("a@b", "Enter a valid email address."),
        ("x" * 250 + "@example.org", "Enter a valid email address."),
        ("bad\x00@example.org", "Enter a valid email address."),
    ],
)
def test_bad_new_addresses_are_refused(client, member, value, message):
    response = request_email_change(client, value)
    assert response.status_code == 400
    assert message in alert_text(response.get_data(as_text=True))
    assert db.session.scalar(select(EmailChange.id)) is None
    assert outbox("email_change") == []


def test_the_current_verified_address_is_refused(client, member):
    response = request_email_change(client, member.email.upper())
    assert response.status_code == 400
    assert "your email address already" in alert_text(response.get_data(as_text=True))


def test_an_email_change_needs_a_recent_login(client, member, unique):
    db.session.execute(
        update(SSOSession)
        .where(SSOSession.member_id == member.id)
        .values(auth_time=utcnow() - timedelta(hours=1))
    )
    db.session.commit()
    response = request_email_change(client, f"{unique('new')}@example.org")
    assert response.status_code == 302 and "prompt=login" in response.headers["Location"]
    assert db.session.scalar(select(EmailChange.id)) is None


def test_requests_are_limited_per_day(client, member, unique):
    for _ in range(5):
        assert request_email_change(client, f"{unique('n')}@example.org").status_code == 303
    response = request_email_change(client, f"{unique('n')}@example.org")
    assert response.status_code == 429
    assert "too often today" in alert_text(response.get_data(as_text=True))
    assert len(outbox("email_change")) == 5


def test_an_unverified_member_confirms_the_current_address(client, app_ctx):
    member, _password, _key = make_member(email_verified=False)
    log_in(client, member)
    html = client.get(PROFILE).get_data(as_text=True)
    assert "not confirmed yet" in html
    assert re.search(r"<button[^>]*>Confirm my email address</button>", html)
    assert request_email_change(client, member.email).status_code == 303
    with running_smtp_sink() as sink:
        (message,) = delivered(sink)
        assert message["To"] == member.email
        assert confirm(client, confirmation_link(message)).status_code == 303
        row = stored(member.id)
        assert row.email == member.email and row.email_verified is True
        assert audit_events(member.id)[-1] == "member.email_verified"
        assert len(delivered(sink)) == 1  # no "your address was changed" mail


# -- email_verified tells the truth ----------------------------------------------------------


def test_members_create_leaves_the_address_unverified_unless_told(runner, app_ctx, unique):
    base = ["members", "create", "--password", "a long enough password"]
    base += ["--given-name", "Jan", "--family-name", "Kowalski", "--json"]
    plain, vouched = f"{unique('p')}@example.com", f"{unique('v')}@example.com"
    first = runner.invoke(args=[*base, "--email", plain])
    second = runner.invoke(args=[*base, "--email-verified", "--email", vouched])
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert set(json.loads(second.stdout)) == {"member_id", "card_number", "totp_secret"}
    assert find_by_email(plain).email_verified is False
    assert find_by_email(vouched).email_verified is True


def test_the_email_verified_claim_is_the_stored_value(app_ctx):
    unverified, _p, _k = make_member(email_verified=False)
    verified, _p, _k = make_member(email_verified=True)
    assert claims_for_scopes(unverified, ["email"], "s")["email_verified"] is False
    assert claims_for_scopes(verified, ["email"], "s")["email_verified"] is True


def test_the_links_lifetime_comes_from_the_environment(tmp_path):
    from idp.config import ConfigError, load_settings

    environ = {"IDP_INSTANCE_PATH": str(tmp_path)}
    assert load_settings(environ=environ).email_change_seconds == 24 * 3600
    hour = load_settings(environ={**environ, "IDP_EMAIL_CHANGE_SECONDS": "3600"})
    assert hour.email_change_seconds == 3600
    for bad in ("60", "one day", "-5", "9999999"):
        with pytest.raises(ConfigError, match="IDP_EMAIL_CHANGE_SECONDS"):
            load_settings(environ={**environ, "IDP_EMAIL_CHANGE_SECONDS": bad})


def test_the_demo_member_has_a_verified_address(app_ctx, tmp_path):
    from idp.services.demo import DEMO_EMAIL, seed_demo

    seed_demo(tmp_path)
    assert find_by_email(DEMO_EMAIL).email_verified is True
