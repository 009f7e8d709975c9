"""The portal's pages and actions through the test client: who may see them, registering,
editing, submitting and rotating, each bad input refused next to its field with nothing written."""

from __future__ import annotations

import base64
import re

import pytest

from idp.models import Client
from idp.services import approval
from tests.login_flow import alert_text, h1
from tests.portal.conftest import REDIRECT


def test_nobody_logged_in_goes_to_the_login_page(portal):
    response = portal.http.get("/developers")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=%2Fdevelopers")


def test_a_login_with_one_factor_logs_in_again(portal, app):
    from tests.factories import log_in, make_member

    with app.app_context():
        member, _password, _key = make_member()
        log_in(portal.http, member, amr=("pwd",))
    response = portal.http.get("/developers")
    assert response.status_code == 302 and "prompt=login" in response.headers["Location"]


def test_a_member_who_is_no_developer_gets_403_and_may_create_a_partner(portal):
    member_id = portal.member()
    portal.login(member_id)
    other_member, other_partner = None, None
    response = portal.http.get("/developers")
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert h1(html) == "Partner developers" and "Create a partner organisation" in html

    page = portal.http.get("/developers/partners/new")
    assert h1(page.get_data(as_text=True)) == "Create a partner organisation"
    response = portal.post(
        "/developers/partners/new", {"name": "Rail & Fly"}, "/developers/partners/new"
    )
    assert response.status_code == 302
    html = portal.http.get("/developers").get_data(as_text=True)
    assert h1(html) == "Partner developers" and "Rail &amp; Fly" in html
    assert ">Register a client</button>" in html
    account = portal.http.get("/account").get_data(as_text=True)
    assert '<a href="/developers">Partner developers</a>' in account  # the layout's link
    (created,) = portal.events("partner.created")
    assert created.member_id == member_id and created.details["category"] == "partner_company"
    del other_member, other_partner


def test_a_partner_needs_a_name(portal):
    portal.login(portal.member())
    from idp.models import Partner

    before = portal.count(Partner)
    response = portal.post("/developers/partners/new", {"name": "  "}, "/developers/partners/new")
    assert response.status_code == 400
    assert "name of up to 200 characters" in alert_text(response.get_data(as_text=True))
    assert portal.count(Partner) == before


def test_another_partners_clients_are_not_found(portal):
    rp = portal.client("Other Partner", approved=False)
    _member, partner_id = portal.developer()
    for url in (
        f"/developers/clients/{rp.client_id}",
        f"/developers/clients/{rp.client_id}/preview",
        f"/developers/partners/{rp.partner_id}/clients/new",
    ):
        assert portal.http.get(url).status_code == 404, url
    response = portal.post(f"/developers/clients/{rp.client_id}/submit")
    assert response.status_code == 404
    response = portal.post(
        f"/developers/clients/{rp.client_id}/rotate-secret", {"grace_hours": "1"}
    )
    assert response.status_code == 404
    assert portal.clients_of(rp.partner_id)[0].submitted_at is None


def test_every_form_refuses_a_post_without_its_csrf_token(portal):
    _member, partner_id = portal.developer()
    portal.register(partner_id)
    (client,) = portal.clients_of(partner_id)
    for url, data in (
        ("/developers/partners/new", {"name": "X"}),
        (f"/developers/partners/{partner_id}/clients/new", {"client_name": "Y"}),
        (f"/developers/clients/{client.client_id}", {"client_name": "Z"}),
        (f"/developers/clients/{client.client_id}/submit", {}),
        (f"/developers/clients/{client.client_id}/rotate-secret", {"grace_hours": "1"}),
        (f"/developers/partners/{partner_id}/invitations", {"email": "a@example.com"}),
    ):
        response = portal.http.post(url, data=data)
        assert response.status_code == 400, url
        assert "The form has expired" in response.get_data(as_text=True)
    (after,) = portal.clients_of(partner_id)
    assert after.client_name == "Sky Hotels Booking" and after.submitted_at is None
    assert len(portal.clients_of(partner_id)) == 1


def test_register_shows_the_secret_once_and_the_client_is_a_draft(portal):
    member_id, partner_id = portal.developer()
    page = portal.http.get(f"/developers/partners/{partner_id}/clients/new").get_data(as_text=True)
    assert h1(page) == "Register a client"
    for label in ("Client name", "Redirect URIs", "Public client (no secret)"):
        assert f">{label}</label>" in page or f"> {label}</label>" in page, label
    assert ">Register</button>" in page and 'type="checkbox"' in page
    response = portal.register(
        partner_id,
        purposes=["miles", "registration"],
        logo_uri="https://shop.example/logo.png",
        post_logout_redirect_uris="https://shop.example/bye",
        policy_uri="https://shop.example/privacy",
        tos_uri="https://shop.example/terms",
        backchannel_logout_uri="https://shop.example/logout",
        security_event_uri="https://shop.example/events",
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert h1(html) == "Client registered"
    (client,) = portal.clients_of(partner_id)
    secret = html.split('id="client-secret">')[1].split("<")[0]
    assert client.check_client_secret(secret)
    assert client.approval_status == "draft" and not client.first_party
    assert set(client.scopes) >= {"openid", "card_number", "miles", "email"}
    assert client.policy_uri == "https://shop.example/privacy"
    assert client.post_logout_redirect_uris == ["https://shop.example/bye"]
    assert client.security_event_uri == "https://shop.example/events"
    (event,) = portal.events("client.registered")
    assert event.client_id == client.client_id

    home = portal.http.get("/developers").get_data(as_text=True)
    assert f'<h2 id="client-{client.client_id}">Sky Hotels Booking</h2>' in home
    assert ">Draft</span>" in home and ">Submit for approval</button>" in home
    assert secret not in home
    assert secret not in portal.http.get(f"/developers/clients/{client.client_id}").get_data(
        as_text=True
    )
    del member_id


def test_a_public_client_gets_no_secret(portal):
    _member, partner_id = portal.developer()
    response = portal.register(partner_id, public="y")
    assert response.status_code == 302
    (client,) = portal.clients_of(partner_id)
    assert client.token_endpoint_auth_method == "none" and client.client_secret_hash is None


BAD_INPUTS = [
    ({"client_name": ""}, "client_name", "name of up to 200 characters"),
    ({"redirect_uris": ""}, "redirect_uris", "at least one redirect URI"),
    ({"redirect_uris": "http://shop.example/cb"}, "redirect_uris", "loopback only"),
    ({"redirect_uris": "https://shop.example/cb#x"}, "redirect_uris", "without a fragment"),
    (
        {"post_logout_redirect_uris": "javascript:alert(1)"},
        "post_logout_redirect_uris",
        "reverse-DNS",
    ),
    ({"logo_uri": "http://shop.example/logo.png"}, "logo_uri", "https URL"),
    ({"policy_uri": "ftp://shop.example/p"}, "policy_uri", "https URL"),
    ({"tos_uri": "not a url"}, "tos_uri", "https URL"),
    ({"backchannel_logout_uri": "http://shop.example/l"}, "backchannel_logout_uri", "https URL"),
    ({"security_event_uri": "https://shop.example/e#f"}, "security_event_uri", "https URL"),
    ({"access_token_ttl": "ten"}, "access_token_ttl", "whole number of seconds"),
    ({"access_token_ttl": "0"}, "access_token_ttl", "from 1 to"),
    ({"grant_ttl": "999999999999"}, "grant_ttl", "whole number of seconds"),
    ({"purposes": ["no-such"]}, "purposes", "not a valid choice"),
    ({"token_endpoint_auth_method": "private_key_jwt"}, "jwks", "public keys or their URL"),
    ({"jwks": "{not json"}, "jwks", "not valid JSON"),
    ({"jwks": '{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}'}, "jwks", "RSA"),
    (
        {"jwks": '{"keys": []}', "jwks_uri": "https://shop.example/jwks"},
        "jwks",
        "not both",
    ),
    (
        {"redirect_uris": "https://a.example/cb\nhttps://b.example/cb"},
        "sector_identifier_uri",
        "several hosts",
    ),
    ({"sector_identifier_uri": "http://shop.example/s"}, "sector_identifier_uri", "https URL"),
]


@pytest.mark.parametrize(("fields", "field", "words"), BAD_INPUTS)
def test_each_bad_input_is_shown_next_to_its_field_and_nothing_is_stored(
    portal, fields, field, words
):
    _member, partner_id = portal.developer()
    response = portal.register(partner_id, **fields)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert h1(html) == "Register a client"
    error = html.split(f'id="{field}-error" role="alert">')[1] if field != "purposes" else html
    assert words in error.split("</p>")[0] if field != "purposes" else words in alert_text(html)
    assert portal.clients_of(partner_id) == []
    assert portal.events("client.registered") == []


def test_edit_changes_the_client_and_a_bad_change_writes_nothing(portal):
    _member, partner_id = portal.developer()
    portal.register(partner_id)
    (client,) = portal.clients_of(partner_id)
    url = f"/developers/clients/{client.client_id}"
    page = portal.http.get(url).get_data(as_text=True)
    assert h1(page) == "Edit Sky Hotels Booking" and REDIRECT in page
    form = {
        "client_name": "Sky Hotels",
        "redirect_uris": f"{REDIRECT}\n{REDIRECT}/2",
        "purposes": ["registration", "autofill"],
        "token_endpoint_auth_method": "client_secret_post",
        "access_token_ttl": "600",
        "grant_ttl": "86400",
        "tos_uri": "https://shop.example/terms",
    }
    response = portal.post(url, form, page=url)
    assert response.status_code == 302
    (changed,) = portal.clients_of(partner_id)
    assert changed.client_name == "Sky Hotels" and changed.access_token_ttl == 600
    assert changed.redirect_uris == [REDIRECT, f"{REDIRECT}/2"]
    assert changed.token_endpoint_auth_method == "client_secret_post"
    assert "phone" in changed.scopes and changed.version > client.version
    (event,) = portal.events("client.updated")
    assert "client_name" in event.details["fields"] and event.member_id == _member

    response = portal.post(
        url, {**form, "client_name": "Other", "redirect_uris": "http://x.example/cb"}, page=url
    )
    assert response.status_code == 400
    assert "loopback only" in alert_text(response.get_data(as_text=True))
    (same,) = portal.clients_of(partner_id)
    assert same.client_name == "Sky Hotels" and same.version == changed.version


def test_submit_for_approval_and_the_status_and_reason_on_the_page(portal):
    member_id, partner_id = portal.developer()
    portal.register(partner_id)
    (client,) = portal.clients_of(partner_id)
    response = portal.post(f"/developers/clients/{client.client_id}/submit")
    assert response.status_code == 302
    html = portal.http.get("/developers").get_data(as_text=True)
    assert ">Waiting for approval</span>" in html and "is waiting for approval" in html
    (event,) = portal.events("client.submitted")
    assert event.member_id == member_id
    with portal.app.app_context():
        approval.reject(client.client_id, "Your privacy policy link is missing.")
    html = portal.http.get("/developers").get_data(as_text=True)
    assert ">Rejected</span>" in html and "Your privacy policy link is missing." in html
    with portal.app.app_context():
        approval.submit_for_approval(client.client_id)
        approval.approve(client.client_id)
    html = portal.http.get("/developers").get_data(as_text=True)
    assert ">Approved</span>" in html and ">Submit for approval</button>" not in html
    response = portal.post(f"/developers/clients/{client.client_id}/submit")
    assert response.status_code == 409
    assert "approved already" in alert_text(response.get_data(as_text=True))


def _basic(client_id: str, secret: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def _client_credentials(portal, client_id, secret):
    return portal.http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers=_basic(client_id, secret)
    )


def test_rotate_secret_keeps_the_old_one_for_the_grace_period(portal):
    _member, partner_id = portal.developer()
    html = portal.register(partner_id).get_data(as_text=True)
    old = html.split('id="client-secret">')[1].split("<")[0]
    (client,) = portal.clients_of(partner_id)
    url = f"/developers/clients/{client.client_id}"
    assert ">Rotate secret</button>" in portal.http.get(url).get_data(as_text=True)
    response = portal.post(f"{url}/rotate-secret", {"grace_hours": "2"}, page=url)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert h1(html) == "New client secret" and "The old secret keeps working until" in html
    new = html.split('id="client-secret">')[1].split("<")[0]
    assert new != old
    assert _client_credentials(portal, client.client_id, new).status_code == 200
    assert _client_credentials(portal, client.client_id, old).status_code == 200
    (event,) = portal.events("client.secret_rotated")
    assert event.details["grace_seconds"] == 7200 and event.member_id == _member


@pytest.mark.parametrize("grace", ["169", "-1", "two", ""])
def test_a_grace_period_beyond_7_days_is_refused(portal, grace):
    _member, partner_id = portal.developer()
    html = portal.register(partner_id).get_data(as_text=True)
    old = html.split('id="client-secret">')[1].split("<")[0]
    (client,) = portal.clients_of(partner_id)
    url = f"/developers/clients/{client.client_id}"
    response = portal.post(f"{url}/rotate-secret", {"grace_hours": grace}, page=url)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "from 0 to 168" in html.split('id="grace_hours-error" role="alert">')[1]
    (same,) = portal.clients_of(partner_id)
    assert same.check_client_secret(old) and same.client_secret_hash == client.client_secret_hash


def test_a_public_client_has_no_secret_to_rotate(portal):
    _member, partner_id = portal.developer()
    portal.register(partner_id, public="y")
    (client,) = portal.clients_of(partner_id)
    url = f"/developers/clients/{client.client_id}"
    assert ">Rotate secret</button>" not in portal.http.get(url).get_data(as_text=True)
    response = portal.post(f"{url}/rotate-secret", {"grace_hours": "1"}, page=url)
    assert response.status_code == 400
    assert "does not authenticate with a secret" in alert_text(response.get_data(as_text=True))


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "would like to use your Miles &amp; More account"),
        ("de", "möchte Ihr Miles &amp; More Konto verwenden"),
        ("nl", "wil graag uw Miles &amp; More-account gebruiken"),
        ("pl", "chce korzystać z Twojego konta Miles &amp; More"),
    ],
)
def test_the_consent_screen_preview_in_four_languages(portal, language, words):
    _member, partner_id = portal.developer()
    portal.register(partner_id, purposes=["miles"])
    (client,) = portal.clients_of(partner_id)
    response = portal.http.get(
        f"/developers/clients/{client.client_id}/preview?language={language}"
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert h1(html) == "Consent screen preview"
    assert f'class="consent consent-preview" lang="{language}"' in html and words in html
    assert "Sky Hotels" in html


def test_the_preview_shows_the_words_of_the_consent_screen(portal, app):
    from flask_babel import force_locale

    from idp.web import consent_screen

    _member, partner_id = portal.developer()
    portal.register(partner_id, purposes=["miles"])
    (client,) = portal.clients_of(partner_id)
    html = portal.http.get(f"/developers/clients/{client.client_id}/preview?language=de").get_data(
        as_text=True
    )
    from html import unescape

    with app.test_request_context(), force_locale("de"):
        from idp.extensions import db

        stored = db.session.get(Client, client.id)
        screen = consent_screen.preview(stored)
        for line in (screen.lead, screen.responsibility, screen.withdrawal, screen.groups[0].title):
            assert line in unescape(html), line


def _live_preview(portal, url: str, form_page: str, **fields):
    form = {
        "client_name": "Sky Hotels Booking",
        "redirect_uris": REDIRECT,
        "purposes": ["miles"],
        "token_endpoint_auth_method": "client_secret_basic",
        "access_token_ttl": "3600",
        "grant_ttl": "7776000",
        **fields,
    }
    return portal.post(url, form, page=form_page)


def test_the_live_preview_shows_the_unsaved_form_in_four_languages(portal):
    _member, partner_id = portal.developer()
    new = f"/developers/partners/{partner_id}/clients/new"
    assert ">Preview</button>" in portal.http.get(new).get_data(as_text=True)
    response = _live_preview(portal, f"/developers/partners/{partner_id}/clients/preview", new)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert h1(html) == "Consent screen preview" and "Nothing is saved yet" in html
    for language in ("en", "de", "nl", "pl"):
        assert f'class="consent consent-preview" lang="{language}"' in html
    assert "möchte Ihr Miles &amp; More Konto verwenden" in html
    assert portal.clients_of(partner_id) == [] and portal.events("client.registered") == []


def test_the_live_preview_of_changes_saves_nothing(portal):
    _member, partner_id = portal.developer()
    portal.register(partner_id)
    (client,) = portal.clients_of(partner_id)
    url = f"/developers/clients/{client.client_id}"
    response = _live_preview(portal, f"{url}/preview", url, client_name="Sky Hotels Rewards")
    assert response.status_code == 200
    assert "Sky Hotels Rewards would like to use" in response.get_data(as_text=True)
    (same,) = portal.clients_of(partner_id)
    assert same.client_name == "Sky Hotels Booking" and same.version == client.version


def test_the_live_preview_refuses_what_registering_refuses(portal):
    _member, partner_id = portal.developer()
    new = f"/developers/partners/{partner_id}/clients/new"
    response = _live_preview(
        portal, f"/developers/partners/{partner_id}/clients/preview", new, redirect_uris=""
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert h1(html) == "Register a client"
    assert "at least one redirect URI" in html.split('id="redirect_uris-error" role="alert">')[1]
    other = portal.client("Other Partner", approved=False)
    response = _live_preview(portal, f"/developers/clients/{other.client_id}/preview", new)
    assert response.status_code == 404


def test_offline_access_is_asked_only_when_ticked(portal):
    _member, partner_id = portal.developer()
    portal.register(partner_id, client_name="Without", purposes=["miles"])
    portal.register(partner_id, client_name="With", purposes=["miles"], offline_access="y")
    by_name = {c.client_name: c for c in portal.clients_of(partner_id)}
    assert "offline_access" not in by_name["Without"].scopes
    assert "offline_access" in by_name["With"].scopes
    html = portal.http.get(f"/developers/clients/{by_name['With'].client_id}/preview").get_data(
        as_text=True
    )
    assert "Allow access without time limit" in html


def test_an_edit_keeps_the_grant_types_registered_elsewhere(portal):
    from idp.services.registration import ClientRequest, register_partner_client

    _member, partner_id = portal.developer()
    with portal.app.app_context():
        client, _secret = register_partner_client(
            ClientRequest(
                partner_id=partner_id,
                client_name="Code only",
                redirect_uris=[REDIRECT],
                scope="openid email",
                grant_types=["authorization_code"],
            )
        )
        client_id = client.client_id
    url = f"/developers/clients/{client_id}"
    page = portal.http.get(url).get_data(as_text=True)
    assert h1(page) == "Edit Code only"
    form = {
        "client_name": "Code only, renamed",
        "redirect_uris": REDIRECT,
        "purposes": ["registration"],
        "token_endpoint_auth_method": "client_secret_basic",
        "access_token_ttl": "3600",
        "grant_ttl": "3600",
    }
    assert portal.post(url, form, page=url).status_code == 302
    (changed,) = portal.clients_of(partner_id)
    assert changed.client_name == "Code only, renamed"
    assert changed.grant_types == ["authorization_code"]


def test_a_member_who_develops_for_no_partner_gets_403_on_every_page(portal):
    rp = portal.client("Other Partner", approved=False)
    portal.login(portal.member())
    for url in (
        f"/developers/clients/{rp.client_id}",
        f"/developers/clients/{rp.client_id}/preview",
        f"/developers/partners/{rp.partner_id}/clients/new",
    ):
        assert portal.http.get(url).status_code == 403, url
    response = portal.post(f"/developers/clients/{rp.client_id}/submit", page="/account")
    assert response.status_code == 403
    assert portal.clients_of(rp.partner_id)[0].submitted_at is None


def test_the_grant_management_scopes_come_with_the_box_for_confidential_clients(portal):
    _member, partner_id = portal.developer()
    portal.register(partner_id, client_name="Plain", purposes=["miles"])
    portal.register(partner_id, client_name="Managing", purposes=["miles"], grant_management="y")
    by_name = {c.client_name: c for c in portal.clients_of(partner_id)}
    assert "grant_management_query" not in by_name["Plain"].scopes
    assert {"grant_management_query", "grant_management_revoke"} <= set(by_name["Managing"].scopes)
    # The edit page shows the box ticked, so saving keeps the scopes.
    page = portal.http.get(f"/developers/clients/{by_name['Managing'].client_id}")
    box = re.search(r'<input[^>]*name="grant_management"[^>]*>', page.get_data(as_text=True))
    assert box is not None and "checked" in box.group(0)
    # The consent screen preview shows member data only.
    preview = portal.http.get(f"/developers/clients/{by_name['Managing'].client_id}/preview")
    assert preview.status_code == 200
    assert "grant_management" not in preview.get_data(as_text=True)
