"""A member's round trip through the live sites over HTTP, as a browser would make it.

``requests`` follows the redirects; the forms are filled from the pages
(their CSRF token, the ticked optional scopes).
"""

from __future__ import annotations

import re

import requests

from tests.login_flow import csrf_token

_TICKED = re.compile(r'<input type="checkbox"[^>]*name="scopes" value="([^"]+)"[^>]*checked', re.S)


def log_in(
    http: requests.Session, login_page: requests.Response, login: str, password: str, code: str
) -> requests.Response:
    """Password, then the TOTP code, on the provider's pages; returns where that led."""
    assert "/login" in login_page.url, login_page.url
    verify = http.post(
        login_page.url,
        data={"login": login, "password": password, "csrf_token": csrf_token(login_page.text)},
        timeout=30,
    )
    assert verify.status_code == 200 and verify.url.endswith("/login/verify"), (
        verify.status_code,
        verify.url,
        verify.text[:500],
    )
    return http.post(
        verify.url, data={"code": code, "csrf_token": csrf_token(verify.text)}, timeout=30
    )


def allow(http: requests.Session, consent_page: requests.Response) -> requests.Response:
    """``Allow`` on the consent page with the optional data ticked as offered."""
    assert "/consent/" in consent_page.url and consent_page.status_code == 200, (
        consent_page.status_code,
        consent_page.url,
        consent_page.text[:500],
    )
    return http.post(
        consent_page.url,
        data={
            "csrf_token": csrf_token(consent_page.text),
            "decision": "allow",
            "scopes": _TICKED.findall(consent_page.text),
        },
        timeout=30,
    )
