"""The demo seed and the start-up wiring of ``mam-idp demo`` (no port is bound)."""

from __future__ import annotations

import stat
import sys
import types

import pyotp
import pytest
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import Client, Credential, Member, Partner
from idp.services.demo import (
    CLIENT_FILE,
    DEMO_CARD_NUMBER,
    DEMO_EMAIL,
    DEMO_PARTNER_NAME,
    seed_demo,
)
from idp.services.members import find_by_login
from idp.services.passwords import hash_password, verify_password
from idp.services.registration import get_client
from tests.conftest import make_test_app


def test_seed_creates_working_credentials(app_ctx, tmp_path):
    seed = seed_demo(tmp_path)
    member = find_by_login(seed.email)
    assert member is not None and member.id == seed.member_id
    assert find_by_login(DEMO_CARD_NUMBER).id == member.id
    assert seed.card_number == DEMO_CARD_NUMBER
    assert (member.status_tier, member.given_name) == ("senator", "Erika")
    assert member.miles_balance > 0
    credential = db.session.get(Credential, member.id)
    assert verify_password(credential.password_hash, seed.password)
    assert credential.has_totp
    assert pyotp.TOTP(credential.totp_secret).verify(pyotp.TOTP(seed.totp_secret).now())

    client = get_client(seed.client_id)
    assert client.check_client_secret(seed.client_secret)
    assert client.approved and not client.is_public
    assert client.partner.name == DEMO_PARTNER_NAME
    assert client.partner.category == "partner_company"
    assert client.redirect_uris == ["http://127.0.0.1:5001/callback"]
    assert client.post_logout_redirect_uris == ["http://127.0.0.1:5001/"]
    assert client.scope == "openid profile email card_number miles status offline_access"
    assert client.purposes == ["registration", "miles"]
    secret_file = tmp_path / CLIENT_FILE
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert seed.client_secret in secret_file.read_text()


def demo_rows() -> dict[str, int]:
    return {
        "members": db.session.scalar(select(func.count()).select_from(Member)),
        "partners": db.session.scalar(
            select(func.count()).select_from(Partner).where(Partner.name == DEMO_PARTNER_NAME)
        ),
        "clients": db.session.scalar(select(func.count()).select_from(Client)),
    }


def test_seed_is_idempotent(app_ctx, tmp_path):
    first = seed_demo(tmp_path)
    rows = demo_rows()
    second = seed_demo(tmp_path)
    assert second == first
    assert demo_rows() == rows


def test_seed_puts_back_what_a_visitor_changed(app_ctx, tmp_path):
    first = seed_demo(tmp_path)
    credential = db.session.get(Credential, first.member_id)
    credential.password_hash = hash_password("changed by a visitor")
    credential.totp_secret = None
    credential.totp_enrolled_at = None
    db.session.commit()

    second = seed_demo(tmp_path)
    credential = db.session.get(Credential, first.member_id)
    assert verify_password(credential.password_hash, second.password)
    assert credential.has_totp and credential.totp_secret == second.totp_secret
    assert second.totp_secret != first.totp_secret


def test_seed_gives_a_new_secret_when_the_stored_one_is_lost(app_ctx, tmp_path):
    first = seed_demo(tmp_path)
    (tmp_path / CLIENT_FILE).unlink()
    rows = demo_rows()
    second = seed_demo(tmp_path)
    assert second.client_id == first.client_id
    assert second.client_secret != first.client_secret
    client = get_client(first.client_id)
    assert client.check_client_secret(second.client_secret)
    assert not client.check_client_secret(first.client_secret)
    assert demo_rows() == rows
    assert stat.S_IMODE((tmp_path / CLIENT_FILE).stat().st_mode) == 0o600


def test_seed_ignores_a_damaged_secret_file(app_ctx, tmp_path):
    first = seed_demo(tmp_path)
    (tmp_path / CLIENT_FILE).write_text("{not json")
    second = seed_demo(tmp_path)
    assert second.client_id == first.client_id
    assert get_client(second.client_id).check_client_secret(second.client_secret)


# -- the command ----------------------------------------------------------------------


class FakeServer:
    """Stands in for werkzeug's server: records what it would serve, returns at once."""

    def __init__(self, calls, host, port, app, **kwargs):
        self.host, self.port, self.app = host, port, app
        self.served = self.closed = False
        calls.append(self)

    def serve_forever(self, poll_interval=0.5):
        self.served = True

    def shutdown(self):
        pass

    def server_close(self):
        self.closed = True


@pytest.fixture
def fresh_app(tmp_path):
    """An app on an empty SQLite database: the demo migrates it itself."""
    app = make_test_app(f"sqlite:///{tmp_path / 'demo.sqlite3'}", tmp_path / "instance")
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def servers(monkeypatch):
    calls: list[FakeServer] = []
    monkeypatch.setattr(
        "idp.demo.make_server", lambda host, port, app, **kw: FakeServer(calls, host, port, app)
    )
    return calls


@pytest.fixture
def partner_site(monkeypatch):
    """A stand-in ``examples.partner`` module recording how it was called."""
    from flask import Flask

    received = {}

    def create_partner_app(issuer, client_id, client_secret, redirect_uri):
        received.update(
            issuer=issuer,
            client_id=client_id,
            client_secret=client_secret,
            redirect_uri=redirect_uri,
        )
        return Flask("partner")

    module = types.ModuleType("examples.partner")
    module.create_partner_app = create_partner_app
    monkeypatch.setitem(sys.modules, "examples.partner", module)
    return received


def test_demo_migrates_seeds_prints_and_serves_both_sites(fresh_app, servers, partner_site):
    result = fresh_app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    with fresh_app.app_context():
        member = find_by_login(DEMO_EMAIL)
        credential = db.session.get(Credential, member.id)
        client = db.session.scalar(select(Client))
    out = result.stdout
    for expected in (
        DEMO_EMAIL,
        DEMO_CARD_NUMBER,
        "demo-password-2fa",
        credential.totp_secret,
        "otpauth://totp/",
        f"secret={credential.totp_secret}",
        "http://127.0.0.1:5000",
        "http://127.0.0.1:5001/",
        client.client_id,
    ):
        assert expected in out
    assert [(s.host, s.port) for s in servers] == [
        ("127.0.0.1", 5000), ("127.0.0.1", 5001), ("127.0.0.1", 5002),
    ]
    assert servers[0].app is fresh_app
    assert servers[1].app.name == "partner"
    assert servers[2].app.config["IDP"].issuer == "http://localhost:5002"  # the demo airline
    assert all(s.served and s.closed for s in servers)
    assert partner_site["issuer"] == "http://127.0.0.1:5000"
    assert partner_site["client_id"] == client.client_id
    assert partner_site["redirect_uri"] == "http://127.0.0.1:5001/callback"
    with fresh_app.app_context():
        assert get_client(client.client_id).check_client_secret(partner_site["client_secret"])


def test_demo_restarts_with_the_same_client_secret(fresh_app, servers, partner_site):
    runner = fresh_app.test_cli_runner()
    assert runner.invoke(args=["demo", "--no-serve"]).exit_code == 0
    first = dict(partner_site)
    assert runner.invoke(args=["demo", "--no-serve"]).exit_code == 0
    assert partner_site == first
    assert servers == []


def test_demo_without_the_partner_site_serves_the_provider(fresh_app, servers, monkeypatch):
    monkeypatch.setitem(sys.modules, "examples.partner", None)  # import fails as if absent
    result = fresh_app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "Demo partner website  unavailable" in result.stdout
    assert [(s.host, s.port) for s in servers] == [("127.0.0.1", 5000), ("127.0.0.1", 5002)]


def test_demo_explains_a_port_in_use(fresh_app, monkeypatch, partner_site):
    def busy(host, port, app, **kwargs):
        raise OSError(98, "Address already in use")

    monkeypatch.setattr("idp.demo.make_server", busy)
    result = fresh_app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 1
    assert "Cannot listen (Address already in use)" in result.stderr
    assert "Traceback" not in result.output
