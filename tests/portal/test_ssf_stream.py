"""The client page shows the client's Shared Signals stream, read only (OpenID SSF 1.0 §8).

No stream: where to configure one. A stream: its delivery and the figures the
operator console shows, never the receiver's authorization header. A client
with only a ``security_event_uri``: that endpoint acts as a push stream.
"""

from __future__ import annotations

import re

from idp.extensions import db
from idp.models import Client, Partner
from idp.services import notifications
from idp.services.registration import add_developer
from tests.admin.conftest import text_of
from tests.portal.conftest import Portal
from tests.receiver import free_port
from tests.ssf.conftest import POLL, PUSH, SSF, TOKEN_REVOKED, VERIFICATION

SECRET_HEADER = "Bearer receiver-secret-4711"


class StreamPortal(Portal, SSF):
    def developer_of(self, rp) -> str:
        """A new member who develops for the partner of ``rp``, logged in."""
        member_id = self.member()
        with self.app.app_context():
            add_developer(db.session.get(Partner, rp.partner_id), member_id)
        self.login(member_id)
        return member_id

    def section(self, rp) -> str:
        response = self.http.get(f"/developers/clients/{rp.client_id}")
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        found = re.search(r'<section class="ssf-stream"[^>]*>(.*?)</section>', html, re.S)
        assert found, "no Shared Signals section on the client page"
        return found.group(1)


def test_no_stream_points_to_the_configuration(app, client):
    portal = StreamPortal(app, client)
    rp = portal.client(scope="openid profile", purposes=["registration"])
    portal.developer_of(rp)
    section = text_of(portal.section(rp))
    assert "Shared Signals stream" in portal.http.get(
        f"/developers/clients/{rp.client_id}"
    ).get_data(as_text=True)
    assert "/.well-known/ssf-configuration" in section
    assert "ssf.manage" in section and "ssf.read" in section
    assert "Delivery method" not in section


def test_a_poll_stream_shows_its_events_and_what_waits(app, client):
    portal = StreamPortal(app, client)
    rp = portal.client(scope="openid profile", purposes=["registration"])
    token = portal.access_token(rp)
    stream_id = portal.create(token, events_requested=[TOKEN_REVOKED, "urn:example:unknown"])[
        "stream_id"
    ]
    portal.call("POST", "verification_endpoint", token, {"stream_id": stream_id})
    portal.call("POST", "status_endpoint", token, {"stream_id": stream_id, "status": "paused"})
    portal.developer_of(rp)
    section = text_of(portal.section(rp))
    assert "Poll (RFC 8936)" in section and "Paused" in section
    assert TOKEN_REVOKED in section and "urn:example:unknown" in section
    delivered = section.split("Events delivered", 1)[1].split("Last delivery", 1)[0]
    assert TOKEN_REVOKED in delivered and "urn:example:unknown" not in delivered
    assert re.search(r"Events waiting 1\b", section)
    assert POLL not in section and VERIFICATION not in section


def test_a_push_stream_shows_its_endpoint_and_failures_but_no_secret(app, client):
    portal = StreamPortal(app, client)
    rp = portal.client(scope="openid profile", purposes=["registration"])
    token = portal.access_token(rp)
    closed = f"http://127.0.0.1:{free_port()}/nobody"
    delivery = {"method": PUSH, "endpoint_url": closed, "authorization_header": SECRET_HEADER}
    stream_id = portal.create(token, delivery=delivery)["stream_id"]
    portal.call("POST", "verification_endpoint", token, {"stream_id": stream_id})
    with portal.app.app_context():
        assert notifications.deliver_due()["failed"] == 1
        db.session.rollback()
    portal.developer_of(rp)
    html = portal.http.get(f"/developers/clients/{rp.client_id}").get_data(as_text=True)
    section = text_of(portal.section(rp))
    assert "Push (RFC 8935)" in section and closed in section and "Enabled" in section
    assert re.search(r"Failed deliveries 1\b", section)
    assert "ConnectionError" in section
    assert "receiver-secret-4711" not in html


def test_a_security_event_uri_acts_as_a_push_stream(app, client):
    portal = StreamPortal(app, client)
    rp = portal.client(scope="openid profile", purposes=["registration"])
    with portal.app.app_context():
        db.session.get(Client, rp.pk).security_event_uri = "https://shop.example/events"
        db.session.commit()
    portal.developer_of(rp)
    section = text_of(portal.section(rp))
    assert "acts as a push stream" in section
    assert "Push (RFC 8935)" in section and "https://shop.example/events" in section
    assert "Events requested" not in section


def test_the_section_speaks_german(app, client):
    portal = StreamPortal(app, client)
    rp = portal.client(scope="openid profile", purposes=["registration"])
    portal.developer_of(rp)
    response = portal.http.get(
        f"/developers/clients/{rp.client_id}", headers={"Accept-Language": "de"}
    )
    html = response.get_data(as_text=True)
    assert "Shared-Signals-Stream" in html and "Zustellweg" not in html
