"""/admin is for operators with a two-factor login; everybody else is kept out (INTERFACE.md)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from idp.extensions import db
from idp.models import Partner
from idp.services.staff import add_staff
from tests.factories import log_in, make_member
from tests.login_flow import h1

PAGES = [
    "/admin",
    "/admin/clients",
    "/admin/notifications",
    "/admin/audit",
    "/admin/audit?format=csv",
    "/admin/analytics",
    "/admin/analytics?format=json",
]


def actions(rp) -> list[str]:
    return [
        f"/admin/clients/{rp.client_id}/approve",
        f"/admin/clients/{rp.client_id}/reject",
        f"/admin/clients/{rp.client_id}/suspend",
        f"/admin/clients/{rp.client_id}/reinstate",
        f"/admin/partners/{rp.partner_id}/notifications/1/retry",
    ]


def test_nobody_logged_in_is_sent_to_the_login_page(client):
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 302, page
        location = urlsplit(response.headers["Location"])
        assert location.path == "/login"
        assert parse_qs(location.query)["next"] == [page]


def test_a_member_who_is_no_operator_gets_403_everywhere(console):
    rp = console.waiting_client()
    member_id = console.member()
    console.login(member_id)
    for page in [
        *PAGES,
        f"/admin/clients/{rp.client_id}/preview",
        f"/admin/partners/{rp.partner_id}/notifications",
    ]:
        response = console.http.get(page)
        assert response.status_code == 403, page
    # Actions too, with a valid CSRF token from a page the member may see.
    html = console.http.get("/account").get_data(as_text=True)
    token = html.split('name="csrf_token" value="')[1].split('"')[0]
    for url in actions(rp):
        response = console.http.post(url, data={"csrf_token": token, "reason": "x"})
        assert response.status_code == 403, url
    client = console.client_row(rp.client_id)
    assert client.approval_status == "waiting" and not client.suspended


def test_a_developer_of_the_partner_is_no_operator(console):
    from idp.services.registration import add_developer

    rp = console.waiting_client()
    developer = console.member()
    with console.app.app_context():
        add_developer(db.session.get(Partner, rp.partner_id), developer)
    console.login(developer)
    assert console.http.get("/admin").status_code == 403


def test_an_operator_logged_in_with_one_factor_must_log_in_again(app, client):
    with app.app_context():
        member, _password, _key = make_member()
        add_staff(member.id)
        member_id = member.id
    with app.app_context():
        from idp.models import Member

        log_in(client, db.session.get(Member, member_id), amr=("pwd",))
    response = client.get("/admin/audit")
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["prompt"] == ["login"] and query["next"] == ["/admin/audit"]


def test_the_operator_sees_the_console_and_the_administration_link(console, operator):
    response = console.http.get("/admin")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert h1(html) == "Administration"
    assert 'href="/admin"' in console.http.get("/account").get_data(as_text=True)


def test_members_see_no_administration_link(console):
    console.login(console.member())
    assert 'href="/admin"' not in console.http.get("/account").get_data(as_text=True)


@pytest.mark.parametrize(
    ("language", "heading"),
    [("de", "Verwaltung"), ("nl", "Beheer"), ("pl", "Administracja")],
)
def test_the_console_speaks_four_languages(console, operator, language, heading):
    html = console.http.get(f"/admin?ui_locales={language}").get_data(as_text=True)
    assert h1(html) == heading


def test_an_auditor_reads_the_console_and_changes_nothing(console):
    rp = console.waiting_client()
    with console.app.app_context():
        from idp.services.approval import suspend

        other = console.client("Suspended Partner")
        suspend(other.client_id, "abuse")
    auditor = console.member()
    with console.app.app_context():
        add_staff(auditor, role="auditor")
    console.login(auditor)
    for page in PAGES:
        assert console.http.get(page).status_code == 200, page
    queue = console.http.get("/admin").get_data(as_text=True)
    assert rp.client_id in queue and ">Approve</button>" not in queue
    clients = console.http.get("/admin/clients").get_data(as_text=True)
    assert ">Suspend</button>" not in clients and ">Reinstate</button>" not in clients
    html = console.http.get("/account").get_data(as_text=True)
    token = html.split('name="csrf_token" value="')[1].split('"')[0]
    for url in actions(rp) + [f"/admin/clients/{other.client_id}/reinstate"]:
        response = console.http.post(url, data={"csrf_token": token, "reason": "x"})
        assert response.status_code == 403, url
    assert console.client_row(rp.client_id).approval_status == "waiting"
    assert console.client_row(other.client_id).suspended
