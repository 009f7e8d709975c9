"""The developer portal driven through its pages: a developer logged in with two factors.

``portal`` is an ``OAuth`` driver (tests.oauth.conftest) whose browser logs in
as a developer of a partner (``developer``) or as anybody else; ``post`` sends
a portal form with the CSRF token of the page it is on.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import AuditEvent, Client
from idp.services.registration import add_developer, create_partner
from tests.e2e.conftest import live_server  # noqa: F401  (the browser tests' server)
from tests.login_flow import csrf_token
from tests.oauth.conftest import OAuth

REDIRECT = "https://shop.example/callback"


class Portal(OAuth):
    def developer(self, partner_name: str = "Sky Hotels") -> tuple[str, str]:
        """A new member who develops for a new partner, logged in; (member id, partner id)."""
        member_id = self.member()
        with self.app.app_context():
            partner = create_partner(partner_name, "partner_company")
            add_developer(partner, member_id)
            partner_id = partner.id
        self.login(member_id)
        return member_id, partner_id

    def post(self, url: str, data: dict | None = None, page: str = "/developers"):
        html = self.http.get(page).get_data(as_text=True)
        return self.http.post(url, data={**(data or {}), "csrf_token": csrf_token(html)})

    def register(self, partner_id: str, **fields):
        form = {
            "client_name": "Sky Hotels Booking",
            "redirect_uris": REDIRECT,
            "purposes": ["registration"],
            "token_endpoint_auth_method": "client_secret_basic",
            "access_token_ttl": "3600",
            "grant_ttl": "7776000",
        }
        form.update(fields)
        form = {k: v for k, v in form.items() if v is not None}
        url = f"/developers/partners/{partner_id}/clients/new"
        return self.post(url, form, page=url)

    def clients_of(self, partner_id: str) -> list[Client]:
        with self.app.app_context():
            rows = list(db.session.scalars(select(Client).where(Client.partner_id == partner_id)))
            for row in rows:
                db.session.expunge(row)
            return rows

    def count(self, model) -> int:
        with self.app.app_context():
            return db.session.scalar(select(func.count()).select_from(model))

    def events(self, name: str) -> list[AuditEvent]:
        with self.app.app_context():
            rows = list(db.session.scalars(select(AuditEvent).where(AuditEvent.event == name)))
            for row in rows:
                db.session.expunge(row)
            return rows


@pytest.fixture
def portal(app, client) -> Portal:
    return Portal(app, client)
