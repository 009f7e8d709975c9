"""How Authlib sees a request: the live Flask request, or an authorization request kept aside.

The URI Authlib checks for TLS is built from the configured issuer, not from
the Host header: behind a load balancer the process may see plain http on an
internal name, while the issuer is what partners actually talk to.
"""

from __future__ import annotations

from collections import defaultdict

from authlib.integrations.flask_oauth2.requests import FlaskOAuth2Payload
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from flask import Request


class LiveRequest(OAuth2Request):
    """The current Flask request (like Authlib's FlaskOAuth2Request)."""

    def __init__(self, request: Request, issuer: str):
        super().__init__(method=request.method, uri=issuer + request.full_path.rstrip("?"))
        self.headers = request.headers
        self._request = request
        self.payload = FlaskOAuth2Payload(request)

    @property
    def args(self):
        return self._request.args

    @property
    def form(self):
        return self._request.form


class StoredAuthorizationRequest(OAuth2Request):
    """An authorization request resumed from its stored parameters (after the consent screen)."""

    def __init__(self, parameters: dict, issuer: str, path: str):
        super().__init__(method="GET", uri=issuer + path)
        self.payload = _StoredPayload(parameters)

    @property
    def args(self):
        return self.payload.data

    @property
    def form(self):
        return {}


class _StoredPayload(BasicOAuth2Payload):
    """Stored parameters hold lists (every value as sent), like a query string."""

    def __init__(self, parameters: dict):
        lists = {k: list(v) if isinstance(v, list) else [v] for k, v in parameters.items()}
        super().__init__({k: v[0] for k, v in lists.items() if v})
        self._datalist = defaultdict(list, lists)


def parameter_lists(payload) -> dict[str, list[str]]:
    """Every parameter with every value it was sent with (for storing a request)."""
    return {k: list(v) for k, v in payload.datalist.items()}
