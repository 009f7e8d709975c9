"""A partner's Shared Signals receiver, driven over HTTP as a partner would.

``ssf`` is an ``OAuth`` driver (tests.oauth.conftest) that also gets client
credentials tokens with the SSF scopes and calls the endpoints the transmitter
metadata names (never a hard-coded path); ``receiver`` is a push endpoint of the
partner (tests.receiver); ``verified`` checks a SET against the published JWKS.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from idp.extensions import db
from idp.services import notifications
from tests.oauth.conftest import RP, OAuth
from tests.receiver import running_receiver

PUSH = "urn:ietf:rfc:8935"
POLL = "urn:ietf:rfc:8936"
VERIFICATION = "https://schemas.openid.net/secevent/ssf/event-type/verification"
TOKEN_REVOKED = "https://schemas.openid.net/secevent/oauth/event-type/token-revoked"
SESSION_REVOKED = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
TOKEN_CLAIMS_CHANGE = "https://schemas.openid.net/secevent/caep/event-type/token-claims-change"
ACCOUNT_PURGED = "https://schemas.openid.net/secevent/risc/event-type/account-purged"
CONSENT_REVOKED = "http://127.0.0.1:5000/secevent/consent-revoked"
SCOPE = "openid profile email card_number miles offline_access"


class SSF(OAuth):
    def metadata(self) -> dict:
        response = self.http.get("/.well-known/ssf-configuration")
        assert response.status_code == 200
        return response.get_json()

    def path(self, name: str) -> str:
        """The path of an endpoint the transmitter metadata names."""
        return urlsplit(self.metadata()[name]).path

    def access_token(self, rp: RP, scope: str = "ssf.manage") -> str:
        response = self.token(rp, grant_type="client_credentials", scope=scope)
        assert response.status_code == 200, response.get_json()
        return response.get_json()["access_token"]

    def call(self, method: str, endpoint: str, token: str | None, body=None, **query):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.http.open(
            self.path(endpoint),
            method=method,
            headers=headers,
            query_string=query,
            data=json.dumps(body) if body is not None else None,
            content_type="application/json" if body is not None else None,
        )

    def create(self, token: str, **config) -> dict:
        response = self.call("POST", "configuration_endpoint", token, config)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def poll(self, token: str, **request) -> dict:
        request.setdefault("returnImmediately", True)
        response = self.http.post(
            "/ssf/poll",
            json=request,
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200, response.get_json()
        assert self.metadata()["delivery_methods_supported"] == [PUSH, POLL]
        return response.get_json()

    def deliver(self) -> dict:
        """What the background delivery does after a commit, done here and now."""
        with self.app.app_context():
            counts = notifications.deliver_due()
            db.session.rollback()
        return counts

    def keys(self) -> KeySet:
        return KeySet.import_key_set(self.http.get(self.metadata()["jwks_uri"]).get_json())

    def verified(self, token: str, audience: str):
        """The SET, its signature checked against the JWKS the metadata names."""
        decoded = jwt.decode(token, self.keys(), algorithms=["RS256", "ES256"])
        assert decoded.header["typ"] == "secevent+jwt"
        claims = decoded.claims
        assert claims["iss"] == "http://127.0.0.1:5000" and claims["aud"] == audience
        assert {"iat", "jti"} <= set(claims) and "exp" not in claims
        return claims


@pytest.fixture
def ssf(app, client) -> SSF:
    return SSF(app, client)


@pytest.fixture
def member_id(ssf) -> str:
    return ssf.member()


@pytest.fixture
def rp(ssf) -> RP:
    return ssf.client(
        scope=SCOPE,
        purposes=["registration", "miles"],
    )


@pytest.fixture
def receiver():
    with running_receiver() as receiver:
        yield receiver


def single_event(claims: dict) -> tuple[str, dict]:
    """SSF §4: a SET of a stream carries exactly one event."""
    ((event_type, body),) = claims["events"].items()
    return event_type, body
