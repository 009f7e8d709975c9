"""Malformed input anywhere gets an OAuth error or an error page, never a 500."""

from __future__ import annotations

import base64
import json
import random
import string
from urllib.parse import urlencode

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
DEEP_JSON = "[" * 2000 + "]" * 2000


def deep_jwt() -> str:
    payload = base64.urlsafe_b64encode(DEEP_JSON.encode()).decode().rstrip("=")
    return "eyJhbGciOiJSUzI1NiJ9." + payload + ".c2ln"


def test_deeply_nested_json_is_refused_cleanly(oauth, rp, member_id):
    oauth.login(member_id)
    response = oauth.authorize(rp, claims=DEEP_JSON)
    assert "error=invalid_request" in response.headers["Location"]
    response = oauth.authorize(rp, id_token_hint=deep_jwt())
    assert "error=invalid_request" in response.headers["Location"]
    response = oauth.http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": deep_jwt(),
        },
    )
    assert response.status_code == 401


def test_random_parameters_never_cause_a_server_error(oauth, rp, member_id):
    oauth.login(member_id)
    rnd = random.Random(20261123)
    alphabet = string.ascii_letters + string.punctuation + " äß€"
    front = ["client_id", "redirect_uri", "response_type", "scope", "state", "nonce", "prompt"]
    front += ["max_age", "claims", "id_token_hint", "code_challenge", "code_challenge_method"]
    front += ["login_hint", "ui_locales", "acr_values", "response_mode"]
    back = ["grant_type", "code", "redirect_uri", "refresh_token", "scope", "code_verifier"]
    back += ["client_assertion", "client_assertion_type", "client_id", "client_secret"]
    back += ["token", "token_type_hint"]

    def noise() -> str:
        return "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 40)))

    failures = []
    for i in range(150):
        params = {
            "client_id": rp.client_id,
            "redirect_uri": rp.redirect_uri,
            "response_type": "code",
            "scope": "openid",
        }
        params.update({rnd.choice(front): noise() for _ in range(rnd.randint(1, 3))})
        response = oauth.http.get("/oauth/authorize?" + urlencode(params))
        if response.status_code >= 500:
            failures.append(("authorize", params))
        form = {rnd.choice(back): noise() for _ in range(3)}
        headers = rp.basic() if i % 2 else {"Authorization": "Basic " + noise()}
        for path in ("/oauth/token", "/oauth/revoke", "/oauth/introspect"):
            response = oauth.http.post(path, data=form, headers=headers)
            if response.status_code >= 500:
                failures.append((path, form))
            elif response.status_code >= 400:
                assert "error" in response.get_json()
    assert not failures, json.dumps(failures[:3])
