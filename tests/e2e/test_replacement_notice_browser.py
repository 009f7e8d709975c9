"""The consent screen's notice that a decision replaces the standing consent, in a browser."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from sqlalchemy import select

from idp.extensions import db
from idp.models import Client, Member, SSOSession
from tests.e2e.test_consent_page import REDIRECT_URI, logged_in_browser
from tests.factories import make_consent


def test_replacement_notice_is_visible(live_server, context, artifacts):
    client_id, partner_name = logged_in_browser(live_server, context)
    with live_server.app.app_context():
        client = db.session.scalar(select(Client).where(Client.client_id == client_id))
        session = db.session.scalars(
            select(SSOSession).order_by(SSOSession.created_at.desc())
        ).first()
        make_consent(db.session.get(Member, session.member_id), client, scope="openid email")
        db.session.commit()
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": "openid email",
            "state": "browser",
            "grant_management_action": "create",
        }
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/oauth/authorize?{query}")

    assert urlsplit(page.url).path.startswith("/consent/")
    note = page.get_by_role("note")
    assert note.is_visible()
    assert note.inner_text() == (
        f"{partner_name} asks you to decide again: what you allow now replaces what you "
        "allowed before."
    )
    # Above the data the partner will receive, so it is read before deciding.
    heading = page.get_by_role("heading", name=f"{partner_name} will receive")
    assert note.bounding_box()["y"] < heading.bounding_box()["y"]
    page.screenshot(path=str(artifacts / "consent-replacement-notice.png"), full_page=True)
