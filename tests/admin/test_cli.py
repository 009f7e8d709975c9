"""``mam-idp staff add``, ``clients reject|suspend|reinstate`` and ``analytics`` with --json."""

from __future__ import annotations

import json

import pytest

from idp.extensions import db
from idp.models import StaffMember
from idp.services import approval
from idp.services.staff import role_of
from tests.factories import make_client, make_member, make_partner


def run(runner, *args):
    result = runner.invoke(args=[*args, "--json"])
    return result.exit_code, json.loads(result.stdout)


@pytest.mark.parametrize("how", ["id", "email", "card_number"])
def test_staff_add_takes_an_id_email_or_card_number(app, runner, how):
    with app.app_context():
        member, _, _ = make_member()
        reference = {"id": member.id, "email": member.email, "card_number": member.card_number}
        member_id = member.id
    code, body = run(runner, "staff", "add", reference[how])
    assert code == 0 and body == {"member_id": member_id, "role": "admin"}
    with app.app_context():
        assert role_of(member_id) == "admin"
    # An auditor made admin, and twice is the same operator, not a second row.
    assert run(runner, "staff", "add", reference[how], "--role", "auditor")[1]["role"] == "auditor"
    assert run(runner, "staff", "add", reference[how], "--role", "admin")[0] == 0
    with app.app_context():
        assert db.session.query(StaffMember).filter_by(member_id=member_id).count() == 1


def test_staff_add_refusals(app, runner):
    with app.app_context():
        member, _, _ = make_member()
        member_id = member.id
    code, body = run(runner, "staff", "add", "nobody@example.com")
    assert code == 1 and body["error"] == "not_found" and body["field"] == "member"
    code, body = run(runner, "staff", "add", member_id, "--role", "root")
    assert code == 1 and body["error"] == "invalid_input" and body["field"] == "role"
    code, body = run(runner, "staff", "add", "   ")
    assert code == 1 and body["error"] == "not_found"
    code, body = run(runner, "staff", "add", member_id, "--role", "")
    assert code == 1 and body["error"] == "invalid_input" and body["field"] == "role"
    with app.app_context():
        assert role_of(member_id) is None


def test_clients_reject(app, runner):
    with app.app_context():
        client, _ = make_client(approved=False)
        approval.submit_for_approval(client.client_id)
        client_id = client.client_id
    code, body = run(runner, "clients", "reject", client_id, "--reason", "No privacy policy")
    assert code == 0 and body == {"client_id": client_id, "approved": False}
    with app.app_context():
        row = approval.find_client(client_id)
        assert row.approval_status == "rejected" and row.rejection_reason == "No privacy policy"


def test_clients_reject_refusals(app, runner):
    with app.app_context():
        client, _ = make_client(approved=True)
        client_id = client.client_id
    code, body = run(runner, "clients", "reject", client_id, "--reason", "late")
    assert code == 1 and body["error"] == "conflict"
    code, body = run(runner, "clients", "reject", client_id, "--reason", "  ")
    assert code == 1 and body["error"] == "invalid_input" and body["field"] == "reason"
    code, body = run(runner, "clients", "reject", "nope", "--reason", "x")
    assert code == 1 and body["error"] == "not_found"
    result = runner.invoke(args=["clients", "reject", client_id, "--json"])
    assert result.exit_code == 2 and json.loads(result.stdout)["error"] == "usage"
    with app.app_context():
        assert approval.find_client(client_id).approval_status == "approved"


def test_clients_approve_still_approves_a_rejected_client(app, runner):
    with app.app_context():
        client, _ = make_client(approved=False)
        approval.reject(client.client_id, "first try")
        client_id = client.client_id
    code, body = run(runner, "clients", "approve", client_id)
    assert code == 0 and body == {"client_id": client_id, "approved": True}
    with app.app_context():
        assert approval.find_client(client_id).approval_status == "approved"


def test_clients_suspend_and_reinstate(app, runner):
    with app.app_context():
        client, _ = make_client()
        client_id = client.client_id
    code, body = run(runner, "clients", "suspend", client_id, "--reason", "abuse")
    assert code == 0 and body["suspended"] is True and body["tokens_revoked"] == 0
    assert run(runner, "clients", "suspend", client_id, "--reason", "abuse")[1]["error"] == (
        "conflict"
    )
    code, body = run(runner, "clients", "reinstate", client_id)
    assert code == 0 and body == {"client_id": client_id, "suspended": False}
    assert run(runner, "clients", "reinstate", client_id)[1]["error"] == "conflict"


def test_analytics_command(app, runner):
    with app.app_context():
        partner = make_partner("Sky Hotels", "partner_company")
        partner_id = partner.id
    code, body = run(
        runner,
        "analytics",
        "--partner-id",
        partner_id,
        "--since",
        "2026-01-01",
        "--until",
        "2026-01-02",
    )
    assert code == 0
    assert body == {
        "partner_id": partner_id,
        "days": [
            {"day": "2026-01-01", "logins": 0, "members": 0, "new_consents": 0, "withdrawals": 0},
            {"day": "2026-01-02", "logins": 0, "members": 0, "new_consents": 0, "withdrawals": 0},
        ],
    }
    code, body = run(runner, "analytics", "--partner-id", partner_id, "--since", "yesterday")
    assert code == 1 and body["error"] == "invalid_input" and body["field"] == "since"
    code, body = run(runner, "analytics", "--partner-id", "nope", "--since", "2026-01-01")
    assert code == 1 and body["error"] == "not_found"
    text = runner.invoke(
        args=[
            "analytics",
            "--partner-id",
            partner_id,
            "--since",
            "2026-01-01",
            "--until",
            "2026-01-01",
        ]
    )
    assert text.exit_code == 0 and "2026-01-01" in text.stdout and "logins" in text.stdout
