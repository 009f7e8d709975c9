"""The airline's ID service in the linking tests: another instance of this provider.

``AirlineIdService`` starts ``mam-idp run`` in a process of its own, on a SQLite
file and a port of its own, registers (with ``mam-idp`` commands) the airline
as a partner and this provider as its client, with this provider's callback
as redirect URI, and makes profiles (members there) on demand.

``drive_upstream`` plays the member's browser at the airline over HTTP: the
login (password and TOTP) and the consent, up to the redirect back to this
provider, which it returns without following.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urljoin, urlsplit

import pyotp
import requests

from tests.live.server import LiveProvider
from tests.login_flow import csrf_token, totp_code

PROFILE_PASSWORD = "airline profile password"


class AirlineIdService:
    def __init__(self, tmp, airline: str = "lufthansa"):
        self.airline = airline
        # ``localhost``, not 127.0.0.1 like this provider: browsers keep cookies per host,
        # not per port, and both would call their session cookie ``mam_session``.
        self.provider = LiveProvider(tmp, "sqlite")
        self.url = f"http://localhost:{self.provider.port}"
        self.provider.env["IDP_ISSUER"] = self.url
        # Every test logs in there from 127.0.0.1, both database variants within a minute:
        # the airline's per-address login budget is not what these tests are about.
        self.provider.env["IDP_LOGIN_RATE_LIMIT"] = "600/minute;6000/hour"
        self.clients: dict[str, tuple[str, str]] = {}

    def start(self) -> None:
        self.provider.migrate()
        self.provider.start("run", "--host", "127.0.0.1", "--port", str(self.provider.port))
        self.partner_id = self.command("partners", "create", "--name", "Lufthansa",
                                       "--category", "lhg_airline")["partner_id"]

    def command(self, *args: str) -> dict:
        done = self.provider.run(*args, "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def register(self, issuer: str) -> tuple[str, str]:
        """This provider (at ``issuer``) as a client of the airline: (client_id, secret)."""
        if issuer not in self.clients:
            made = self.command(
                "clients", "create", "--partner-id", self.partner_id, "--name", "Miles & More",
                "--redirect-uri", f"{issuer}/linking/{self.airline}/callback",
                "--scope", "openid", "--purpose", "registration", "--approved",
            )
            self.clients[issuer] = (made["client_id"], made["client_secret"])
        return self.clients[issuer]

    def provider_entry(self, issuer: str) -> dict:
        client_id, secret = self.register(issuer)
        return {"airline": self.airline, "issuer": self.url, "client_id": client_id,
                "client_secret": secret}

    def new_profile(self, email: str) -> dict:
        """A profile at the airline: its login and TOTP key."""
        key = pyotp.random_base32()
        self.command("members", "create", "--email", email, "--password", PROFILE_PASSWORD,
                     "--given-name", "Erika", "--family-name", "Mustermann", "--totp-secret", key)
        return {"email": email, "password": PROFILE_PASSWORD, "key": key}

    def close(self) -> None:
        self.provider.close()


_POST_FORM = re.compile(r'<form method="post"(?: action="([^"]*)")?[^>]*>(.*?)</form>', re.S)


def _form_action(page: requests.Response, field: str) -> str:
    """Where the page's form with the input or button ``field`` posts to.

    A page may hold more than one form (the consent screen's "Not you?" comes
    before the answer), so the form is the one a member fills in, not the first.
    """
    forms = [
        action for action, body in _POST_FORM.findall(page.text) if f'name="{field}"' in body
    ]
    assert len(forms) == 1, f"{len(forms)} forms with {field!r} at {page.url}"
    return urljoin(page.url, forms[0]) if forms[0] else page.url


def drive_upstream(http: requests.Session, url: str, profile: dict | None, back_to: str,
                   decision: str = "allow") -> str:
    """From the authorization URL to the redirect back to ``back_to``; returns that URL.

    Logs the profile in when the airline asks (``profile`` None: it must not ask),
    and answers its consent screen with ``decision``.
    """
    for _step in range(12):
        response = http.get(url, allow_redirects=False, timeout=30)
        while response.is_redirect:
            url = urljoin(response.url, response.headers["Location"])
            if url.startswith(back_to):
                return url
            response = http.get(url, allow_redirects=False, timeout=30)
        assert response.status_code == 200, (response.status_code, response.url, response.text[:500])
        path = urlsplit(response.url).path
        data = {"csrf_token": csrf_token(response.text)}
        if path == "/login":
            assert profile is not None, "the airline asked for a login"
            data.update(login=profile["email"], password=profile["password"])
        elif path == "/login/verify":
            data.update(code=totp_code(profile["key"]))
        elif path.startswith("/consent/"):
            data.update(decision=decision)
        else:
            raise AssertionError(f"unexpected page at the airline: {response.url}")
        field = {"/login": "login", "/login/verify": "code"}.get(path, "decision")
        posted = http.post(
            _form_action(response, field), data=data, allow_redirects=False, timeout=30
        )
        assert posted.is_redirect, (posted.status_code, posted.url, posted.text[:800])
        url = urljoin(posted.url, posted.headers["Location"])
        if url.startswith(back_to):
            return url
    raise AssertionError("the airline never sent the browser back")
