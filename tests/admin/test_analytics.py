"""Login analytics counted from real logins through the authorization flow (SPEC.md §10).

A login counts when its code is exchanged for tokens; a member counts once per
partner and day; consents given and withdrawn count on their day. Nothing
stored names a member.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.models import LoginDay, LoginDayMarker
from idp.models.types import utcnow
from idp.services import analytics, withdrawal
from tests.admin.conftest import alert_text
from tests.login_flow import h1


def today_row(app, partner_id: str) -> LoginDay | None:
    with app.app_context():
        row = db.session.get(LoginDay, (partner_id, utcnow().date()))
        if row is not None:
            db.session.expunge(row)
        return row


def test_logins_distinct_members_consents_and_withdrawals(console):
    rp = console.client("Sky Hotels", scope="openid profile email", purposes=["registration"])
    other = console.client("Other Partner", scope="openid", purposes=["registration"])
    anna, ben = console.member(), console.member()

    console.login(anna)
    console.tokens(rp)  # consent given, first login
    console.tokens(rp)  # consent standing, second login
    console.login(ben)
    console.tokens(rp)
    code, _ = console.code(rp)  # a code never exchanged does not count
    console.tokens(other)

    row = today_row(console.app, rp.partner_id)
    assert (row.logins, row.members, row.new_consents, row.withdrawals) == (3, 2, 2, 0)
    assert today_row(console.app, other.partner_id).logins == 1

    with console.app.app_context():
        withdrawal.withdraw_partner_access(ben, rp.partner_id)
    row = today_row(console.app, rp.partner_id)
    assert (row.logins, row.members, row.new_consents, row.withdrawals) == (3, 2, 2, 1)


def test_nothing_stored_names_a_member(console):
    rp = console.client()
    member = console.member()
    console.login(member)
    console.tokens(rp)
    with console.app.app_context():
        markers = db.session.scalars(select(LoginDayMarker.marker)).all()
        rows = db.session.execute(select(LoginDay.__table__)).all()
    stored = " ".join(markers) + " ".join(str(r) for r in rows)
    assert markers and member not in stored
    assert all(len(m) == 64 for m in markers)


def test_the_markers_of_past_days_are_deleted_with_the_first_login_of_a_new_day(
    console, monkeypatch
):
    rp = console.client()
    member = console.member()
    console.login(member)
    yesterday = utcnow() - timedelta(days=1)
    monkeypatch.setattr(analytics, "utcnow", lambda: yesterday)
    console.tokens(rp)
    monkeypatch.undo()
    with console.app.app_context():
        days = set(db.session.scalars(select(LoginDayMarker.day)))
    assert days == {yesterday.date()}
    console.tokens(rp)
    with console.app.app_context():
        days = set(db.session.scalars(select(LoginDayMarker.day)))
        counted = db.session.get(LoginDay, (rp.partner_id, yesterday.date()))
        assert counted.members == 1 and counted.logins == 1
    assert days == {utcnow().date()}
    # The same member on a new day counts again.
    assert today_row(console.app, rp.partner_id).members == 1


def test_the_analytics_page_draws_a_chart_and_exports(console, operator):
    rp = console.client("Sky Hotels")
    member = console.member()
    console.login(member)
    console.tokens(rp)
    console.login(operator)

    page = console.http.get(f"/admin/analytics?partner_id={rp.partner_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and h1(html) == "Login analytics"
    assert "<svg" in html and 'role="img"' in html and "<rect" in html
    assert "Logins and distinct members per day at Sky Hotels" in html

    today = utcnow().date().isoformat()
    response = console.http.get(
        f"/admin/analytics?partner_id={rp.partner_id}&since={today}&format=json"
    )
    assert response.mimetype == "application/json"
    body = json.loads(response.get_data(as_text=True))
    assert body == {
        "partner_id": rp.partner_id,
        "days": [{"day": today, "logins": 1, "members": 1, "new_consents": 1, "withdrawals": 0}],
    }
    response = console.http.get(
        f"/admin/analytics?partner_id={rp.partner_id}&since={today}&format=csv"
    )
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert rows == [
        {"day": today, "logins": "1", "members": "1", "new_consents": "1", "withdrawals": "0"}
    ]
    four_weeks = console.http.get(f"/admin/analytics?partner_id={rp.partner_id}&format=json")
    assert len(json.loads(four_weeks.get_data(as_text=True))["days"]) == 28


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("partner_id=nope", "Not a valid choice"),
        ("since=2026-02-30", "Not a valid date value"),
        ("since=2026-12-02&until=2026-12-01", "The first day is after the last."),
        ("since=2020-01-01&until=2026-01-01", "A report covers at most 366 days."),
        ("format=pdf", "Export as CSV or JSON."),
    ],
)
def test_bad_analytics_requests_are_form_messages(console, operator, query, message):
    console.client("Sky Hotels")
    response = console.http.get(f"/admin/analytics?{query}")
    assert response.status_code == 400
    assert message in alert_text(response.get_data(as_text=True))


def test_the_report_fills_days_without_logins(console):
    rp = console.client()
    with console.app.app_context():
        days = analytics.report(rp.partner_id, date(2026, 1, 1), date(2026, 1, 3))
    assert [d.as_dict() for d in days] == [
        {"day": f"2026-01-0{i}", "logins": 0, "members": 0, "new_consents": 0, "withdrawals": 0}
        for i in (1, 2, 3)
    ]
