"""Malformed input anywhere gets an OAuth error or an error page, never a 500."""

from __future__ import annotations

import base64
import json
import random
import string
from urllib.parse import quote, urlencode

import pytest

from tests.oauth.conftest import ISSUER, redirect_params

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


# -- NUL and bytes that are not UTF-8 (each of these was a 500 on PostgreSQL) --------

BACK_CHANNEL = ("/oauth/token", "/oauth/revoke", "/oauth/introspect")


def _query(**params) -> str:
    """A query string with values given already percent-encoded (``%00``, ``%FF``)."""
    return "&".join(f"{k}={v}" for k, v in params.items())


def test_a_nul_client_id_at_authorize_is_an_error_page(oauth, rp):
    for client_id in ("%00", "a%00b", "%FF%FE"):
        query = _query(
            client_id=client_id, redirect_uri=rp.redirect_uri, response_type="code", scope="openid"
        )
        response = oauth.http.get("/oauth/authorize?" + query)
        assert response.status_code == 400, client_id
        assert response.mimetype == "text/html"
        assert "not registered with Miles" in response.get_data(as_text=True)


def test_a_nul_redirect_uri_at_authorize_is_an_error_page(oauth, rp):
    query = _query(client_id=rp.client_id, redirect_uri="https%3A//partner.example/%00")
    response = oauth.http.get("/oauth/authorize?response_type=code&scope=openid&" + query)
    assert response.status_code == 400
    assert "Location" not in response.headers


@pytest.mark.parametrize(
    "name,value", [("nonce", "n%00"), ("state", "%FF%FE"), ("login_hint", "%00"), ("x%00", "1")]
)
def test_a_parameter_that_is_not_text_goes_back_as_invalid_request(
    oauth, rp, member_id, name, value
):
    """Once the client and its redirect URI are trusted, the error goes back to them, and
    a state that is not text is not echoed in a changed form."""
    oauth.login(member_id)
    base = urlencode(
        {
            "client_id": rp.client_id,
            "redirect_uri": rp.redirect_uri,
            "response_type": "code",
            "scope": "openid",
        }
    )
    state = "" if name == "state" else "&state=kept"
    response = oauth.http.get(f"/oauth/authorize?{base}{state}&{name}={value}")
    params = redirect_params(response)
    assert params["error"] == "invalid_request"
    assert params["iss"] == ISSUER
    if name == "state":
        assert "state" not in params
    else:
        assert params["state"] == "kept"


def test_raw_bytes_beyond_ascii_in_a_query_string(oauth, rp, client):
    """A client that does not percent-encode: no route fails on decoding the query."""
    for path in (
        "/oauth/authorize",
        "/login",
        "/oauth/logout",
        "/.well-known/openid-configuration",
    ):
        raw = "client_id=" + rp.client_id + "&state=\xff\xfe&ui_locales=de\x80"
        response = client.get(path, environ_overrides={"QUERY_STRING": raw})
        assert response.status_code < 500, path


@pytest.mark.parametrize("path", BACK_CHANNEL)
def test_a_nul_client_id_at_the_back_channel_is_invalid_request(oauth, rp, path):
    form = {"grant_type": "client_credentials", "token": "x", "client_id": "\x00"}
    for response in (
        oauth.http.post(path, data=form),
        oauth.http.post(path + "?client_id=%00", data={"grant_type": "client_credentials"}),
        oauth.http.post(
            path,
            data=b"grant_type=client_credentials&token=x&client_id=\xff",
            content_type="application/x-www-form-urlencoded",
        ),
    ):
        assert response.status_code == 400, response.get_data(as_text=True)
        assert response.mimetype == "application/json"
        assert response.get_json()["error"] == "invalid_request"


@pytest.mark.parametrize("path", BACK_CHANNEL)
@pytest.mark.parametrize(
    "authorization",
    [
        "",
        " ",
        "Bearer ",
        "Bearer abc",
        "Negotiate abc",
        "Basic",
        "Basic !!!not-base64",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:secret").decode(),
        "Basic " + base64.b64encode(b"\x00:secret").decode(),
        "Basic " + base64.b64encode(b"%00:secret").decode(),
        "Basic " + base64.b64encode(b"%FF:secret").decode(),
        "Basic " + base64.b64encode(b":secret").decode(),
    ],
)
def test_an_unusable_authorization_header_is_invalid_client(oauth, rp, path, authorization):
    """RFC 6749 §5.2: 401 invalid_client with a Basic challenge, never Authlib's ValueError."""
    response = oauth.http.post(
        path,
        data={"grant_type": "client_credentials", "token": "x"},
        headers={"Authorization": authorization},
    )
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.get_json()["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic ")


def test_a_basic_header_decodes_its_form_encoded_client_id(oauth, rp):
    """RFC 6749 §2.3.1: the id and secret are form-encoded inside the Basic header."""
    raw = f"{rp.client_id}:{rp.secret}".replace("-", "%2D").encode()
    response = oauth.http.post(
        "/oauth/introspect",
        data={"token": "unknown"},
        headers={"Authorization": "Basic " + base64.b64encode(raw).decode()},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"active": False}


@pytest.mark.parametrize(
    "query",
    [
        "client_id=%00",
        "state=%00&client_id=x",
        "id_token_hint=%00",
        "ui_locales=%FF%FE",
        "post_logout_redirect_uri=%00",
    ],
)
def test_a_logout_request_that_is_not_text_is_an_error_page(client, query):
    for response in (
        client.get("/oauth/logout?" + query),
        client.post("/oauth/logout", data=query, content_type="application/x-www-form-urlencoded"),
    ):
        assert response.status_code == 400
        assert response.mimetype == "text/html"
        assert "could not understand what was sent" in response.get_data(as_text=True)


def test_a_deeply_nested_id_token_hint_at_logout(client):
    response = client.get("/oauth/logout?" + urlencode({"id_token_hint": deep_jwt()}))
    assert response.status_code == 400


@pytest.mark.parametrize("path", ["/oauth/userinfo", "/api/v1/me/miles"])
def test_malformed_bearer_tokens_at_the_resources(client, path):
    """RFC 6750 §3.1: invalid_request for a malformed request, invalid_token for a bad token."""
    cases = [
        ("Bearer ", 400, "invalid_request"),
        ("Bearer a b", 400, "invalid_request"),
        ("Bearer \x00", 401, "invalid_token"),
        ("Bearer \xff\xfe", 401, "invalid_token"),
        ("Bearer " + "a" * 5000, 401, "invalid_token"),
    ]
    for header, status, error in cases:
        response = client.get(path, headers={"Authorization": header})
        assert response.status_code == status, header
        assert response.get_json()["error"] == error
        assert response.headers["WWW-Authenticate"].startswith("Bearer ")


def test_a_form_body_token_that_is_not_a_token_at_userinfo(client):
    for value in ("\x00", "a b", "ü"):
        response = client.post("/oauth/userinfo", data={"access_token": value})
        assert response.status_code == 401, value
        assert response.get_json()["error"] == "invalid_token"


# -- bodies over the size limit ----------------------------------------------------

TOO_LARGE = b"x=" + b"a" * (300 * 1024)


@pytest.mark.parametrize("path", [*BACK_CHANNEL, "/oauth/userinfo"])
def test_a_body_over_the_limit_at_an_api_is_413_json(client, path):
    response = client.post(path, data=TOO_LARGE, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert response.mimetype in ("application/json", "application/problem+json")


@pytest.mark.parametrize("path", ["/oauth/authorize", "/oauth/logout", "/consent/x", "/logout"])
def test_a_body_over_the_limit_at_a_page_is_a_413_page(client, path):
    response = client.post(path, data=TOO_LARGE, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert response.mimetype == "text/html"
    assert "What was sent is too large" in response.get_data(as_text=True)


def test_the_413_page_in_the_language_asked_for(client):
    response = client.post(
        "/logout?ui_locales=de", data=TOO_LARGE, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 413
    assert 'lang="de"' in response.get_data(as_text=True)


# -- route arguments ---------------------------------------------------------------


def test_route_arguments_that_are_not_text_match_no_route(oauth, member_id, client):
    oauth.login(member_id)
    for path in (
        "/consent/%00",
        "/consent/%FF",
        "/consent/partners/%00.css",
        "/static/%00",
        "/static/css/%FF.css",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.mimetype == "text/html"
    response = client.post("/account/apps/%00/revoke")
    assert response.status_code == 404


def test_query_parameters_named_like_route_arguments(oauth, rp, member_id, client):
    """The language switcher keeps the query but never feeds it to url_for."""
    assert client.get("/static/css/app.css?filename=x").status_code == 200
    response = client.get("/login?endpoint=x&_external=1&_anchor=y&_method=POST&next=/account")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    kept = quote("/login?endpoint=x&_external=1&_anchor=y&_method=POST", safe="")
    assert f'href="/language/de?next={kept}' in html
    oauth.login(member_id)
    location, _page = oauth.consent_page(oauth.authorize(rp))
    page = client.get(location + "?step_id=other&partner_id=x")
    assert page.status_code == 200
    kept = quote(location + "?step_id=other&partner_id=x", safe="")
    assert f"/language/de?next={kept}&amp;flow=" in page.get_data(as_text=True)
