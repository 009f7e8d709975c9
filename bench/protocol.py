"""The protocol round trips a partner makes, over the WSGI app (no network).

A member with a live SSO session and a standing consent: authorization request
to code, code exchange (with PKCE and client_secret_basic), refresh with
rotation, UserInfo, introspection and the miles API. Each figure is one HTTP
request through the whole Flask stack, database included.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from urllib.parse import parse_qs, urlencode, urlsplit

from flask import session

from bench.members import PASSWORD
from bench.registry import Context, Result, benchmark
from idp.extensions import db
from idp.models import Member
from idp.services import sso
from idp.services.consent import record_decision
from idp.services.members import NewMember, create_member
from idp.services.registration import ClientRequest, create_partner, register_client

REDIRECT_URI = "https://shop.bench.example/callback"
SCOPE = "openid profile email miles offline_access"


def _setup(ctx: Context):
    app = ctx.app
    with app.app_context():
        member = create_member(
            NewMember(
                email=f"protocol-{secrets.token_hex(4)}@bench.example",
                password=PASSWORD,
                given_name="Bench",
                family_name="Mark",
                miles_balance=1234,
            )
        )
        partner = create_partner("Bench Shop", "partner_company")
        client, secret = register_client(
            ClientRequest(
                partner_id=partner.id,
                client_name="Bench Shop",
                redirect_uris=[REDIRECT_URI],
                scope=SCOPE,
                purposes=["registration", "miles"],
                approved=True,
            )
        )
        record_decision(member.id, client, SCOPE.split(), {"profile", "email"})
        client_id, member_id = client.client_id, member.id
    browser = app.test_client()
    with app.test_request_context():
        sso.start_session(db.session.get(Member, member_id), ["pwd", "otp"])
        token = session[sso.TOKEN_KEY]
    with browser.session_transaction() as cookie:
        cookie[sso.TOKEN_KEY] = token
    return browser, app.test_client(), client_id, secret


def _authorize(browser, client_id: str) -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": SCOPE,
            "state": "s",
            "nonce": secrets.token_hex(8),
            "code_challenge": challenge.decode(),
            "code_challenge_method": "S256",
        }
    )
    response = browser.get(f"/oauth/authorize?{query}")
    location = response.headers.get("Location", "")
    code = parse_qs(urlsplit(location).query).get("code")
    if response.status_code != 302 or not code:
        raise AssertionError(f"no code: {response.status_code} {location[:120]}")
    return code[0], verifier


@benchmark("protocol.round_trips")
def round_trips(ctx: Context) -> list[Result]:
    browser, backend, client_id, secret = _setup(ctx)
    auth = (client_id, secret)
    state: dict = {}

    def authorize() -> None:
        state["code"], state["verifier"] = _authorize(browser, client_id)

    def exchange() -> None:
        state["pending"] = _authorize(browser, client_id)

    def token() -> None:
        code, verifier = state.pop("pending")
        response = backend.post(
            "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier,
            },
            auth=auth,
        )
        if response.status_code != 200:
            raise AssertionError(response.get_data(as_text=True))
        state["tokens"] = response.get_json()

    def refresh() -> None:
        response = backend.post(
            "/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": state["tokens"]["refresh_token"]},
            auth=auth,
        )
        if response.status_code != 200:
            raise AssertionError(response.get_data(as_text=True))
        state["tokens"] = response.get_json()

    def bearer(path: str):
        def call() -> None:
            response = backend.get(
                path, headers={"Authorization": f"Bearer {state['tokens']['access_token']}"}
            )
            if response.status_code != 200:
                raise AssertionError(response.get_data(as_text=True))

        return call

    def introspect() -> None:
        response = backend.post(
            "/oauth/introspect", data={"token": state["tokens"]["access_token"]}, auth=auth
        )
        if not response.get_json().get("active"):
            raise AssertionError("token not active")

    results = [ctx.measure("protocol.authorize", authorize, runs=200, note="session + consent")]

    # The code exchange needs a fresh code each time; only the token request is timed.
    samples: list[float] = []
    for _ in range(100):
        exchange()
        begin = time.perf_counter()
        token()
        samples.append((time.perf_counter() - begin) * 1000)
        if sum(samples) / 1000 > ctx.budget_s or time.perf_counter() > ctx.deadline:
            break
    # Operations per second of the token request alone, as the other rows count theirs.
    per_second = 1000 * len(samples) / sum(samples)
    results.append(
        Result("protocol.token_code", samples, rows_per_s=per_second, note="PKCE, client_secret_basic")
    )
    results.append(ctx.measure("protocol.token_refresh", refresh, runs=200, note="rotation"))
    results.append(ctx.measure("protocol.userinfo", bearer("/oauth/userinfo"), runs=300))
    results.append(ctx.measure("protocol.miles_api", bearer("/api/v1/me/miles"), runs=300))
    results.append(ctx.measure("protocol.introspect", introspect, runs=300))
    with ctx.app.app_context():
        db.session.remove()
    return results
