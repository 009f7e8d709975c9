"""IDP_TRUSTED_PROXIES: behind a proxy, each member's own address counts."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from idp.config import ConfigError, load_settings
from idp.extensions import db, limiter
from idp.models import AuditEvent
from tests.conftest import make_test_app
from tests.factories import make_member
from tests.login_flow import csrf_token

PROXY = "10.0.0.1"


@pytest.fixture
def restore_limiter(app):
    """The limiter is one global bound to the last app made: give it back to the suite's."""
    yield
    limiter.init_app(app)


def proxied_app(database_url, tmp_path, proxies: int):
    return make_test_app(
        database_url, tmp_path / "instance", login_rate_limit="3/minute", trusted_proxies=proxies
    )


def wrong_passwords(app, member_address: str, email: str, count: int) -> list[int]:
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = PROXY
    headers = {"X-Forwarded-For": member_address, "X-Forwarded-Proto": "http"}
    statuses = []
    for _ in range(count):
        token = csrf_token(browser.get("/login", headers=headers).get_data(as_text=True))
        answer = browser.post(
            "/login",
            data={"login": email, "password": "not the password", "csrf_token": token},
            headers=headers,
        )
        statuses.append(answer.status_code)
    return statuses


@pytest.mark.usefixtures("restore_limiter")
def test_members_behind_a_trusted_proxy_have_budgets_of_their_own(app, database_url, tmp_path):
    proxied = proxied_app(database_url, tmp_path, proxies=1)
    with app.app_context():
        email = make_member()[0].email
    assert wrong_passwords(proxied, "198.51.100.7", "nobody-1@example.com", 4) == [400] * 3 + [429]
    assert wrong_passwords(proxied, "198.51.100.8", "nobody-2@example.com", 3) == [400] * 3

    wrong_passwords(proxied, "203.0.113.50", email, 1)
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.event == "login.password_failed")
            .order_by(AuditEvent.id.desc())
        ).first()
        assert event.ip_address == "203.0.113.50"


@pytest.mark.usefixtures("restore_limiter")
def test_without_trusted_proxies_forwarded_headers_are_ignored(app, database_url, tmp_path):
    direct = proxied_app(database_url, tmp_path, proxies=0)
    assert wrong_passwords(direct, "198.51.100.7", "nobody-1@example.com", 2) == [400, 400]
    assert wrong_passwords(direct, "198.51.100.8", "nobody-2@example.com", 2) == [400, 429]
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.event == "login.rate_limited")
            .order_by(AuditEvent.id.desc())
        ).first()
        assert event.ip_address == PROXY


@pytest.mark.usefixtures("restore_limiter")
def test_only_the_trusted_number_of_hops_is_believed(app, database_url, tmp_path):
    """A member cannot pick an address: with one proxy, only its last entry counts."""
    proxied = proxied_app(database_url, tmp_path, proxies=1)
    forged = [f"192.0.2.{i}, 198.51.100.9" for i in range(4)]
    statuses = [wrong_passwords(proxied, f, "nobody-3@example.com", 1)[0] for f in forged]
    assert statuses == [400, 400, 400, 429]


def test_the_setting_is_read_and_validated(tmp_path):
    environ = {"IDP_INSTANCE_PATH": str(tmp_path)}
    assert load_settings(environ=environ).trusted_proxies == 0
    assert load_settings(environ={**environ, "IDP_TRUSTED_PROXIES": "2"}).trusted_proxies == 2
    for bad in ("-1", "one", "1.5", "100", "+1"):
        with pytest.raises(ConfigError, match="IDP_TRUSTED_PROXIES"):
            load_settings(environ={**environ, "IDP_TRUSTED_PROXIES": bad})
