"""Fixtures of the conformance modules: the suite's driver (``tests.conformance.suite``),
its client and member, and a provider with an https issuer for the discovery plans."""

from __future__ import annotations

import pytest
from flask_migrate import upgrade

from idp.extensions import db
from tests.conformance.suite import HTTPS_ISSUER, Conformance
from tests.conftest import make_test_app
from tests.oauth.conftest import RP, OAuth


@pytest.fixture
def oauth(app, client) -> OAuth:
    return OAuth(app, client)


@pytest.fixture
def suite(oauth) -> Conformance:
    return Conformance(oauth)


@pytest.fixture
def rp(suite) -> RP:
    """The suite's client: confidential, client_secret_basic, every basic-plan scope."""
    return suite.client()


@pytest.fixture
def member_id(suite) -> str:
    return suite.member()


@pytest.fixture
def logged_in(suite, member_id) -> str:
    """The member is logged in on the browser; their member id."""
    suite.login(member_id)
    return member_id


@pytest.fixture(scope="session")
def https_app(tmp_path_factory):
    """The provider with an https issuer, on a database of its own (it publishes keys)."""
    tmp = tmp_path_factory.mktemp("https")
    app = make_test_app(f"sqlite:///{tmp / 'https.sqlite3'}", tmp / "instance", issuer=HTTPS_ISSUER)
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def discovery(https_app):
    """``fetch(path)``: a GET on the https provider, as the discovery plans make it."""
    http = https_app.test_client()
    return lambda path: http.get(path, base_url=HTTPS_ISSUER)
