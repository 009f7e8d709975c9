"""``oidcc-claims-essential`` of the OpenID Foundation's ``oidcc-basic-certification-test-plan``.

The test asks, with ``scope=openid`` only, for the ``name`` claim as essential
for UserInfo through the ``claims`` parameter (OIDC Core §5.5,
``claims={"userinfo":{"name":{"essential":true}}}``) and expects UserInfo to
return it. Here the member is shown ``name`` as an optional item (§5.5.1: essential
is a hint; the member may decline), grants it, and UserInfo returns ``name``
with the same ``sub`` as the ID token (§5.3.2).
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest

from tests.oauth.conftest import CSRF_INPUT, PKCE, OAuth, redirect_params

CLAIMS = {"userinfo": {"name": {"essential": True}}}


@pytest.fixture
def oauth(app, client) -> OAuth:
    return OAuth(app, client)


def test_oidcc_claims_essential(oauth):
    member_id = oauth.member(given_name="Anna", family_name="Schmidt")
    rp = oauth.client(scope="openid profile email", purposes=["registration"])
    oauth.login(member_id)
    pkce = PKCE.new()
    response = oauth.authorize(
        rp,
        scope="openid",
        claims=json.dumps(CLAIMS),
        code_challenge=pkce.challenge,
        code_challenge_method="S256",
    )

    # The member grants the claim on the consent screen.
    location, page = oauth.consent_page(response)
    html = page.get_data(as_text=True)
    assert re.search(r'name="claims" value="name"\s*checked', html)
    response = oauth.http.post(
        urlsplit(location).path,
        data={
            "csrf_token": CSRF_INPUT.search(html).group(1),
            "decision": "allow",
            "claims": ["name"],
        },
    )
    code = redirect_params(response)["code"]
    body = oauth.exchange(rp, code, code_verifier=pkce.verifier).get_json()
    id_token = oauth.id_token_claims(body["id_token"])

    userinfo = oauth.http.get(
        "/oauth/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert userinfo.status_code == 200
    claims = userinfo.get_json()
    assert claims["name"] == "Anna Schmidt"
    assert claims["sub"] == id_token["sub"]
    # Asked for UserInfo only: not in the ID token, and nothing else of the profile.
    assert "name" not in id_token
    assert set(claims) == {"sub", "name"}
