"""A partner's Shared Signals receiver against ``mam-idp serve --workers 2``.

The partner discovers the transmitter, gets a client credentials token with
``ssf.manage``, configures a push stream to a receiver running in the test,
asks for verification, and then the member revokes access on Connected apps:
the verification event and the requested withdrawal event arrive, delivered in
the background by the serving processes with the stream's ``Authorization``
header, each signed with a key of the published JWKS. Then the stream is
paused, and its status reads back as set.
"""

from __future__ import annotations

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.live.load import UNLIMITED, Browser, code_form, login_form
from tests.live.server import SCRIPT, live_provider
from tests.login_flow import csrf_token, totp_code
from tests.receiver import running_receiver

pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="mam-idp is not installed")

PUSH = "urn:ietf:rfc:8935"
VERIFICATION = "https://schemas.openid.net/secevent/ssf/event-type/verification"
TOKEN_REVOKED = "https://schemas.openid.net/secevent/oauth/event-type/token-revoked"
SCOPE = "openid profile email offline_access"


def seed(provider):
    from idp.extensions import db
    from tests.factories import issue_token, make_client, make_consent, make_member, make_partner

    with provider.app().app_context():
        client, secret = make_client(
            make_partner("Signal Hotels", "partner_company"), scope=SCOPE, purposes=["registration"]
        )
        member, password, key = make_member()
        consent = make_consent(member, client)
        issue_token(member, client, SCOPE, consent=consent)
        seeded = (client.client_id, secret, client.partner_id, member.email, password, key)
        db.session.remove()
    return seeded


def test_a_receiver_configures_verifies_and_receives_a_withdrawal(backend, redis_url, tmp_path):
    with (
        live_provider(tmp_path, backend, redis_url, **UNLIMITED) as provider,
        running_receiver() as receiver,
    ):
        client_id, secret, partner_id, email, password, key = seed(provider)
        partner = Browser()
        metadata = partner.get(provider.url + "/.well-known/ssf-configuration").json()
        assert metadata["issuer"] == provider.url
        keys = KeySet.import_key_set(partner.get(metadata["jwks_uri"]).json())

        answer = partner.post(
            provider.url + "/oauth/token",
            data={"grant_type": "client_credentials", "scope": "ssf.manage"},
            auth=(client_id, secret),
        )
        assert answer.status_code == 200 and answer.json()["scope"] == "ssf.manage"
        bearer = {"Authorization": "Bearer " + answer.json()["access_token"]}
        created = partner.post(
            metadata["configuration_endpoint"],
            json={
                "delivery": {
                    "method": PUSH,
                    "endpoint_url": receiver.url,
                    "authorization_header": "Bearer receiver-key",
                },
                "events_requested": [TOKEN_REVOKED],
            },
            headers=bearer,
        )
        assert created.status_code == 201, created.text
        stream_id = created.json()["stream_id"]
        verify = partner.post(
            metadata["verification_endpoint"],
            json={"stream_id": stream_id, "state": "live-state"},
            headers=bearer,
        )
        assert verify.status_code == 204

        member = Browser()
        assert login_form(member, provider.url, email, password)().status_code == 302
        assert code_form(member, provider.url, lambda: totp_code(key))().status_code == 302
        page = member.get(f"{provider.url}/account/apps/{partner_id}/revoke")
        assert page.status_code == 200
        revoked = member.post(
            f"{provider.url}/account/apps/{partner_id}/revoke",
            data={"csrf_token": csrf_token(page.text)},
        )
        assert revoked.status_code in (302, 303)

        deliveries = receiver.wait_for(2, timeout=30)
        events = {}
        for delivery in deliveries:
            assert delivery.headers["Authorization"] == "Bearer receiver-key"
            token = jwt.decode(delivery.body.decode(), keys, algorithms=["RS256", "ES256"])
            assert token.header["typ"] == "secevent+jwt"
            assert token.claims["iss"] == provider.url and token.claims["aud"] == client_id
            ((event_type, body),) = token.claims["events"].items()
            events[event_type] = body
        assert events[VERIFICATION] == {"state": "live-state"}
        assert events[TOKEN_REVOKED]["reason"] == "consent_withdrawn"

        paused = partner.post(
            metadata["status_endpoint"],
            json={"stream_id": stream_id, "status": "paused"},
            headers=bearer,
        )
        assert paused.status_code == 200
        status = partner.get(
            metadata["status_endpoint"], params={"stream_id": stream_id}, headers=bearer
        )
        assert status.json() == {"stream_id": stream_id, "status": "paused"}
        assert requests.get(provider.url + "/healthz", timeout=5).status_code == 200
