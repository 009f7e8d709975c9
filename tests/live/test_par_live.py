"""Pushed authorization requests (RFC 9126) against ``mam-idp serve --workers 2``.

The partner is Authlib's OAuth2Session (PKCE, state, the code exchange); the
member's browser is a ``requests`` session on the provider's pages. Several
browsers presenting one ``request_uri`` at the same moment, in whichever
worker process answers each: exactly one gets on.
"""

from __future__ import annotations

import secrets
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.live.journey import allow
from tests.live.load import REDIRECT_URI, SCOPE, UNLIMITED, Browser, Partner, at_the_same_moment
from tests.live.server import SCRIPT, live_provider
from tests.login_flow import csrf_token, totp_code

pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="mam-idp is not installed")


def discover(provider) -> dict:
    return requests.get(provider.url + "/.well-known/openid-configuration", timeout=10).json()


def relying_party(partner: Partner, metadata: dict) -> OAuth2Session:
    return OAuth2Session(
        partner.client_id,
        partner.client_secret,
        scope=SCOPE,
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        token_endpoint=metadata["token_endpoint"],
    )


def push(rp: OAuth2Session, metadata: dict, verifier: str, nonce: str) -> tuple[str, str]:
    """Authlib builds the request; it is pushed instead of sent. (request_uri, state)."""
    url, state = rp.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    parameters = dict(parse_qsl(urlsplit(url).query))
    pushed = rp.post(
        metadata["pushed_authorization_request_endpoint"],
        data=parameters,
        auth=rp.client_auth(rp.token_endpoint_auth_method),
        withhold_token=True,
        timeout=10,
    )
    assert pushed.status_code == 201, pushed.text
    assert pushed.headers["Cache-Control"] == "no-store"
    return pushed.json()["request_uri"], state


def authorization_url(metadata: dict, client_id: str, request_uri: str) -> str:
    query = urlencode({"client_id": client_id, "request_uri": request_uri})
    return f"{metadata['authorization_endpoint']}?{query}"


def follow(partner: Partner, http: requests.Session, response) -> requests.Response:
    return partner._follow(http, response, [])


def test_a_partner_pushes_with_authlib_and_the_member_logs_in(backend, redis_url, tmp_path):
    with live_provider(tmp_path, backend, redis_url, **UNLIMITED) as provider:
        partner = Partner.seed(provider, members=1)
        (member,) = partner.members
        metadata = discover(provider)
        assert metadata["pushed_authorization_request_endpoint"] == provider.url + "/oauth/par"
        rp = relying_party(partner, metadata)
        verifier, nonce = generate_token(48), secrets.token_urlsafe(12)
        request_uri, state = push(rp, metadata, verifier, nonce)

        http = Browser()
        start = authorization_url(metadata, partner.client_id, request_uri)
        page = follow(partner, http, http.get(start))
        assert urlsplit(page.url).path == "/login", page.url
        page = follow(
            partner,
            http,
            http.post(
                page.url,
                data={
                    "login": member.email,
                    "password": member.password,
                    "csrf_token": csrf_token(page.text),
                },
            ),
        )
        assert urlsplit(page.url).path == "/login/verify", page.url
        data = {"code": totp_code(member.totp_key), "csrf_token": csrf_token(page.text)}
        page = follow(partner, http, http.post(page.url, data=data))
        # Back at the authorization endpoint by the reference, then on to the consent screen.
        assert "/consent/" in page.url, (page.status_code, page.url, page.text[:300])
        answer = allow(http, page)
        callback = answer.headers["Location"]
        assert callback.startswith(REDIRECT_URI), callback

        token = rp.fetch_token(authorization_response=callback, state=state, code_verifier=verifier)
        assert token["token_type"] == "Bearer" and set(token["scope"].split()) == set(SCOPE.split())
        keys = KeySet.import_key_set(requests.get(metadata["jwks_uri"], timeout=10).json())
        claims = jwt.decode(token["id_token"], keys, algorithms=["RS256"]).claims
        assert claims["nonce"] == nonce and claims["aud"] == partner.client_id
        assert claims["iss"] == provider.url

        # The reference is spent, for this browser too.
        again = http.get(start)
        assert again.status_code == 400 and "Location" not in again.headers


def test_one_request_uri_presented_by_several_browsers_at_once_lets_one_in(
    backend, redis_url, tmp_path
):
    with live_provider(tmp_path, backend, redis_url, **UNLIMITED) as provider:
        partner = Partner.seed(provider, members=0)
        metadata = discover(provider)
        rp = relying_party(partner, metadata)
        for _round in range(4):
            request_uri, _state = push(rp, metadata, generate_token(48), "n")
            url = authorization_url(metadata, partner.client_id, request_uri)
            browsers = [Browser() for _ in range(4)]
            outcome = at_the_same_moment([lambda h=http, u=url: h.get(u) for http in browsers])
            assert outcome.failures == [] and outcome.server_errors == []
            statuses = sorted(r.status_code for r in outcome.responses)
            assert statuses == [302, 400, 400, 400], [
                (r.status_code, r.headers.get("Location"), r.text[:200]) for r in outcome.responses
            ]
            (winner,) = [r for r in outcome.responses if r.status_code == 302]
            assert urlsplit(winner.headers["Location"]).path == "/login"
            for http in browsers:
                http.close()
