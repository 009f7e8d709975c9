"""Strict headers on every page, and forms that keep working under an https issuer."""

from __future__ import annotations

import pytest
from flask_migrate import upgrade

from idp.extensions import db
from tests.conftest import make_test_app
from tests.login_flow import csrf_token, h1


def test_pages_carry_strict_headers(client):
    response = client.get("/login")
    headers = response.headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in headers  # the test issuer is loopback http


@pytest.fixture
def https_app(tmp_path, redis_url):
    app = make_test_app(
        f"sqlite:///{tmp_path / 'https.sqlite3'}",
        tmp_path / "instance",
        redis_url,
        issuer="https://login.example",
    )
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_login_form_works_under_an_https_issuer(https_app):
    """Browsers send a same-origin Referer with our policy; CSRF checks it under https."""
    client = https_app.test_client()
    base = "https://login.example"
    page = client.get("/login", base_url=base)
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    cookie = client.get_cookie("mam_session", domain="login.example")
    assert cookie is not None and cookie.secure and cookie.http_only
    form = {
        "login": "nobody@example.com",
        "password": "wrong password 1",
        "csrf_token": csrf_token(page.get_data(as_text=True)),
    }

    refused = client.post("/login", data=form, base_url=base)
    assert refused.status_code == 400
    assert h1(refused.get_data(as_text=True)) == "The form has expired"

    answered = client.post("/login", data=form, base_url=base, headers={"Referer": f"{base}/login"})
    assert answered.status_code == 400
    assert h1(answered.get_data(as_text=True)) == "Log in with Miles & More"


def test_errors_on_the_logout_endpoint_are_pages(client):
    response = client.put("/oauth/logout")
    assert response.status_code == 405
    assert response.mimetype == "text/html"
