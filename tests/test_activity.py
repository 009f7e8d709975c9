"""Activity timestamps written by reads (``idp.services.activity``): a session's last
activity for the idle timeout, a consent's last use for Connected apps.

At most one write a minute per row, none in between (not even a query beyond
what the request reads anyway), and the write after the response in a
transaction of its own.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event

from idp.extensions import db
from idp.models import Consent, SSOSession
from idp.models.types import utcnow
from idp.services import activity
from tests.factories import issue_token, log_in, make_client, make_member

WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
DATA = re.compile(r"\s*(SELECT|INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


@contextmanager
def statements():
    """The SQL statements sent meanwhile, in order."""
    sent: list[str] = []

    def capture(_conn, _cursor, statement, _parameters, _context, _many):
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)


def writes(sent):
    return [s.split()[0:3] for s in sent if WRITE.match(s)]


#: What a UserInfo call counts of what it read (``consent_usage.record_read``): one
#: statement per call, before the response; not an activity timestamp.
COUNT_READ = ["INSERT", "INTO", "partner_access"]


@pytest.fixture
def token(app_ctx):
    member, _, _ = make_member()
    client, _ = make_client(scope="openid email", purposes=["registration"])
    return issue_token(member, client, "openid email")


def userinfo(client, token):
    response = client.get(
        "/oauth/userinfo", headers={"Authorization": f"Bearer {token.access_token}"}
    )
    assert response.status_code == 200
    return response


# -- a consent's last use ---------------------------------------------------------


def test_a_bearer_call_writes_the_last_use_once_after_the_view(client, token):
    with statements() as sent:
        userinfo(client, token)
    assert writes(sent) == [COUNT_READ, ["UPDATE", "consents", "SET"]]
    data = [s for s in sent if DATA.match(s)]
    # The view's reads (the member for its claims) all came before the write.
    assert WRITE.match(data[-1]) and "members" in " ".join(data[:-1])
    consent = db.session.get(Consent, token.row.consent_id)
    db.session.refresh(consent)
    assert utcnow() - consent.last_used_at < timedelta(seconds=10)


def test_calls_within_the_minute_write_no_last_use(client, token):
    userinfo(client, token)
    with statements() as sent:
        for _ in range(3):
            userinfo(client, token)
    assert writes(sent) == [COUNT_READ] * 3


def test_a_call_a_minute_later_writes_again(client, token):
    consent = db.session.get(Consent, token.row.consent_id)
    consent.last_used_at = utcnow() - timedelta(seconds=61)
    db.session.commit()
    with statements() as sent:
        userinfo(client, token)
    assert writes(sent) == [COUNT_READ, ["UPDATE", "consents", "SET"]]
    db.session.refresh(consent)
    assert utcnow() - consent.last_used_at < timedelta(seconds=10)


# -- the conditional write and the memory of this process ---------------------------


def test_only_one_of_two_writers_changes_the_row(token):
    consent = db.session.get(Consent, token.row.consent_id)
    kwargs = dict(row_id=consent.id, attribute="last_used_at", seen=None)
    assert activity.write(Consent, **kwargs) is True
    assert activity.write(Consent, **kwargs) is False  # the row is fresh now


def test_a_request_that_loaded_the_replaced_value_sends_no_update(app, token):
    consent = db.session.get(Consent, token.row.consent_id)
    stale = utcnow() - timedelta(minutes=5)
    consent.last_used_at = stale
    db.session.commit()
    # Another request of this process wrote meanwhile, replacing ``stale``.
    assert activity.write(Consent, row_id=consent.id, attribute="last_used_at", seen=stale)
    consent.last_used_at = stale  # what a request that loaded the row earlier still holds
    with app.test_request_context():
        assert activity.note(consent, "last_used_at") is False
        # A value this process did not replace (moved by hand, say) is written.
        consent.last_used_at = stale - timedelta(minutes=1)
        assert activity.note(consent, "last_used_at") is True
    db.session.rollback()


# -- a session's last activity and the idle timeout ----------------------------------


@pytest.fixture
def browser(client, app_ctx):
    member, _, _ = make_member()
    sid = log_in(client, member)
    return client, sid


def seen_ago(sid, seconds):
    sso = db.session.get(SSOSession, sid)
    sso.last_seen_at = utcnow() - timedelta(seconds=seconds)
    db.session.commit()
    return sso.last_seen_at


def last_seen(sid):
    sso = db.session.get(SSOSession, sid)
    db.session.refresh(sso)
    return sso.last_seen_at


def test_a_page_view_within_the_minute_writes_nothing(browser):
    client, sid = browser
    before = seen_ago(sid, 30)
    with statements() as sent:
        assert client.get("/account").status_code == 200
    assert writes(sent) == []
    assert last_seen(sid) == before


def test_a_page_view_a_minute_later_writes_the_activity_once_after_the_page(browser):
    client, sid = browser
    seen_ago(sid, 120)
    with statements() as sent:
        assert client.get("/account").status_code == 200
    assert writes(sent) == [["UPDATE", "sso_sessions", "SET"]]
    assert WRITE.match([s for s in sent if DATA.match(s)][-1])
    assert utcnow() - last_seen(sid) < timedelta(seconds=10)


def test_a_session_idle_past_the_timeout_ends(app, browser):
    client, sid = browser
    idle = app.config["IDP"].session_idle_seconds
    before = seen_ago(sid, idle + 1)
    with statements() as sent:
        response = client.get("/account")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert writes(sent) == []  # an ended session is not brought back
    assert last_seen(sid) == before


def test_activity_keeps_a_session_alive_past_the_idle_timeout(app, browser):
    client, sid = browser
    idle = app.config["IDP"].session_idle_seconds
    seen_ago(sid, idle - 30)
    assert client.get("/account").status_code == 200
    # The page view counted: the session starts a new idle period now.
    assert utcnow() - last_seen(sid) < timedelta(seconds=10)
    assert client.get("/account").status_code == 200
