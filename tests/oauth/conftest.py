"""Helpers for protocol tests: members, clients and a logged-in browser, all through the front door.

Requests run without a pushed application context (each request gets its own,
as in production), so setup happens in short ``app.app_context()`` blocks that
hand back plain values. A member logs in on the login pages, with password and
authenticator code, in the test client that plays the browser.
"""

from __future__ import annotations

import base64
import re
import secrets
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta
from unittest.mock import patch
from urllib.parse import parse_qs, urlencode, urlsplit

import pyotp
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import KeySet

from idp.extensions import db
from idp.models import SSOSession
from idp.models.types import utcnow
from idp.services import second_factor, sso
from tests.conftest import make_test_app
from tests.factories import make_client, make_member, make_partner
from tests.login_flow import post_form

ISSUER = "http://127.0.0.1:5000"
REDIRECT_URI = "https://partner.example/callback"
CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@dataclass
class RP:
    """A registered client as a partner knows it."""

    client_id: str
    secret: str | None
    redirect_uri: str
    pk: int
    partner_id: str
    partner_name: str

    def basic(self) -> dict:
        raw = f"{self.client_id}:{self.secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


@dataclass
class PKCE:
    verifier: str
    challenge: str

    @classmethod
    def new(cls) -> PKCE:
        verifier = secrets.token_urlsafe(48)
        return cls(verifier, create_s256_code_challenge(verifier))


def redirect_params(response) -> dict[str, str]:
    """The query of a redirect, one value per name (asserting none is repeated)."""
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert all(len(v) == 1 for v in query.values())
    return {k: v[0] for k, v in query.items()}


def redirect_target(response) -> str:
    parts = urlsplit(response.headers["Location"])
    return f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.scheme else parts.path


class OAuth:
    """Drives the provider like a partner and a member's browser do."""

    def __init__(self, app, http):
        self.app = app
        self.http = http
        #: member id -> (email, password, TOTP key), for the login pages.
        self.credentials: dict[str, tuple[str, str, str]] = {}
        #: member id -> the earliest moment whose TOTP step is still unused.
        self._totp_moments: dict = {}

    # -- setup ----------------------------------------------------------------

    def member(self, **fields) -> str:
        """A member with an enrolled authenticator app; ``login`` knows their credentials."""
        with self.app.app_context():
            member, password, key = make_member(**fields)
            self.credentials[member.id] = (member.email, password, key)
            return member.id

    def client(self, partner_name: str = "Sky Hotels", category="partner_company", **fields) -> RP:
        with self.app.app_context():
            partner = make_partner(partner_name, category)
            fields.setdefault("redirect_uris", [REDIRECT_URI])
            client, secret = make_client(partner, **fields)
            return RP(
                client.client_id,
                secret,
                client.redirect_uris[0],
                client.id,
                partner.id,
                partner.name,
            )

    def login(self, member_id: str, auth_time=None, amr=("pwd", "otp", "mfa")) -> str:
        """Log the browser in as ``member_id`` on the login pages; returns the session id.

        Password, then the authenticator code, as a member does. ``auth_time``
        (a past moment) logs in with the clock of the login at that moment, so
        the session is as old as asked. Each login of a member uses a later TOTP
        time step than the one before, as a member who logs in again does (a
        step is accepted once).
        """
        email, password, key = self.credentials[member_id]
        before = self._session_ids(member_id)
        moment = auth_time or utcnow()
        with patch.object(sso, "utcnow", lambda: moment) if auth_time else nullcontext():
            # The form as ``prompt=login`` shows it: also to a browser logged in already.
            response = post_form(
                self.http,
                "/login",
                {"login": email, "password": password},
                page="/login?prompt=login",
            )
            assert response.status_code == 302, response.get_data(as_text=True)[:500]
            assert urlsplit(response.headers["Location"]).path == "/login/verify"
            step_moment = max(utcnow(), self._totp_moments.get(member_id, moment))
            self._totp_moments[member_id] = step_moment + timedelta(seconds=30)
            code = pyotp.TOTP(key).at(step_moment)
            with patch.object(second_factor, "utcnow", lambda: step_moment):
                response = post_form(self.http, "/login/verify", {"code": code})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        (sid,) = self._session_ids(member_id) - before
        with self.app.app_context():
            row = db.session.get(SSOSession, sid)
            assert row.amr == list(amr), f"the login pages gave amr {row.amr}"
        return sid

    def _session_ids(self, member_id: str) -> set[str]:
        with self.app.app_context():
            return {s.id for s in sso.live_sessions(member_id)}

    # -- the front channel ------------------------------------------------------

    def authorize(self, rp: RP, method: str = "GET", **params):
        query = {
            "response_type": "code",
            "client_id": rp.client_id,
            "redirect_uri": rp.redirect_uri,
            "scope": "openid",
            "state": "state-" + secrets.token_hex(4),
            "nonce": "nonce-" + secrets.token_hex(4),
        }
        query.update(params)
        query = {k: v for k, v in query.items() if v is not None}
        if method == "POST":
            return self.http.post("/oauth/authorize", data=query)
        return self.http.get("/oauth/authorize?" + urlencode(query, doseq=True))

    def consent_page(self, response):
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        location = response.headers["Location"]
        assert urlsplit(location).path.startswith("/consent/"), location
        page = self.http.get(location)
        assert page.status_code == 200, page.get_data(as_text=True)[:500]
        return location, page

    def answer(self, response, decision="allow", scopes=None, unlimited=False, csrf=True):
        """Answer the consent screen the authorization response led to."""
        location, page = self.consent_page(response)
        html = page.get_data(as_text=True)
        form = {"decision": decision}
        if csrf:
            form["csrf_token"] = CSRF_INPUT.search(html).group(1)
        if scopes is None:
            scopes = re.findall(r'name="scopes" value="([^"]+)"', html)
        form["scopes"] = list(scopes)
        if unlimited:
            form["unlimited"] = "y"
        return self.http.post(urlsplit(location).path, data=form)

    def code(self, rp: RP, consent=True, **params) -> tuple[str, dict]:
        """An authorization code (answering the consent screen with Allow when it shows)."""
        response = self.authorize(rp, **params)
        if consent and urlsplit(response.headers.get("Location", "")).path.startswith("/consent/"):
            response = self.answer(response)
        result = redirect_params(response)
        assert "code" in result, result
        assert result["iss"] == ISSUER
        return result["code"], result

    # -- the back channel --------------------------------------------------------

    def token(self, rp: RP, headers=None, **form):
        if headers is None and rp.secret:
            headers = rp.basic()
        return self.http.post("/oauth/token", data=form, headers=headers or {})

    def exchange(self, rp: RP, code: str, **form):
        form.setdefault("grant_type", "authorization_code")
        form.setdefault("redirect_uri", rp.redirect_uri)
        if not rp.secret:
            form.setdefault("client_id", rp.client_id)
        return self.token(rp, code=code, **form)

    def tokens(self, rp: RP, **params) -> dict:
        """Authorize and exchange in one go; returns the token response body."""
        pkce = PKCE.new()
        code, _ = self.code(
            rp, code_challenge=pkce.challenge, code_challenge_method="S256", **params
        )
        response = self.exchange(rp, code, code_verifier=pkce.verifier)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def keys(self) -> KeySet:
        """The key set published at the discovery document's jwks_uri."""
        metadata = self.http.get("/.well-known/openid-configuration").get_json()
        path = urlsplit(metadata["jwks_uri"]).path
        return KeySet.import_key_set(self.http.get(path).get_json())

    def id_token_claims(self, id_token: str, algorithms=("RS256",)) -> dict:
        return jwt.decode(id_token, self.keys(), algorithms=list(algorithms)).claims


@pytest.fixture
def oauth(app, client) -> OAuth:
    return OAuth(app, client)


@pytest.fixture
def member_id(oauth) -> str:
    return oauth.member()


@pytest.fixture
def rp(oauth) -> RP:
    """An approved confidential client of a partner company, allowed offline access."""
    return oauth.client(
        scope="openid profile email phone card_number miles status offline_access",
        purposes=["registration", "miles"],
    )


@pytest.fixture(scope="module")
def other_app(committed_app, redis_url, tmp_path_factory):
    """A second application on the committed database: another worker process."""
    url = committed_app.config["SQLALCHEMY_DATABASE_URI"]
    app = make_test_app(url, tmp_path_factory.mktemp("other"), redis_url)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client_key():
    """The RSA key of a ``private_key_jwt`` client (RFC 7523), made for the test."""
    from joserfc.jwk import RSAKey

    return RSAKey.generate_key(2048, parameters={"kid": "client-1"}, private=True)


@pytest.fixture
def jwt_rp(oauth, client_key):
    """A confidential client that authenticates with ``private_key_jwt`` and ``client_key``."""
    return oauth.client(
        scope="openid offline_access",
        token_endpoint_auth_method="private_key_jwt",
        jwks={"keys": [client_key.as_dict(private=False)]},
    )
