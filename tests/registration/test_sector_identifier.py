"""OIDC Registration §5: a sector_identifier_uri is fetched and must list every redirect URI.

The document is served by a small web server on 127.0.0.1 (plain http is
allowed for loopback hosts only).
"""

from __future__ import annotations

import socket

import pytest

from idp.extensions import db
from idp.services import sector_identifier
from idp.services.registration import get_client
from idp.services.subjects import sector_identifier as sector_of
from tests.registration.conftest import counts, metadata

TWO_HOSTS = ["https://shop.example/cb", "https://app.shop.example/cb"]


def test_redirect_uris_on_two_hosts_with_a_sector_document_listing_them(
    app, partners, sector_server
):
    uri = sector_server.publish([*TWO_HOSTS, "https://third.example/cb"])
    body = partners.registered(metadata(redirect_uris=TWO_HOSTS, sector_identifier_uri=uri))
    assert body["sector_identifier_uri"] == uri
    assert sector_server.requests == 1
    with app.app_context():
        assert sector_of(get_client(body["client_id"])) == "127.0.0.1"


def refused(app, partners, document, code="invalid_client_metadata"):
    token = partners.initial_token(partners.partner())
    before = counts(app)
    response = partners.register(token, document)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"] == code
    assert counts(app) == before
    return response.get_json()["error_description"]


@pytest.mark.parametrize(
    ("published", "status", "headers"),
    [
        ([TWO_HOSTS[0]], 200, {}),  # one redirect URI missing
        ([], 200, {}),
        ({"redirect_uris": TWO_HOSTS}, 200, {}),  # an object, not an array
        ([1, 2], 200, {}),
        (b"not json", 200, {}),
        (b"\xff\xfe", 200, {}),
        (TWO_HOSTS, 404, {}),
        (TWO_HOSTS, 500, {}),
        (b"", 302, {"Location": "https://elsewhere.example/sector.json"}),  # not followed
        (b'["' + b"x" * (70 * 1024) + b'"]', 200, {}),  # too large
    ],
)
def test_a_document_that_does_not_prove_the_sector_is_refused(
    app, partners, sector_server, published, status, headers
):
    uri = sector_server.publish(published, status, **headers)
    description = refused(
        app, partners, metadata(redirect_uris=TWO_HOSTS, sector_identifier_uri=uri)
    )
    assert "sector_identifier_uri" in description


def test_a_sector_uri_that_does_not_answer_is_refused(app, partners):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    uri = f"http://127.0.0.1:{port}/sector.json"
    refused(app, partners, metadata(redirect_uris=TWO_HOSTS, sector_identifier_uri=uri))


def test_a_slow_sector_uri_is_given_up(app, partners, sector_server, monkeypatch):
    monkeypatch.setattr(sector_identifier, "TIMEOUT_SECONDS", 0.2)
    sector_server.delay = 1.0
    uri = sector_server.publish(TWO_HOSTS)
    refused(app, partners, metadata(redirect_uris=TWO_HOSTS, sector_identifier_uri=uri))


@pytest.mark.parametrize(
    "uri", ["http://shop.example/sector.json", "file:///etc/passwd", "https://shop.example/s#x"]
)
def test_a_sector_uri_must_be_https(app, partners, sector_server, uri):
    refused(app, partners, metadata(redirect_uris=TWO_HOSTS, sector_identifier_uri=uri))
    assert sector_server.requests == 0


def test_the_sector_of_a_client_stays_when_it_changes(app, partners, sector_server):
    uri = sector_server.publish(TWO_HOSTS)
    body = partners.registered(metadata(redirect_uris=TWO_HOSTS, sector_identifier_uri=uri))
    client_uri, token = body["registration_client_uri"], body["registration_access_token"]
    # Fewer redirect URIs under the same document: no new fetch needed.
    response = partners.configure(
        "PUT", client_uri, token, metadata(redirect_uris=TWO_HOSTS[:1], sector_identifier_uri=uri)
    )
    assert response.status_code == 200, response.get_json()
    assert sector_server.requests == 1
    token = response.get_json()["registration_access_token"]
    # A redirect URI the document does not list is refused ...
    more = [*TWO_HOSTS, "https://new.example/cb"]
    response = partners.configure(
        "PUT", client_uri, token, metadata(redirect_uris=more, sector_identifier_uri=uri)
    )
    assert response.status_code == 400
    # ... until the sector's host lists it.
    sector_server.publish(more)
    response = partners.configure(
        "PUT", client_uri, token, metadata(redirect_uris=more, sector_identifier_uri=uri)
    )
    assert response.status_code == 200, response.get_json()
    token = response.get_json()["registration_access_token"]
    # Dropping the document would move the client to another sector: refused.
    response = partners.configure("PUT", client_uri, token, metadata(redirect_uris=TWO_HOSTS[:1]))
    assert response.status_code == 400
    assert "sector" in response.get_json()["error_description"]


def test_a_provider_on_https_fetches_no_plain_http_sector_uri(app, sector_server, tmp_path):
    from idp.services.errors import InvalidInput
    from tests.conftest import make_test_app

    secure = make_test_app(
        app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "instance", issuer="https://login.example"
    )
    uri = sector_server.publish(TWO_HOSTS)
    with secure.app_context():
        with pytest.raises(InvalidInput) as refused:
            sector_identifier.check_sector_identifier(uri, TWO_HOSTS)
        db.engine.dispose()
    assert refused.value.field == "sector_identifier_uri"
    assert sector_server.requests == 0
