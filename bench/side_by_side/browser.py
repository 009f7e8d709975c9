"""A small HTTP client for the flows wrk cannot chain: one keep-alive connection, cookies.

``Browser`` speaks to one provider on 127.0.0.1 over one ``http.client``
connection that stays open between requests (reopened after a socket error),
keeps the cookies it is given and follows no redirect by itself.
``run_for`` runs a job on a number of threads until a deadline and collects
the time of each completion and the errors.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode, urlsplit

FORM = "application/x-www-form-urlencoded"


class FlowError(Exception):
    """A step of a flow got an answer it should not have."""


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def location(self) -> str:
        return self.headers.get("location", "")

    def json(self) -> dict:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")


def basic_auth(client_id: str, secret: str) -> str:
    """``client_secret_basic`` (RFC 6749 §2.3.1: both parts form-encoded first)."""
    pair = f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()
    return "Basic " + base64.b64encode(pair).decode()


def pkce_pair() -> tuple[str, str]:
    """A PKCE verifier and its S256 challenge (RFC 7636 §4.2)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorization_url(endpoint: str, client_id: str, challenge: str, scope: str,
                      redirect_uri: str) -> str:
    """An OpenID authorization request for a code, with PKCE (S256)."""
    return endpoint + "?" + urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
        "scope": scope, "state": secrets.token_urlsafe(12), "nonce": secrets.token_urlsafe(12),
        "code_challenge": challenge, "code_challenge_method": "S256",
    })


class Browser:
    def __init__(self, base_url: str, cookies: dict[str, str] | None = None, timeout: float = 30):
        parts = urlsplit(base_url)
        if parts.hostname != "127.0.0.1":
            raise ValueError(f"only 127.0.0.1 is benchmarked, not {parts.hostname}")
        self.base_url = base_url.rstrip("/")
        self._address = (parts.hostname, parts.port or 80)
        self._timeout = timeout
        self._connection: http.client.HTTPConnection | None = None
        self.cookies: dict[str, str] = dict(cookies or {})

    def path_of(self, url: str) -> str:
        """The path and query of a URL on this provider."""
        if url.startswith(self.base_url):
            url = url[len(self.base_url) :]
        if not url.startswith("/"):
            raise FlowError(f"not a URL of {self.base_url}: {url[:120]}")
        return url

    def request(self, method: str, url: str, form: dict | None = None,
                headers: dict | None = None, body: str | None = None):
        sent = dict(headers or {})
        if form is not None:
            body = urlencode(form)
            sent["Content-Type"] = FORM
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        path = self.path_of(url)
        if self._connection is None:
            self._connection = http.client.HTTPConnection(*self._address, timeout=self._timeout)
        try:
            self._connection.request(method, path, body, sent)
            response = self._connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        received: dict[str, str] = {}
        for name, value in response.getheaders():
            name = name.lower()
            if name == "set-cookie":
                cookie, _, _attributes = value.partition(";")
                key, _, content = cookie.partition("=")
                self.cookies[key.strip()] = content.strip()
            else:
                received[name] = value
        if response.will_close:
            self.close()
        return Answer(response.status, received, data)

    def get(self, url: str, **headers: str) -> Answer:
        return self.request("GET", url, headers=headers)

    def post(self, url: str, form: dict, **headers: str) -> Answer:
        return self.request("POST", url, form=form, headers=headers)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


@dataclass
class Run:
    """What ``run_for`` measured."""

    completions_ms: list[float] = field(default_factory=list)
    errors: int = 0
    first_errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return len(self.completions_ms) / self.seconds if self.seconds else 0.0

    @property
    def p99_ms(self) -> float | None:
        if not self.completions_ms:
            return None
        ordered = sorted(self.completions_ms)
        return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def run_for(seconds: float, workers: int, make_job) -> Run:
    """Run ``make_job(worker)()`` repeatedly on ``workers`` threads for ``seconds``.

    ``make_job`` is called once per thread and returns the job, which returns
    False when it has nothing left to do. A job that raises counts one error
    and goes on.
    """
    run = Run()
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker(number: int) -> None:
        job = make_job(number)
        while time.perf_counter() < deadline:
            begin = time.perf_counter()
            try:
                more = job()
            except (FlowError, OSError, http.client.HTTPException, ValueError, KeyError) as error:
                with lock:
                    run.errors += 1
                    if len(run.first_errors) < 3:
                        run.first_errors.append(f"{type(error).__name__}: {error}"[:300])
                continue
            elapsed = (time.perf_counter() - begin) * 1000
            if more is False:
                return
            with lock:
                run.completions_ms.append(elapsed)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run.seconds = time.perf_counter() - started
    return run
