"""What a partner and its members send a live provider at once, for the concurrency tests.

``Partner`` seeds a partner with an approved confidential client and members
with TOTP through an in-process app on the server's database. ``Partner.journey``
is one member's whole authorization code flow over HTTP (authorization request,
password, TOTP code, consent, code exchange); the other calls are one request
each. Requests go through ``Browser`` sessions, which follow no redirect by
themselves: ``journey`` follows those on the provider only, so the partner's
redirect URI is never contacted (its query is read from the ``Location`` header).

``run_at_once`` runs jobs on a fixed number of threads (each thread its own
connection) and gives every answer, or the exception a job raised, with the time
it all took; nothing runs past ``deadline`` seconds.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests

from tests.login_flow import csrf_token, totp_code

REDIRECT_URI = "https://partner.example/callback"
SCOPE = "openid profile email"
#: Raised so that the per-address limits (every request comes from 127.0.0.1) stay out of the way.
UNLIMITED = {"IDP_LOGIN_RATE_LIMIT": "100000/minute", "IDP_API_RATE_LIMIT": "100000/minute"}


@dataclass
class SeededMember:
    member_id: str
    email: str
    password: str
    totp_key: str
    access_token: str = ""


@dataclass
class Partner:
    provider_url: str
    client_id: str
    client_secret: str
    members: list[SeededMember] = field(default_factory=list)

    @classmethod
    def seed(cls, provider, members: int, tokens: int = 0) -> Partner:
        """A client and ``members`` members; the first ``tokens`` of them hold an access token."""
        from idp.extensions import db
        from tests.factories import issue_token, make_client, make_member, make_partner

        with provider.app().app_context():
            client, secret = make_client(
                make_partner("Load Test Shop", "partner_company"),
                redirect_uris=[REDIRECT_URI],
                scope=SCOPE,
            )
            partner = cls(provider.url, client.client_id, secret)
            for i in range(members):
                member, password, key = make_member()
                seeded = SeededMember(member.id, member.email, password, key)
                if i < tokens:
                    seeded.access_token = issue_token(member, client).access_token
                partner.members.append(seeded)
            db.session.remove()
        return partner

    # -- the member's browser ----------------------------------------------------------

    def journey(self, http: requests.Session, member: SeededMember) -> list[requests.Response]:
        """Log ``member`` in, consent, and exchange the code; every response, in order."""
        http.cookies.clear()  # a browser of its own, not the last journey's signed-in one
        seen: list[requests.Response] = []
        verifier = secrets.token_urlsafe(48)
        state = secrets.token_urlsafe(12)
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": REDIRECT_URI,
                "scope": SCOPE,
                "state": state,
                "nonce": secrets.token_urlsafe(12),
                "code_challenge": _challenge(verifier),
                "code_challenge_method": "S256",
            }
        )
        page = self._follow(http, http.get(f"{self.provider_url}/oauth/authorize?{query}"), seen)
        _expect(page, "/login")
        page = self._follow(
            http,
            http.post(
                page.url,
                data={
                    "login": member.email,
                    "password": member.password,
                    "csrf_token": csrf_token(page.text),
                },
            ),
            seen,
        )
        _expect(page, "/login/verify")
        page = self._follow(
            http,
            http.post(
                page.url,
                data={"code": totp_code(member.totp_key), "csrf_token": csrf_token(page.text)},
            ),
            seen,
        )
        _expect(page, "/consent/")
        answer = self._follow(
            http,
            http.post(
                page.url,
                data={"decision": "allow", "csrf_token": csrf_token(page.text)},
            ),
            seen,
        )
        callback = urlsplit(answer.headers.get("Location", ""))
        params = parse_qs(callback.query)
        assert callback.netloc == "partner.example" and params.get("state") == [state], (
            answer.status_code,
            answer.headers.get("Location"),
        )
        token = self.token(
            http,
            grant_type="authorization_code",
            code=params["code"][0],
            redirect_uri=REDIRECT_URI,
            code_verifier=verifier,
        )
        seen.append(token)
        assert token.status_code == 200, token.text
        member.access_token = token.json()["access_token"]
        seen.append(self.userinfo(http, member.access_token))
        return seen

    def _follow(self, http, response, seen):
        """Follow redirects that stay on the provider; stop at one that leaves it."""
        seen.append(response)
        for _hop in range(10):
            location = response.headers.get("Location")
            if not response.is_redirect or not location:
                return response
            target = urljoin(response.url, location)
            if not target.startswith(self.provider_url + "/"):
                return response
            response = http.get(target)
            seen.append(response)
        raise AssertionError("too many redirects")

    # -- the partner's server ----------------------------------------------------------

    def token(self, http: requests.Session, **form) -> requests.Response:
        return http.post(
            f"{self.provider_url}/oauth/token", data=form, auth=(self.client_id, self.client_secret)
        )

    def client_token(self, http: requests.Session) -> requests.Response:
        return self.token(http, grant_type="client_credentials")

    def introspect(self, http: requests.Session, token: str) -> requests.Response:
        return http.post(
            f"{self.provider_url}/oauth/introspect",
            data={"token": token},
            auth=(self.client_id, self.client_secret),
        )

    def userinfo(self, http: requests.Session, token: str) -> requests.Response:
        return http.get(
            f"{self.provider_url}/oauth/userinfo",
            headers={"Authorization": f"Bearer {token}"},
        )


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _expect(page: requests.Response, path: str) -> None:
    assert page.status_code == 200 and path in urlsplit(page.url).path, (
        page.status_code,
        page.url,
        page.headers.get("Location"),
        page.text[:300],
    )


# -- running many at once ---------------------------------------------------------------


class Browser(requests.Session):
    """A session that never follows a redirect by itself and never waits forever."""

    def request(self, method, url, **kwargs):
        assert url.startswith("http://127.0.0.1:"), f"only the live provider is called, not {url}"
        # Forced, not defaulted: ``Session.get`` passes ``allow_redirects=True`` itself.
        kwargs["allow_redirects"] = False
        kwargs.setdefault("timeout", 60)
        return super().request(method, url, **kwargs)


@dataclass
class Outcome:
    responses: list[requests.Response]
    failures: list[BaseException]
    seconds: float

    @property
    def server_errors(self) -> list[requests.Response]:
        return [r for r in self.responses if r.status_code >= 500]

    def statuses(self) -> Counter:
        return Counter(r.status_code for r in self.responses)

    def summary(self, name: str) -> str:
        return (
            f"{name}: {len(self.responses)} requests in {self.seconds:.1f} s "
            f"({len(self.responses) / max(self.seconds, 1e-9):.0f}/s), "
            f"{len(self.server_errors)} 5xx, {len(self.failures)} failed jobs, "
            f"statuses {dict(sorted(self.statuses().items()))}"
        )


def run_at_once(jobs, connections: int, deadline: float = 120.0) -> Outcome:
    """Run ``jobs`` (each ``job(http) -> response or list of responses``) on ``connections``
    threads, each with a session of its own; a barrier lets the first ones start together."""
    local = threading.local()
    sessions: list[requests.Session] = []
    lock = threading.Lock()
    barrier = threading.Barrier(min(connections, len(jobs)))
    started = time.monotonic()

    def session() -> requests.Session:
        if not hasattr(local, "http"):
            local.http = Browser()
            with lock:
                sessions.append(local.http)
            barrier.wait(timeout=30)
        return local.http

    def run(job):
        if time.monotonic() - started > deadline:
            raise TimeoutError("the run took longer than its deadline")
        answer = job(session())
        return answer if isinstance(answer, list) else [answer]

    responses: list[requests.Response] = []
    failures: list[BaseException] = []
    with ThreadPoolExecutor(max_workers=connections) as pool:
        for future in [pool.submit(run, job) for job in jobs]:
            try:
                responses.extend(future.result())
            except Exception as exc:  # an assertion inside a journey, a timeout, a reset
                failures.append(exc)
    seconds = time.monotonic() - started
    for http in sessions:
        http.close()
    return Outcome(responses, failures, seconds)


def at_the_same_moment(calls, deadline: float = 60.0) -> Outcome:
    """Run every call (``call() -> response``) on a thread of its own, released together."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait(timeout=30)
        return [call()]

    started = time.monotonic()
    responses: list[requests.Response] = []
    failures: list[BaseException] = []
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        for future in [pool.submit(run, call) for call in calls]:
            try:
                responses.extend(future.result(timeout=deadline))
            except Exception as exc:
                failures.append(exc)
    return Outcome(responses, failures, time.monotonic() - started)


def login_form(http: requests.Session, provider_url: str, login: str, password: str):
    """The login page fetched, and a call that sends it filled in."""
    page = http.get(f"{provider_url}/login")
    assert page.status_code == 200, page.status_code
    data = {"login": login, "password": password, "csrf_token": csrf_token(page.text)}
    return lambda: http.post(f"{provider_url}/login", data=data)


def code_form(http: requests.Session, provider_url: str, code_of):
    """The second-factor page fetched, and a call that sends ``code_of()`` in it."""
    page = http.get(f"{provider_url}/login/verify")
    assert page.status_code == 200, (page.status_code, page.text[:300])
    token = csrf_token(page.text)
    return lambda: http.post(
        f"{provider_url}/login/verify", data={"code": code_of(), "csrf_token": token}
    )
