"""Discovery and the JWKS from memory: ETags, 304, HEAD, and a key set that is never stale.

The key set is rotated through a second application on the same database (a
second worker, or the CLI on another machine): the first application must
publish the new keys, and sign with them, on its very next request.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from idp.extensions import db, keyring
from idp.models import SigningKey
from idp.services import signing_keys
from tests.conftest import make_test_app

DOCUMENTS = ("/.well-known/openid-configuration", "/oauth/jwks.json")


@pytest.mark.parametrize("path", DOCUMENTS)
def test_a_strong_etag_and_304_when_the_client_has_it(client, path):
    first = client.get(path)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')  # strong: no W/ (RFC 9110 §8.8.3)
    assert first.headers["Cache-Control"] == "public, max-age=300"
    assert first.mimetype == "application/json"

    for sent in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = client.get(path, headers={"If-None-Match": sent})
        assert again.status_code == 304, sent
        assert again.data == b""
        assert again.headers["ETag"] == etag
        assert again.headers["Cache-Control"] == "public, max-age=300"
        assert again.headers["X-Content-Type-Options"] == "nosniff"
        assert again.headers["Access-Control-Allow-Origin"] == "*"
        assert "Pragma" not in again.headers

    stale = client.get(path, headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200
    assert stale.data == first.data


@pytest.mark.parametrize("path", DOCUMENTS)
def test_head_has_the_headers_of_get_without_the_body(client, path):
    got = client.get(path)
    head = client.head(path)
    assert head.status_code == 200
    assert head.data == b""
    assert head.headers["ETag"] == got.headers["ETag"]
    assert head.headers["Content-Length"] == str(len(got.data))
    assert head.headers["Cache-Control"] == got.headers["Cache-Control"]


def test_both_metadata_addresses_serve_the_same_bytes(client):
    oidc = client.get("/.well-known/openid-configuration")
    oauth = client.get("/.well-known/oauth-authorization-server")
    assert oidc.data == oauth.data
    assert oidc.headers["ETag"] == oauth.headers["ETag"]


# -- a second application on the same database ----------------------------------------


@pytest.fixture(scope="module")
def other_app(committed_app, redis_url, tmp_path_factory):
    """Another process of the same deployment: same database, same data keys."""
    app = make_test_app(
        committed_app.config["SQLALCHEMY_DATABASE_URI"],
        tmp_path_factory.mktemp("other-instance"),
        redis_url,
    )
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _rotate(app) -> dict[str, str]:
    result = app.test_cli_runner().invoke(args=["keys", "rotate", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["kids"]


def _kids(response) -> list[str]:
    return [key["kid"] for key in response.get_json()["keys"]]


def test_a_rotation_elsewhere_is_published_at_once(committed_app, other_app):
    http = committed_app.test_client()
    before = http.get("/oauth/jwks.json")
    etag = before.headers["ETag"]
    assert http.get("/oauth/jwks.json", headers={"If-None-Match": etag}).status_code == 304

    new = _rotate(other_app)

    after = http.get("/oauth/jwks.json", headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert after.headers["ETag"] != etag
    # The new keys come first; the retired ones stay until their tokens expired.
    assert set(_kids(after)[:2]) == set(new.values())
    assert set(_kids(before)) <= set(_kids(after))
    repeated = http.get("/oauth/jwks.json", headers={"If-None-Match": after.headers["ETag"]})
    assert repeated.status_code == 304


def test_a_retired_key_leaves_when_its_unpublish_time_comes(committed_app, other_app, monkeypatch):
    http = committed_app.test_client()
    old = set(_kids(http.get("/oauth/jwks.json")))
    new = _rotate(other_app)
    assert old <= set(_kids(http.get("/oauth/jwks.json")))

    with other_app.app_context():
        last_unpublish = max(
            db.session.scalars(db.select(SigningKey.unpublish_after).where(SigningKey.kid.in_(old)))
        )
    # Nothing changes in the database: only the clock passes the unpublish time.
    monkeypatch.setattr(
        "idp.services.signing_key_cache.utcnow",
        lambda: last_unpublish + timedelta(seconds=1),
    )
    assert set(_kids(http.get("/oauth/jwks.json"))) == set(new.values())


def test_publishing_never_decrypts_a_private_key(committed_app, other_app, monkeypatch):
    _rotate(other_app)

    def refuse(_token):
        raise AssertionError("a private key was decrypted to publish the key set")

    monkeypatch.setattr(keyring, "decrypt", refuse)
    http = committed_app.test_client()
    response = http.get("/oauth/jwks.json")
    assert response.status_code == 200
    for key in response.get_json()["keys"]:
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)


def test_signatures_use_a_key_rotated_elsewhere_at_once(committed_app, other_app, monkeypatch):
    with committed_app.app_context():
        signing_keys.sign({"sub": "warm"})  # this process has the current key in memory
        db.session.remove()
    new = _rotate(other_app)

    decrypted = []
    real_decrypt = keyring.decrypt
    monkeypatch.setattr(
        keyring, "decrypt", lambda token: decrypted.append(1) or real_decrypt(token)
    )
    with committed_app.app_context():
        tokens = [signing_keys.sign({"sub": str(n)}) for n in range(3)]
        db.session.remove()

    published = KeySet.import_key_set(
        committed_app.test_client().get("/oauth/jwks.json").get_json()
    )
    for token in tokens:
        assert jwt.decode(token, published).header["kid"] == new["RS256"]
    # Never per signature: once for the new key, or not at all here, where the
    # rotating application (in this same process) kept the key it made.
    assert len(decrypted) <= 1


def test_keys_made_on_first_use_are_published(committed_app, other_app):
    """An empty key table (a new deployment): the first JWKS request makes the keys."""
    with other_app.app_context():
        db.session.execute(db.delete(SigningKey))
        db.session.commit()
    response = committed_app.test_client().get("/oauth/jwks.json")
    assert {key["alg"] for key in response.get_json()["keys"]} == {"RS256", "ES256"}
    with other_app.app_context():
        kids = set(db.session.scalars(db.select(SigningKey.kid)))
    assert set(_kids(response)) == kids
