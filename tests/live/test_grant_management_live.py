"""A partner manages its grant with Authlib's client, against ``mam-idp serve --workers 2``.

The partner's server is Authlib's ``OAuth2Session``: it sends the member to
the authorization endpoint with PKCE, exchanges the code (the token response
names the grant), asks for a client credentials token with the grant
management scopes, queries the grant and releases it. The member's tokens
then fail at UserInfo in whichever worker answers, and the member's
Connected apps page shows the partner's withdrawal.
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import urljoin, urlsplit

import pytest
from authlib.integrations.requests_client import OAuth2Session

from tests.live.load import UNLIMITED, Browser
from tests.live.server import SCRIPT, live_provider
from tests.login_flow import csrf_token, totp_code

pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="mam-idp is not installed")

REDIRECT_URI = "https://partner.example/callback"
SCOPE = "openid profile email offline_access"
API_SCOPE = "grant_management_query grant_management_revoke"


def seed(provider):
    from idp.extensions import db
    from tests.factories import make_client, make_member, make_partner

    with provider.app().app_context():
        client, secret = make_client(
            make_partner("Grant Shop", "partner_company"),
            redirect_uris=[REDIRECT_URI],
            scope=f"{SCOPE} {API_SCOPE}",
            purposes=["registration"],
        )
        member, password, key = make_member()
        seeded = (client.client_id, secret, member.email, password, key)
        db.session.remove()
    return seeded


def follow(http: Browser, provider_url: str, response):
    """Follow redirects on the provider; stop at one that leaves it."""
    for _hop in range(10):
        location = response.headers.get("Location")
        if not response.is_redirect or not location:
            return response
        target = urljoin(response.url, location)
        if not target.startswith(provider_url + "/"):
            return response
        response = http.get(target)
    raise AssertionError("too many redirects")


def member_allows(provider_url: str, url: str, email: str, password: str, key: str):
    """The member's browser from the authorization URL to the partner's callback URL."""
    browser = Browser()
    page = follow(browser, provider_url, browser.get(url))
    assert urlsplit(page.url).path == "/login", page.url
    form = {"login": email, "password": password, "csrf_token": csrf_token(page.text)}
    page = follow(browser, provider_url, browser.post(page.url, data=form))
    assert urlsplit(page.url).path == "/login/verify", page.url
    form = {"code": totp_code(key), "csrf_token": csrf_token(page.text)}
    page = follow(browser, provider_url, browser.post(page.url, data=form))
    assert urlsplit(page.url).path.startswith("/consent/"), page.url
    # Allow with every optional item left ticked, as the screen offers it.
    ticked = re.findall(r'name="scopes" value="([^"]+)"', page.text)
    form = {"decision": "allow", "csrf_token": csrf_token(page.text), "scopes": ticked}
    answer = follow(browser, provider_url, browser.post(page.url, data=form))
    callback = answer.headers["Location"]
    assert callback.startswith(REDIRECT_URI), callback
    return callback, browser


def test_a_partner_queries_and_releases_its_grant(backend, redis_url, tmp_path):
    with live_provider(tmp_path, backend, redis_url, **UNLIMITED) as provider:
        client_id, secret, email, password, key = seed(provider)
        metadata = Browser().get(provider.url + "/.well-known/openid-configuration").json()
        partner = OAuth2Session(
            client_id,
            secret,
            scope=SCOPE,
            redirect_uri=REDIRECT_URI,
            code_challenge_method="S256",
        )
        verifier = secrets.token_urlsafe(48)
        url, state = partner.create_authorization_url(
            metadata["authorization_endpoint"], code_verifier=verifier, nonce="n-1"
        )
        callback, browser = member_allows(provider.url, url, email, password, key)
        tokens = partner.fetch_token(
            metadata["token_endpoint"], authorization_response=callback, code_verifier=verifier
        )
        grant_id = tokens["grant_id"]

        manager = OAuth2Session(client_id, secret, scope=API_SCOPE)
        manager.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")
        grant_url = f"{metadata['grant_management_endpoint']}/{grant_id}"
        grant = manager.get(grant_url)
        assert grant.status_code == 200, grant.text
        assert set(grant.json()["scopes"][0]["scope"].split()) == set(SCOPE.split())
        assert manager.delete(grant_url).status_code == 204

        # Every worker refuses the member's token from now on.
        for _ in range(4):
            userinfo = Browser().get(
                metadata["userinfo_endpoint"],
                headers={"Authorization": f"Bearer {tokens['access_token']}"},
            )
            assert userinfo.status_code == 401
        assert manager.get(grant_url).status_code == 404
        apps = browser.get(provider.url + "/account/apps")
        assert apps.status_code == 200
        assert "Consent withdrawn by the partner" in apps.text
