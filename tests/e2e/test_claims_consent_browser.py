"""A claim asked for only through the ``claims`` parameter, on the consent screen in a browser.

OIDC Core §5.5: the claim is an optional item of its scope with a label of its
own, ticked by default; what the member leaves ticked is what the consent grants.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlencode, urlsplit

from sqlalchemy import select

from idp.extensions import db
from idp.models import Consent
from tests.e2e.signed_in import REDIRECT_URI, signed_in


def logged_in_member(live_server, context) -> tuple[str, str, int]:
    """A member logged in through the session cookie; (member id, client id, client pk)."""
    done = signed_in(live_server, context, scope="openid profile email", purposes=["registration"])
    return done.member_id, done.client_id, done.client_pk


def test_a_claim_asked_by_itself_is_a_labelled_optional_item(live_server, context, artifacts):
    member_id, client_id, client_pk = logged_in_member(live_server, context)
    claims = {"userinfo": {"given_name": {"essential": True}}, "id_token": {"email": None}}
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": "openid",
            "state": "browser",
            "claims": json.dumps(claims),
        }
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{live_server.url}/oauth/authorize?{query}")

    assert urlsplit(page.url).path.startswith("/consent/")
    first_name = page.get_by_label("Your first name")
    email = page.get_by_label("Your email address")
    assert first_name.is_checked() and email.is_checked()
    assert page.locator("label[for='claim-given_name']").inner_text().endswith("(optional)")
    page.screenshot(path=str(artifacts / "consent-claims.png"), full_page=True)

    email.uncheck()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{REDIRECT_URI}?*")
    params = {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}
    assert params["code"] and params["state"] == "browser"
    assert not [e for e in errors if "Content Security Policy" in e]
    with live_server.app_context():
        consent = db.session.scalar(
            select(Consent).where(Consent.member_id == member_id, Consent.client_id == client_pk)
        )
        assert (consent.granted_claims, consent.declined_claims) == (["given_name"], ["email"])
        assert consent.scopes == {"openid"}
