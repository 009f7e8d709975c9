"""The loads of the side-by-side run, and the figures each gives.

Single requests are repeated by wrk (``wrk.lua`` sets the method, body and
headers and prints wrk's summary as JSON): token (client credentials),
introspection of a live token, discovery, JWKS, UserInfo with a bearer token.
Each request is first sent once and its answer checked (a 200 with the
expected content), so that a load of errors is never mistaken for a figure.

Flows that chain requests run in Python (``browser.run_for``): the code flow
(authorization request with the session cookie and the standing consent, code
exchange with PKCE, UserInfo), and ours' two-factor login (password, then a
TOTP code), each member once, since a TOTP step is accepted only once.

CPU per request is the CPU time the provider's processes spent during the
load (``processes.cpu_seconds`` before and after) divided by the requests.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

from bench.side_by_side.browser import (
    Browser,
    FlowError,
    Run,
    authorization_url,
    basic_auth,
    pkce_pair,
    run_for,
)
from bench.side_by_side.ours import REDIRECT_URI, SCOPE
from bench.side_by_side.processes import cpu_seconds, run_command

WRK_SCRIPT = Path(__file__).with_name("wrk.lua")
#: The endpoints wrk loads, in the order they run, then the code flow.
WRK_ENDPOINTS = ("token", "introspection", "discovery", "jwks", "userinfo")
CODE_FLOW = "code_flow"
ENDPOINTS = (*WRK_ENDPOINTS, CODE_FLOW)
FORM = "application/x-www-form-urlencoded"


@dataclass
class Figures:
    """One provider under one load."""

    requests: int
    seconds: float
    per_second: float
    p99_ms: float | None
    #: Answers with a status of 400 or more (a wrong answer, for the flows).
    status_errors: int
    #: Connect, read, write and timeout errors.
    socket_errors: int
    cpu_ms_per_request: float | None

    @property
    def errors(self) -> int:
        return self.status_errors + self.socket_errors

    def as_dict(self) -> dict:
        return {**asdict(self), "errors": self.errors}


@dataclass
class Request:
    method: str
    url: str
    body: str
    headers: dict[str, str]


def _checked(side, request: Request, check) -> Request:
    """Send ``request`` once; raise unless the answer is a 200 that passes ``check``."""
    browser = Browser(side.url)
    answer = browser.request(request.method, request.url, headers=request.headers,
                             body=request.body or None)
    browser.close()
    if answer.status != 200 or not check(answer):
        raise FlowError(f"{side.name} {request.method} {request.url}: {answer.status} "
                        f"{answer.text[:300]}")
    return request


def client_credentials_token(side) -> str:
    seeded = side.seeded
    browser = Browser(side.url)
    answer = browser.post(side.endpoints["token_endpoint"], {"grant_type": "client_credentials"},
                          Authorization=basic_auth(seeded.service_id, seeded.service_secret))
    browser.close()
    if answer.status != 200:
        raise FlowError(f"{side.name} client credentials: {answer.status} {answer.text[:300]}")
    return answer.json()["access_token"]


def endpoint_request(side, name: str) -> Request:
    """The request wrk repeats for endpoint ``name`` on ``side``, checked once."""
    seeded, endpoints = side.seeded, side.endpoints
    service = basic_auth(seeded.service_id, seeded.service_secret)
    if name == "token":
        request = Request("POST", endpoints["token_endpoint"], "grant_type=client_credentials",
                          {"Authorization": service, "Content-Type": FORM})
        return _checked(side, request, lambda a: "access_token" in a.json())
    if name == "introspection":
        body = urlencode({"token": client_credentials_token(side)})
        request = Request("POST", endpoints["introspection_endpoint"], body,
                          {"Authorization": service, "Content-Type": FORM})
        return _checked(side, request, lambda a: a.json().get("active") is True)
    if name == "discovery":
        request = Request("GET", f"{side.url}/.well-known/openid-configuration", "", {})
        return _checked(side, request, lambda a: a.json().get("issuer") == side.url)
    if name == "jwks":
        request = Request("GET", endpoints["jwks_uri"], "", {})
        return _checked(
            side, request, lambda a: {"RSA", "EC"} <= {k["kty"] for k in a.json()["keys"]}
        )
    if name == "userinfo":
        browser = Browser(side.url, side.cookies)
        bearer = code_flow(side, browser)  # a fresh token, whatever the loads before did
        browser.close()
        request = Request("GET", endpoints["userinfo_endpoint"], "",
                          {"Authorization": f"Bearer {bearer}"})
        return _checked(side, request, lambda a: a.json().get("sub"))
    raise ValueError(f"no such endpoint: {name}")


def wrk(side, request: Request, threads: int, connections: int, seconds: int) -> Figures:
    """Load ``request`` on ``side`` with wrk for ``seconds``."""
    argv = ["wrk", f"-t{threads}", f"-c{max(connections, threads)}", f"-d{seconds}s",
            "--timeout", "10s", "-s", str(WRK_SCRIPT), request.url, "--",
            request.method, request.body, *(f"{k}: {v}" for k, v in request.headers.items())]
    before = cpu_seconds(side.running.pid)
    status, out, err = run_command(argv, dict(os.environ), WRK_SCRIPT.parent, seconds + 60)
    spent = cpu_seconds(side.running.pid) - before
    summary = next((line for line in out.splitlines() if line.startswith("WRK-SUMMARY ")), None)
    if status != 0 or summary is None:
        raise RuntimeError(f"wrk failed ({status}):\n{out}\n{err}")
    s = json.loads(summary.split(" ", 1)[1])
    elapsed = s["duration_us"] / 1e6
    return Figures(
        requests=s["requests"],
        seconds=round(elapsed, 2),
        per_second=s["requests"] / elapsed if elapsed else 0.0,
        p99_ms=s["p99_us"] / 1000,
        status_errors=s["status"],
        socket_errors=s["connect"] + s["read"] + s["write"] + s["timeout"],
        cpu_ms_per_request=1000 * spent / s["requests"] if s["requests"] else None,
    )


# -- the code flow ---------------------------------------------------------------------


def code_flow(side, browser: Browser) -> str:
    """Authorization request → code → token (PKCE) → UserInfo; returns the access token."""
    seeded, endpoints = side.seeded, side.endpoints
    verifier, challenge = pkce_pair()
    url = authorization_url(endpoints["authorization_endpoint"], seeded.shop_id, challenge,
                            SCOPE, REDIRECT_URI)
    answer = browser.get(url)
    code = parse_qs(urlsplit(answer.location).query).get("code")
    if answer.status not in (302, 303) or not answer.location.startswith(REDIRECT_URI) or not code:
        raise FlowError(f"authorize: {answer.status} {answer.location[:160] or answer.text[:160]}")
    answer = browser.post(
        endpoints["token_endpoint"],
        {"grant_type": "authorization_code", "code": code[0], "redirect_uri": REDIRECT_URI,
         "code_verifier": verifier},
        Authorization=basic_auth(seeded.shop_id, seeded.shop_secret),
    )
    if answer.status != 200:
        raise FlowError(f"token: {answer.status} {answer.text[:200]}")
    access_token = answer.json()["access_token"]
    answer = browser.get(endpoints["userinfo_endpoint"], Authorization=f"Bearer {access_token}")
    if answer.status != 200 or not answer.json().get("sub"):
        raise FlowError(f"userinfo: {answer.status} {answer.text[:200]}")
    return access_token


def _figures(run: Run, spent_cpu: float) -> Figures:
    done = len(run.completions_ms)
    return Figures(
        requests=done,
        seconds=round(run.seconds, 2),
        per_second=run.per_second,
        p99_ms=run.p99_ms,
        status_errors=run.errors,
        socket_errors=0,
        cpu_ms_per_request=1000 * spent_cpu / done if done else None,
    )


def code_flow_run(side, workers: int, seconds: float) -> tuple[Figures, list[str]]:
    """``workers`` browsers sharing the member's session run the code flow for ``seconds``."""
    browsers: list[Browser] = []

    def make_job(_number: int):
        browser = Browser(side.url, side.cookies)
        browsers.append(browser)
        return lambda: code_flow(side, browser)

    before = cpu_seconds(side.running.pid)
    run = run_for(seconds, workers, make_job)
    spent = cpu_seconds(side.running.pid) - before
    for browser in browsers:
        browser.close()
    return _figures(run, spent), run.first_errors


# -- ours' two-factor login ----------------------------------------------------------------


def argon2_per_second(seconds: float, concurrency: int) -> float:
    """Password verifications per second on this machine, with the provider's parameters.

    ``concurrency`` threads verify at once (argon2 releases the GIL), as the logins do:
    one verification already runs its lanes on several cores (the RFC 9106 profile's
    parallelism), so one thread's rate times the workers would count the cores twice.
    """
    from idp.services.passwords import hash_password, verify_password

    password_hash = hash_password("benchmark password")
    done = [0] * concurrency
    started = time.perf_counter()

    def verify(slot: int) -> None:
        while time.perf_counter() - started < seconds or done[slot] < 1:
            if not verify_password(password_hash, "benchmark password"):
                raise RuntimeError("argon2 verification failed")
            done[slot] += 1

    threads = [threading.Thread(target=verify, args=(n,)) for n in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.perf_counter() - started)


def login_run(ours, members: list[tuple[str, str]], workers: int, seconds: float):
    """Two-factor logins of distinct members on ``workers`` threads, until time or members run out."""
    pool = iter(members)
    lock = threading.Lock()
    browsers: list[Browser] = []

    def make_job(_number: int):
        browser = Browser(ours.url)
        browsers.append(browser)

        def job():
            with lock:
                member = next(pool, None)
            if member is None:
                return False
            browser.cookies.clear()
            ours.log_in(browser, *member)
            return True

        return job

    before = cpu_seconds(ours.running.pid)
    run = run_for(seconds, workers, make_job)
    spent = cpu_seconds(ours.running.pid) - before
    for browser in browsers:
        browser.close()
    return _figures(run, spent), run.first_errors
