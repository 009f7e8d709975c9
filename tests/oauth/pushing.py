"""Pushed authorization requests (RFC 9126) as a partner sends them, over the test client."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, select

from idp.extensions import db
from idp.models import PushedAuthorizationRequest
from tests.oauth.conftest import PKCE, RP

URN_PREFIX = "urn:ietf:params:oauth:request_uri:"


def request_parameters(rp: RP, pkce: PKCE | None = None, **params) -> dict:
    """The parameters of an authorization request of ``rp``; None leaves one out."""
    pkce = pkce or PKCE.new()
    values = {
        "response_type": "code",
        "client_id": rp.client_id,
        "redirect_uri": rp.redirect_uri,
        "scope": "openid email",
        "state": "pushed-" + secrets.token_hex(4),
        "nonce": "nonce-" + secrets.token_hex(4),
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
    }
    values.update(params)
    return {k: v for k, v in values.items() if v is not None}


def push(oauth, rp: RP, headers: dict | None = None, **params):
    """POST to the pushed authorization request endpoint, with Basic unless told."""
    if headers is None:
        headers = rp.basic() if rp.secret else {}
    return oauth.http.post("/oauth/par", data=request_parameters(rp, **params), headers=headers)


def pushed_uri(oauth, rp: RP, **params) -> str:
    response = push(oauth, rp, **params)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["request_uri"]


def authorize_with(http, client_id: str, request_uri: str, **extra):
    return http.get(
        "/oauth/authorize",
        query_string={"client_id": client_id, "request_uri": request_uri, **extra},
    )


def stored_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(PushedAuthorizationRequest))


def next_path(response) -> str:
    """Where the login page sends the member back to."""
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login", location
    return parse_qs(location.query)["next"][0]
