"""Every template compiles, and every template is rendered by a page a member reaches.

The templates are found on disk (every ``templates`` folder of the packages),
not listed here, so a new template is checked without being named. Each page
is rendered through its route with the context its view gives it; the
templates those pages extend, include or import count as rendered too. A
template nothing renders is dead and fails the test.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyotp
import pytest
from flask import template_rendered
from jinja2 import meta
from sqlalchemy import select

from idp.extensions import db
from idp.models import OutgoingMail
from tests.conftest import make_test_app
from tests.factories import make_member
from tests.login_flow import link_path, mailed_link, post_form
from tests.oauth.conftest import OAuth

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("idp", "consent_screens", "clients", "examples")
ISSUER = "http://127.0.0.1:5000"


def template_files() -> dict[str, Path]:
    """Template name (as Flask loads it) -> file, for every templates folder of the project."""
    found = {}
    for package in PACKAGES:
        for folder in sorted((ROOT / package).rglob("templates")):
            if not folder.is_dir():
                continue
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                name = path.relative_to(folder).as_posix()
                assert name not in found, f"{name} exists twice: {found[name]} and {path}"
                found[name] = path
    return found


def partner_app():
    from examples.partner import create_partner_app

    app = create_partner_app(
        issuer=ISSUER,
        client_id="demo-client",
        client_secret="demo-secret",
        redirect_uri="http://127.0.0.1:5001/callback",
    )
    app.config.update(TESTING=True)
    return app


def environment_for(name: str, app):
    """The Jinja environment of the app that loads ``name``."""
    path = template_files()[name]
    if path.is_relative_to(ROOT / "examples"):
        return partner_app().jinja_env
    return app.jinja_env


def test_templates_are_found():
    names = template_files()
    assert "layout.html" in names and "consent/consent.html" in names
    assert "partner_home.html" in names and "mail/email_code.txt" in names


@pytest.fixture(scope="module")
def loading_app(tmp_path_factory):
    """The provider's app for loading templates only: no database is used, so its
    tests run once, not once per backend."""
    tmp = tmp_path_factory.mktemp("templates")
    return make_test_app(f"sqlite:///{tmp / 'unused.sqlite3'}", tmp / "instance")


@pytest.mark.parametrize("name", sorted(template_files()))
def test_every_template_compiles(loading_app, name):
    env = environment_for(name, loading_app)
    # Loaded by name, so the file is the one the app finds (no template shadows it).
    template = env.get_template(name)
    assert Path(template.filename).resolve() == template_files()[name].resolve()


def referenced(env, name: str, seen: set[str]) -> set[str]:
    """``name`` and every template it extends, includes or imports, transitively."""
    if name in seen:
        return seen
    seen.add(name)
    source = env.loader.get_source(env, name)[0]
    for child in meta.find_referenced_templates(env.parse(source)):
        assert child is not None, f"{name} picks a template by a variable; list it explicitly"
        referenced(env, child, seen)
    return seen


class Rendered:
    """The templates the apps render while connected."""

    def __init__(self):
        self.names: list[str] = []

    def __call__(self, sender, template, context, **extra):
        self.names.append(template.name)


def walk_every_page(app, client, rendered: Rendered) -> None:
    """Reach each page as a member does, checking each answers as it should."""
    oauth = OAuth(app, client)

    def page(url, status=200, client=client, **kwargs):
        response = client.get(url, **kwargs)
        assert response.status_code == status, (url, response.status_code)
        return response.get_data(as_text=True)

    # Enrolment of a member without an authenticator app, then the recovery codes.
    with app.app_context():
        newcomer, password, _ = make_member(totp=False)
        newcomer_email = newcomer.email
    page("/login")
    response = post_form(client, "/login", {"login": newcomer_email, "password": password})
    assert response.headers["Location"].endswith("/login/enrol/email")
    page("/login/enrol/email")
    with app.app_context():
        enrolment_link = link_path(mailed_link(newcomer_email))
    page(enrolment_link, client=app.test_client())  # another browser: the password first
    # Their password forgotten meanwhile: the link, a new one, and then the enrolment.
    page("/login/forgot")
    post_form(client, "/login/forgot", {"login": newcomer_email})
    with app.app_context():
        reset_link = link_path(mailed_link(newcomer_email, "password_reset"))
    page(reset_link)
    response = post_form(client, reset_link, {"new_password": "a new password of hers"})
    assert response.headers["Location"].endswith("/login/enrol")
    assert "mail/password_changed.txt" in rendered.names
    page(reset_link, status=410)
    html = page("/login/enrol")
    key = re.search(r'id="totp-key">([A-Z2-7 ]+)</p>', html).group(1).replace(" ", "")
    response = post_form(client, "/login/enrol", {"code": pyotp.TOTP(key).now()})
    assert response.status_code == 200 and 'class="recovery-code"' in response.get_data(
        as_text=True
    )
    # The newcomer replaces the app just set up: the page, then the mailed notice.
    html = page("/account/security/authenticator")
    key = re.search(r'id="totp-key">([A-Z2-7 ]+)</p>', html).group(1).replace(" ", "")
    before = len(rendered.names)
    post_form(client, "/account/security/authenticator", {"code": pyotp.TOTP(key).now()})
    assert "mail/security_notice.txt" in rendered.names[before:]

    # The second step in each of its forms, and an email code sent.
    member_id = oauth.member()
    email, password, _ = oauth.credentials[member_id]
    post_form(client, "/login", {"login": email, "password": password}, page="/login?prompt=login")
    page("/login/verify")
    page("/login/verify/recovery")
    page("/login/verify/email")
    before = len(rendered.names)
    post_form(client, "/login/verify/email/send", {}, page="/login/verify/email")
    assert "mail/email_code.txt" in rendered.names[before:]

    # A logged-in member: the member area, the consent step, logging out.
    oauth.login(member_id)
    page("/account")
    page("/account/security")
    page("/account/apps")
    page("/account/linked-profiles")
    page("/account/profile")
    # An email change: to an address that has an account, then to a new one, confirmed.
    for address in (newcomer_email, "changed-address@example.com"):
        post_form(client, "/account/profile/email", {"new_email": address}, page="/account/profile")
    assert {"mail/email_change_taken.txt", "mail/email_change.txt"} <= set(rendered.names)
    with app.app_context():
        body = db.session.scalars(
            select(OutgoingMail.body).where(OutgoingMail.purpose == "email_change")
        ).one()
    link = re.search(r"(/account/profile/email/confirm\?token=\S+)", body).group(1)
    page(link)
    post_form(client, "/account/profile/email/confirm", {"token": link.split("=", 1)[1]}, page=link)
    assert "mail/email_changed.txt" in rendered.names
    page("/account/profile/email/confirm?token=no-such-token", status=400)
    page("/account/export")
    page("/linking/no-such-airline/callback", status=404)
    rp = oauth.client(scope="openid profile", purposes=["registration"], approved=True)
    _location, consent = oauth.consent_page(oauth.authorize(rp))
    assert "consent/consent.html" in rendered.names
    assert rp.partner_name in consent.get_data(as_text=True)
    oauth.tokens(rp, scope="openid profile")
    page(f"/account/apps/{rp.partner_id}/revoke")
    # The operator console, once the member is staff.
    from idp.services.staff import add_staff

    with app.app_context():
        add_staff(member_id)
    for url in (
        "/admin",
        "/admin/clients",
        f"/admin/clients/{rp.client_id}/preview",
        f"/admin/partners/{rp.partner_id}/notifications",
        "/admin/audit",
        "/admin/analytics",
    ):
        page(url)
    # The developer portal: not a developer yet, then of a new partner, with a client.
    page("/developers", status=403)
    page("/developers/partners/new")
    post_form(
        client,
        "/developers/partners/new",
        {"name": "Portal Partner"},
        page="/developers/partners/new",
    )
    from idp.services.invitations import partners_of

    with app.app_context():
        (own,) = partners_of(member_id)
        own_id = own.id
    new_client = f"/developers/partners/{own_id}/clients/new"
    response = post_form(
        client,
        new_client,
        {
            "client_name": "Portal Site",
            "redirect_uris": "https://portal.example/cb",
            "access_token_ttl": "60",
            "grant_ttl": "60",
        },
        page=new_client,
    )
    assert "developers/secret.html" in rendered.names
    client_id = re.search(r'id="client-id">([^<]+)<', response.get_data(as_text=True)).group(1)
    page(f"/developers/clients/{client_id}")
    page(f"/developers/clients/{client_id}/preview?language=de")
    post_form(
        client,
        f"/developers/partners/{own_id}/invitations",
        {"email": "dev@example.com"},
        page="/developers",
    )
    assert "mail/developer_invitation.txt" in rendered.names
    page("/developers/invitation?token=no-such-token", status=404)
    page("/logout")
    page("/oauth/logout")
    response = post_form(client, "/oauth/logout", {"confirm": "yes"}, page="/oauth/logout")
    assert response.status_code == 200

    # Deleting an account: the page, then the deletion with a recovery code.
    leaving = oauth.member()
    oauth.login(leaving)
    page("/account/delete")
    with app.app_context():
        from idp.models import Member
        from idp.services.second_factor import new_recovery_codes

        codes = new_recovery_codes(db.session.get(Member, leaving))
        db.session.commit()
    form = {"password": oauth.credentials[leaving][1], "code": codes[0]}
    response = post_form(client, "/account/delete", form)
    assert response.status_code == 200 and "account/deleted.html" in rendered.names

    # The error page, for a browser.
    page("/no-such-page", status=404, headers={"Accept": "text/html"})


def test_every_template_is_rendered_by_a_page(app, client):
    rendered = Rendered()
    with template_rendered.connected_to(rendered):
        walk_every_page(app, client, rendered)
        partner = partner_app()
        response = partner.test_client().get("/")
        assert response.status_code == 200

    reached: set[str] = set()
    for name in set(rendered.names):
        in_examples = template_files()[name].is_relative_to(ROOT / "examples")
        env = partner.jinja_env if in_examples else app.jinja_env
        referenced(env, name, reached)
    unused = sorted(set(template_files()) - reached)
    assert not unused, (
        "no page renders these templates: "
        + ", ".join(f"{name} ({template_files()[name].relative_to(ROOT)})" for name in unused)
        + ". Delete a template nothing uses, or render it from a view and reach that view here."
    )
