"""A journey that puts every kind of secret on the wire, for tests that search the logs.

It logs in with a password (a wrong one first) and a TOTP code (a wrong one
first), consents, exchanges the code with PKCE and a client secret, calls
userinfo, refreshes, introspects, revokes, and logs out with an
``id_token_hint``; every secret that travelled is collected in ``secrets``.
It drives either the Flask test client or a live server through ``Browser``.
"""

from __future__ import annotations

import base64
import re
import secrets as random
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlsplit

from authlib.oauth2.rfc7636 import create_s256_code_challenge

from tests.login_flow import csrf_token, totp_code

REDIRECT_URI = "https://journey.example/callback"
LOGGED_OUT = "https://journey.example/logged-out"


@dataclass
class Reply:
    status: int
    headers: dict
    text: str

    def json(self) -> dict:
        import json

        return json.loads(self.text)


class Browser:
    """The same calls over the Flask test client (``client``) or HTTP (``base_url``)."""

    def __init__(self, client=None, base_url: str | None = None):
        self.client = client
        self.base_url = base_url
        if base_url is not None:
            import requests

            self.session = requests.Session()

    def get(self, path: str, params: dict | None = None, headers: dict | None = None) -> Reply:
        if self.client is not None:
            r = self.client.get(path, query_string=params, headers=headers or {})
            return Reply(r.status_code, dict(r.headers), r.get_data(as_text=True))
        r = self.session.get(
            self.base_url + path, params=params, headers=headers, allow_redirects=False, timeout=30
        )
        return Reply(r.status_code, dict(r.headers), r.text)

    def post(self, path: str, data: dict, headers: dict | None = None) -> Reply:
        if self.client is not None:
            r = self.client.post(path, data=data, headers=headers or {})
            return Reply(r.status_code, dict(r.headers), r.get_data(as_text=True))
        r = self.session.post(
            self.base_url + path, data=data, headers=headers, allow_redirects=False, timeout=30
        )
        return Reply(r.status_code, dict(r.headers), r.text)


@dataclass
class Journey:
    email: str
    password: str
    totp_key: str
    client_id: str
    client_secret: str
    secrets: dict[str, str] = field(default_factory=dict)

    def basic(self) -> dict:
        raw = f"{self.client_id}:{self.client_secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}

    def run(self, browser: Browser) -> None:
        self.secrets.update(
            password=self.password, totp_key=self.totp_key, client_secret=self.client_secret
        )
        self._log_in(browser)
        tokens = self._code_flow(browser)
        self._use_tokens(browser, tokens)

    def _log_in(self, browser: Browser) -> None:
        wrong = "wrong-" + random.token_urlsafe(12)
        self.secrets["wrong_password"] = wrong
        page = browser.get("/login")
        refused = browser.post(
            "/login",
            {"login": self.email, "password": wrong, "csrf_token": csrf_token(page.text)},
        )
        assert refused.status == 400, refused.status
        page = browser.get("/login")
        answer = browser.post(
            "/login",
            {"login": self.email, "password": self.password, "csrf_token": csrf_token(page.text)},
        )
        assert answer.status == 302, answer.text[:300]
        right = totp_code(self.totp_key)
        wrong_code = f"{(int(right) + 500000) % 1000000:06d}"
        self.secrets.update(totp_code=right, wrong_totp_code=wrong_code)
        page = browser.get("/login/verify")
        refused = browser.post(
            "/login/verify", {"code": wrong_code, "csrf_token": csrf_token(page.text)}
        )
        assert refused.status == 400, refused.status
        page = browser.get("/login/verify")
        answer = browser.post("/login/verify", {"code": right, "csrf_token": csrf_token(page.text)})
        assert answer.status == 302, answer.text[:300]

    def _code_flow(self, browser: Browser) -> dict:
        verifier = random.token_urlsafe(48)
        nonce = "nonce-" + random.token_urlsafe(16)
        self.secrets.update(code_verifier=verifier)
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": "openid email offline_access",
            "state": "state-" + random.token_hex(4),
            "nonce": nonce,
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256",
        }
        answer = browser.get("/oauth/authorize", query)
        assert answer.status == 302, answer.text[:300]
        consent = urlsplit(answer.headers["Location"]).path
        assert consent.startswith("/consent/"), consent
        page = browser.get(consent)
        form = {
            "decision": "allow",
            "csrf_token": csrf_token(page.text),
            "scopes": re.findall(r'name="scopes" value="([^"]+)"', page.text),
        }
        answer = browser.post(consent, form)
        assert answer.status == 302, answer.text[:300]
        code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
        self.secrets["code"] = code
        answer = browser.post(
            "/oauth/token",
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier,
            },
            headers=self.basic(),
        )
        assert answer.status == 200, answer.text
        tokens = answer.json()
        self.secrets.update(
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
            id_token=tokens["id_token"],
        )
        return tokens

    def _use_tokens(self, browser: Browser, tokens: dict) -> None:
        bearer = {"Authorization": "Bearer " + tokens["access_token"]}
        assert browser.get("/oauth/userinfo", headers=bearer).status == 200
        answer = browser.post(
            "/oauth/token",
            {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            headers=self.basic(),
        )
        assert answer.status == 200, answer.text
        refreshed = answer.json()
        self.secrets.update(
            refreshed_access_token=refreshed["access_token"],
            refreshed_refresh_token=refreshed["refresh_token"],
            refreshed_id_token=refreshed["id_token"],
        )
        answer = browser.post(
            "/oauth/introspect", {"token": refreshed["access_token"]}, headers=self.basic()
        )
        assert answer.json()["active"] is True
        answer = browser.post(
            "/oauth/revoke",
            {"token": refreshed["refresh_token"], "token_type_hint": "refresh_token"},
            headers=self.basic(),
        )
        assert answer.status == 200, answer.text
        # The hint in the query string, as partners send it (and as access logs used to keep it).
        answer = browser.get(
            "/oauth/logout?"
            + urlencode(
                {"id_token_hint": refreshed["id_token"], "post_logout_redirect_uri": LOGGED_OUT}
            )
        )
        assert answer.status in (200, 302), answer.text[:300]
        # A secret in the query of a page that does not exist: the access log line still comes.
        assert browser.get("/no-such-page", {"code": tokens["access_token"]}).status == 404


def leaked(journey: Journey, text: str) -> dict[str, str]:
    """Which of the journey's secrets occur in ``text`` (codes as whole numbers)."""
    found = {}
    for name, value in journey.secrets.items():
        if name.endswith("totp_code"):
            hit = re.search(rf"(?<![0-9A-Za-z]){value}(?![0-9A-Za-z])", text)
        else:
            hit = value in text
        if hit:
            found[name] = value
    return found


def prepare(app) -> Journey:
    """A member with a TOTP key and a confidential client, committed through the services."""
    from tests.factories import make_client, make_member

    with app.app_context():
        member, password, key = make_member(password="journey " + random.token_urlsafe(12))
        client, secret = make_client(
            redirect_uris=[REDIRECT_URI], post_logout_redirect_uris=[LOGGED_OUT]
        )
        return Journey(member.email, password, key, client.client_id, secret)
