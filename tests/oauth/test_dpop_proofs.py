"""DPoP proof checks at the token endpoint (RFC 9449 §4.3, §5.1, §8): each bad proof a 400.

A confidential client asks for a client credentials token with a proof; a
good proof gets a ``DPoP`` token bound to its key, every bad one
``invalid_dpop_proof`` (or ``use_dpop_nonce``), never a 500 and never a token.
"""

from __future__ import annotations

import time

import pytest

from tests.dpop_proofs import (
    OMIT,
    TOKEN_URL,
    DPoPKey,
    hmac_proof,
    sign,
    unsigned_proof,
)


@pytest.fixture
def service(oauth):
    """A confidential client allowed the client credentials grant."""
    return oauth.client(grant_types=["client_credentials"], scope="openid")


def ask(oauth, service, proof=None, headers=None):
    sent = dict(service.basic())
    if proof is not None:
        sent["DPoP"] = proof
    sent.update(headers or {})
    return oauth.http.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=sent)


@pytest.mark.parametrize("make_key", [DPoPKey.ec, DPoPKey.rsa, DPoPKey.ed25519])
@pytest.mark.filterwarnings("ignore:EdDSA is deprecated")
def test_a_good_proof_gets_a_dpop_token_bound_to_its_key(oauth, service, make_key):
    key = make_key()
    response = ask(oauth, service, key.proof("POST", TOKEN_URL))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["token_type"] == "DPoP"
    assert response.headers["DPoP-Nonce"]
    introspected = oauth.http.post(
        "/oauth/introspect", data={"token": body["access_token"]}, headers=service.basic()
    ).get_json()
    assert introspected["active"] is True
    assert introspected["token_type"] == "DPoP"
    assert introspected["cnf"] == {"jkt": key.jkt}


def test_without_a_proof_the_token_is_a_bearer_token(oauth, service):
    response = ask(oauth, service)
    assert response.status_code == 200
    assert response.get_json()["token_type"] == "Bearer"
    introspected = oauth.http.post(
        "/oauth/introspect", data={"token": response.get_json()["access_token"]},
        headers=service.basic(),
    ).get_json()  # fmt: skip
    assert "cnf" not in introspected


def test_an_unknown_header_that_is_not_critical_is_ignored(oauth, service):
    proof = DPoPKey.ec().proof("POST", TOKEN_URL, header={"kid": "k1", "x-app": "1.2"})
    assert ask(oauth, service, proof).status_code == 200


def test_the_htu_is_compared_normalised_without_query_and_fragment(oauth, service):
    key = DPoPKey.ec()
    for htu in (
        "HTTP://127.0.0.1:5000/oauth/token?x=1#y",
        "http://127.0.0.1:5000/oauth/%74oken",
        "http://127.0.0.1:5000/oauth/./token",
    ):
        response = ask(oauth, service, key.proof("POST", htu))
        assert response.status_code == 200, (htu, response.get_json())


def _bad_proofs():
    key = DPoPKey.ec()
    now = int(time.time())
    rsa = DPoPKey.rsa("RS256")
    return {
        "malformed": "not-a-jwt",
        "three parts of garbage": "a.b.c",
        "header not json": "eyJub3Q.eyJ9.c2ln",
        "wrong typ": key.proof("POST", TOKEN_URL, header={"typ": "JWT"}),
        "no typ": key.proof("POST", TOKEN_URL, header={"typ": OMIT}),
        "alg none": unsigned_proof("POST", TOKEN_URL),
        "symmetric alg": hmac_proof("POST", TOKEN_URL),
        "jwk of another key type than alg": rsa.proof(
            "POST", TOKEN_URL, header={"jwk": key.public_jwk}
        ),
        "private key in jwk": key.proof(
            "POST", TOKEN_URL, header={"jwk": key.key.as_dict(private=True)}
        ),
        "no jwk": key.proof("POST", TOKEN_URL, header={"jwk": OMIT}),
        "an unknown critical header": key.proof(
            "POST", TOKEN_URL, header={"crit": ["x-bind"], "x-bind": 1}
        ),
        "jwk not an object": key.proof("POST", TOKEN_URL, header={"jwk": "key"}),
        "signed by another key": key.proof(
            "POST", TOKEN_URL, header={"jwk": DPoPKey.ec().public_jwk}
        ),
        "another htm": key.proof("GET", TOKEN_URL),
        "another htu": key.proof("POST", "http://127.0.0.1:5000/oauth/introspect"),
        "another host": key.proof("POST", "http://attacker.example/oauth/token"),
        "htu not a url": key.proof("POST", "token"),
        "no jti": key.proof("POST", TOKEN_URL, jti=OMIT),
        "jti not a string": key.proof("POST", TOKEN_URL, jti=42),
        "no iat": key.proof("POST", TOKEN_URL, iat=OMIT),
        "iat a string": key.proof("POST", TOKEN_URL, iat="now"),
        "iat too old": key.proof("POST", TOKEN_URL, iat=now - 120),
        "iat in the future": key.proof("POST", TOKEN_URL, iat=now + 120),
        "payload not an object": None,
    }


@pytest.mark.parametrize("name", list(_bad_proofs()))
def test_a_bad_proof_is_refused_with_invalid_dpop_proof(oauth, service, name):
    proof = _bad_proofs()[name]
    if proof is None:
        key = DPoPKey.ec()
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.public_jwk}
        proof = sign(header, b"[1, 2]", key.key, "ES256")
    response = ask(oauth, service, proof)
    assert response.status_code == 400, (name, response.get_json())
    assert response.get_json()["error"] == "invalid_dpop_proof", name
    assert "access_token" not in response.get_json()


def test_two_dpop_headers_are_refused(oauth, service):
    key = DPoPKey.ec()
    headers = [
        *service.basic().items(),
        ("DPoP", key.proof("POST", TOKEN_URL)),
        ("DPoP", key.proof("POST", TOKEN_URL)),
    ]
    response = oauth.http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers=headers
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_dpop_proof"


def test_a_proof_is_accepted_once(oauth, service):
    proof = DPoPKey.ec().proof("POST", TOKEN_URL)
    assert ask(oauth, service, proof).status_code == 200
    again = ask(oauth, service, proof)
    assert again.status_code == 400
    assert again.get_json()["error"] == "invalid_dpop_proof"
    assert "used before" in again.get_json()["error_description"]


def test_a_small_rsa_key_is_refused(oauth, service):
    from joserfc.jwk import RSAKey

    key = DPoPKey(RSAKey.generate_key(1024, private=True), "RS256")
    response = ask(oauth, service, key.proof("POST", TOKEN_URL))
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_dpop_proof"


def test_a_client_registered_with_dpop_bound_access_tokens_needs_a_proof(oauth):
    service = oauth.client(
        grant_types=["client_credentials"], scope="openid", dpop_bound_access_tokens=True
    )
    refused = ask(oauth, service)
    assert refused.status_code == 400
    assert refused.get_json()["error"] == "invalid_dpop_proof"
    assert ask(oauth, service, DPoPKey.ec().proof("POST", TOKEN_URL)).status_code == 200


# -- server nonces (§8) -------------------------------------------------------------------


@pytest.fixture
def nonces_required(app):
    settings = app.config["IDP"]
    app.config["IDP"] = type(settings)(**{**settings.__dict__, "dpop_nonce_required": True})
    yield
    app.config["IDP"] = settings


def test_a_required_nonce_round_trip(oauth, service, nonces_required):
    key = DPoPKey.ec()
    first = ask(oauth, service, key.proof("POST", TOKEN_URL))
    assert first.status_code == 400
    assert first.get_json()["error"] == "use_dpop_nonce"
    nonce = first.headers["DPoP-Nonce"]
    assert nonce
    second = ask(oauth, service, key.proof("POST", TOKEN_URL, nonce=nonce))
    assert second.status_code == 200, second.get_json()
    assert second.get_json()["token_type"] == "DPoP"
    assert second.headers["DPoP-Nonce"]


def test_a_nonce_not_ours_is_refused_with_use_dpop_nonce(oauth, service):
    response = ask(oauth, service, DPoPKey.ec().proof("POST", TOKEN_URL, nonce="made-up"))
    assert response.status_code == 400
    assert response.get_json()["error"] == "use_dpop_nonce"
    good = ask(
        oauth, service, DPoPKey.ec().proof("POST", TOKEN_URL, nonce=response.headers["DPoP-Nonce"])
    )
    assert good.status_code == 200


def test_discovery_lists_the_dpop_algorithms(oauth):
    metadata = oauth.http.get("/.well-known/openid-configuration").get_json()
    assert metadata["dpop_signing_alg_values_supported"] == [
        "ES256", "ES384", "PS256", "RS256", "Ed25519", "EdDSA",
    ]  # fmt: skip


def test_a_nonce_from_one_process_is_accepted_by_another(tmp_path):
    """Nonces are HMACs under the shared secret key: no store, any process checks them."""
    from idp.oauth import dpop_nonce
    from tests.conftest import make_test_app

    database = f"sqlite:///{tmp_path / 'nonce.sqlite3'}"
    one = make_test_app(database, tmp_path / "one")
    other = make_test_app(database, tmp_path / "other")
    stranger = make_test_app(database, tmp_path / "stranger", secret_key="s" * 40)
    with one.app_context():
        nonce = dpop_nonce.current_nonce()
    with other.app_context():
        assert dpop_nonce.is_valid(nonce)
    with stranger.app_context():
        assert not dpop_nonce.is_valid(nonce)


def test_the_htu_is_the_issuers_url_not_the_host_the_request_came_to(oauth, service):
    """Behind a proxy the process sees an internal name; proofs name the issuer's URL."""
    internal = "http://idp-internal:8080/oauth/token"
    key = DPoPKey.ec()
    for htu, status in ((TOKEN_URL, 200), (internal, 400)):
        response = oauth.http.post(
            "/oauth/token",
            base_url="http://idp-internal:8080",
            data={"grant_type": "client_credentials"},
            headers={**service.basic(), "DPoP": key.proof("POST", htu)},
        )
        assert response.status_code == status, (htu, response.get_json())
