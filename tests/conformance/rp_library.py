"""Authlib's OAuth 2.0 client (a requests session) talking to the provider in the test.

``library_session(app, rp)`` is the relying-party library as partners use it;
its HTTP calls go to a test client of ``app`` (the partner's back end, with no
cookies of the member's browser) through a requests transport adapter.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import requests
from authlib.integrations.requests_client import OAuth2Session
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from tests.oauth.conftest import ISSUER, RP


class TestClientAdapter(BaseAdapter):
    """Sends a prepared requests request to a Flask test client, and back."""

    def __init__(self, http):
        super().__init__()
        self.http = http

    def send(self, request, **kwargs):
        parts = urlsplit(request.url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
        answer = self.http.open(path, method=request.method, headers=headers, data=request.body)
        response = requests.Response()
        response.status_code = answer.status_code
        response.headers = CaseInsensitiveDict(answer.headers)
        response._content = answer.get_data()
        response.encoding = "utf-8"
        response.url = request.url
        response.request = request
        return response

    def close(self):
        pass


def library_session(app, rp: RP, **kwargs) -> OAuth2Session:
    session = OAuth2Session(
        rp.client_id,
        rp.secret,
        redirect_uri=rp.redirect_uri,
        token_endpoint_auth_method="client_secret_basic",
        **kwargs,
    )
    session.mount(ISSUER, TestClientAdapter(app.test_client()))
    return session
