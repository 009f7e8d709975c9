"""An authorization request after validation: what the checks found in the parameters."""

from __future__ import annotations

from dataclasses import dataclass, field

from idp.models import Client


@dataclass
class AuthorizationRequest:
    #: Every parameter with every value it was sent with.
    parameters: dict[str, list[str]]
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
