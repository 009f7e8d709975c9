"""The portal's "Accept only pushed authorization requests (PAR)" setting (RFC 9126 §6)."""

from __future__ import annotations

import re

from tests.oauth.conftest import redirect_params
from tests.portal.conftest import REDIRECT

LABEL = "Accept only pushed authorization requests (PAR)"
CHECKBOX = re.compile(r'<input[^>]*name="require_pushed_authorization_requests"[^>]*>')


def checkbox(html: str) -> str:
    (found,) = CHECKBOX.findall(html)
    return found


def test_a_developer_sets_and_clears_it(portal):
    _member, partner_id = portal.developer()
    page = portal.http.get(f"/developers/partners/{partner_id}/clients/new").get_data(as_text=True)
    assert LABEL in page and "checked" not in checkbox(page)
    field_id = re.search(r'id="([^"]+)"', checkbox(page)).group(1)
    assert f'for="{field_id}"' in page  # the label is bound to it

    response = portal.register(partner_id, require_pushed_authorization_requests="y")
    assert response.status_code == 200  # the page that shows the secret once
    (client,) = portal.clients_of(partner_id)
    assert client.require_pushed_authorization_requests is True

    url = f"/developers/clients/{client.client_id}"
    assert "checked" in checkbox(portal.http.get(url).get_data(as_text=True))
    form = {
        "client_name": client.client_name,
        "redirect_uris": REDIRECT,
        "purposes": ["registration"],
        "token_endpoint_auth_method": "client_secret_basic",
        "access_token_ttl": "3600",
        "grant_ttl": "7776000",
    }
    assert portal.post(url, form, page=url).status_code == 302
    (cleared,) = portal.clients_of(partner_id)
    assert cleared.require_pushed_authorization_requests is False
    assert "checked" not in checkbox(portal.http.get(url).get_data(as_text=True))


def test_the_setting_holds_at_the_authorization_endpoint(portal):
    _member, partner_id = portal.developer()
    portal.register(partner_id, require_pushed_authorization_requests="y")
    (client,) = portal.clients_of(partner_id)
    response = portal.http.get(
        "/oauth/authorize",
        query_string={
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": REDIRECT,
            "scope": "openid",
            "state": "s",
        },
    )
    result = redirect_params(response)
    assert result["error"] == "invalid_request"
    assert result["error_description"] == "pushed authorization request required"


def test_the_label_is_translated(portal):
    _member, partner_id = portal.developer()
    url = f"/developers/partners/{partner_id}/clients/new"
    for language, words in (
        ("de", "Nur übertragene Autorisierungsanfragen (PAR) annehmen"),
        ("nl", "Alleen vooraf verstuurde autorisatieverzoeken (PAR) accepteren"),
        ("pl", "Przyjmuj tylko przesłane wcześniej żądania autoryzacji (PAR)"),
    ):
        page = portal.http.get(url, headers={"Accept-Language": language}).get_data(as_text=True)
        assert words in page, language
