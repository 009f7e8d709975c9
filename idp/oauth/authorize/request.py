"""An authorization request after validation: what the checks found in the parameters."""

from __future__ import annotations

from dataclasses import dataclass, field

from authlib.oauth2.rfc6749.errors import InvalidRequestError

from idp.models import Client

#: Where the parameters come from, which decides what is checked besides them:
#: the authorization endpoint (a pushed ``request_uri`` is resolved there, and a
#: plain request refused when pushing is required), the pushed authorization
#: request endpoint (RFC 9126 §2.1), or a consent step that passed at the front.
FRONT, PUSHED, STORED = "front", "pushed", "stored"


@dataclass
class AuthorizationRequest:
    #: Every parameter with every value it was sent with (for a pushed request: pushed with).
    parameters: dict[str, list[str]]
    #: ``FRONT``, ``PUSHED`` or ``STORED`` (above).
    channel: str = FRONT
    #: The pushed request's ``request_uri`` as presented at the authorization endpoint.
    request_uri: str | None = None
    #: The stored pushed request behind ``request_uri``, completed when its code is issued.
    pushed_id: int | None = None
    client: Client | None = None
    redirect_uri: str | None = None
    scopes: list[str] = field(default_factory=list)
    nonce: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    prompts: set[str] = field(default_factory=set)
    max_age: int | None = None
    login_hint: str | None = None
    ui_locales: str | None = None
    #: The OIDC ``claims`` parameter (§5.5), as {"id_token": {...}, "userinfo": {...}}.
    claims: dict | None = None
    acr_values: list[str] = field(default_factory=list)
    #: RFC 9449 §10: the thumbprint of the DPoP key the code is bound to.
    dpop_jkt: str | None = None
    #: The subject the client expects (``id_token_hint`` or a ``sub`` value in ``claims``).
    expected_subject: str | None = None
    #: Grant Management for OAuth 2.0 §5.2: ``create``, ``merge`` or ``replace``, and the grant.
    grant_management_action: str | None = None
    grant_id: str | None = None

    def value(self, name: str) -> str | None:
        values = self.parameters.get(name) or []
        return values[0] if values else None

    @property
    def state(self) -> str | None:
        return self.value("state")

    @property
    def replaces_grant(self) -> bool:
        """A fresh decision: the member's answer becomes the whole grant."""
        return self.grant_management_action in ("create", "replace")

    @property
    def scope(self) -> str:
        return " ".join(self.scopes)


class PageError(InvalidRequestError):
    """An error shown on a page, because there is no verified place to redirect to."""

    def __init__(self, description: str, page_message, error: str | None = None):
        super().__init__(description=description)
        if error:
            self.error = error
        self.page_message = page_message
