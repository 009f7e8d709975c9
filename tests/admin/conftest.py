"""The operator console driven through its pages: an operator logged in with two factors.

``console`` is an ``OAuth`` driver (tests.oauth.conftest) whose browser may
log in as an operator (``operator``) or as anybody else; ``post`` sends a
console form with the CSRF token of the page it is on.
"""

from __future__ import annotations

import re

import pytest

from idp.extensions import db
from idp.services import approval
from idp.services.staff import add_staff
from tests.login_flow import csrf_token
from tests.oauth.conftest import OAuth


class Console(OAuth):
    def operator(self) -> str:
        """A new member made an operator, logged in on the login pages (password and TOTP)."""
        member_id = self.member()
        with self.app.app_context():
            add_staff(member_id)
        self.login(member_id)
        return member_id

    def waiting_client(self, partner_name: str = "Sky Hotels", **fields):
        """A client of a new partner, submitted for approval (not approved)."""
        fields.setdefault("approved", False)
        rp = self.client(partner_name, **fields)
        with self.app.app_context():
            approval.submit_for_approval(rp.client_id)
        return rp

    def post(self, url: str, data: dict | None = None, page: str = "/admin"):
        """POST with the session's CSRF token, read from ``page`` (or, when that page shows
        no form, such as an empty queue, from the member's account page)."""
        html = self.http.get(page).get_data(as_text=True)
        if 'name="csrf_token"' not in html:
            html = self.http.get("/account").get_data(as_text=True)
        return self.http.post(url, data={**(data or {}), "csrf_token": csrf_token(html)})

    def client_row(self, client_id: str):
        with self.app.app_context():
            client = approval.find_client(client_id)
            db.session.expunge(client)
            return client


@pytest.fixture
def console(app, client) -> Console:
    return Console(app, client)


@pytest.fixture
def operator(console) -> str:
    return console.operator()


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


_ALERTS = re.compile(r'<(div|p)[^>]*role="alert"[^>]*>(.*?)</\1>', re.S)


def alert_text(html: str) -> str:
    """The text of every ``role="alert"`` element, whole (lists of field errors included)."""
    return " ".join(text_of(body) for _tag, body in _ALERTS.findall(html))
