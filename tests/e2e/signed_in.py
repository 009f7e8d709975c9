"""A member signed in to the live server through the session cookie, and a client of a new
partner to ask for their consent: the start of every consent screen test in the browser."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from idp.extensions import db
from idp.models import SSOSession
from idp.models.types import utcnow
from idp.services import sso
from tests.factories import make_client, make_member, make_partner

REDIRECT_URI = "https://partner.example/callback"


@dataclass(frozen=True)
class SignedIn:
    member_id: str
    client_id: str
    client_pk: int
    partner_name: str


def signed_in(live_server, context, *, scope: str, purposes: list[str]) -> SignedIn:
    """The member's two-factor session as a cookie in ``context``; the partner site answers
    every request to ``REDIRECT_URI``'s host with a plain page."""
    app = live_server.app
    token = secrets.token_urlsafe(32)
    with app.app_context():
        member, _, _ = make_member()
        partner = make_partner(f"Sky Hotels {secrets.token_hex(2)}", "partner_company")
        client, _ = make_client(
            partner, redirect_uris=[REDIRECT_URI], scope=scope, purposes=purposes
        )
        now = utcnow()
        db.session.add(
            SSOSession(
                token_hash=sso._hash(token),
                member_id=member.id,
                auth_time=now,
                amr=["pwd", "otp", "mfa"],
                created_at=now,
                last_seen_at=now,
                expires_at=now + timedelta(hours=1),
            )
        )
        db.session.commit()
        cookie = app.session_interface.get_signing_serializer(app).dumps({sso.TOKEN_KEY: token})
        result = SignedIn(member.id, client.client_id, client.id, partner.name)
    context.add_cookies([{"name": "mam_session", "value": cookie, "url": live_server.url}])
    context.route("https://partner.example/**", lambda route: route.fulfill(body="partner site"))
    return result
