"""A partner's OAuth client, with the metadata of RFC 7591 and OIDC Registration.

The Authlib ``ClientMixin`` methods live here because Authlib asks the client
object itself; they hold no policy beyond exact comparisons. They are shared
(``ClientRules``) by the mapped row and by ``ClientRecord``, the read-only copy
of a row that the back-channel endpoints keep per process
(``idp.services.client_cache``).

``version`` changes with every change to a client: the ORM raises it in the
UPDATE itself (``version_id_col``), so no code path that changes a client can
forget it, and a kept copy whose version is not the stored one is stale.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from authlib.oauth2.rfc6749 import ClientMixin
from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp import defaults
from idp.extensions import db
from idp.models.partner import Partner
from idp.models.types import UTCDateTime, utcnow

TOKEN_ENDPOINT_AUTH_METHODS = (
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
    "none",
)


def hash_secret(secret: str) -> str:
    """Client secrets are 256-bit random values, so one SHA-256 round is enough."""
    return hashlib.sha256(secret.encode()).hexdigest()


class ClientRules(ClientMixin):
    """What Authlib and the grants ask a client, answered from its registered metadata."""

    @property
    def is_public(self) -> bool:
        return self.token_endpoint_auth_method == "none"

    @property
    def approved(self) -> bool:
        return self.approved_at is not None

    @property
    def approval_status(self) -> str:
        """``draft``, ``waiting`` (for approval), ``approved`` or ``rejected``."""
        if self.approved_at is not None:
            return "approved"
        if self.rejected_at is not None:
            return "rejected"
        return "waiting" if self.submitted_at is not None else "draft"

    @property
    def suspended(self) -> bool:
        return self.suspended_at is not None

    @property
    def scopes(self) -> list[str]:
        return self.scope.split()

    # -- Authlib ClientMixin -------------------------------------------------

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        # OIDC Core §3.1.2.1: redirect_uri is required, so there is no default.
        return None

    def get_allowed_scope(self, scope: str) -> str:
        if not scope:
            return ""
        allowed = set(self.scopes)
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # Exact string comparison (OAuth 2.0 Security BCP §4.1.3).
        return redirect_uri in (self.redirect_uris or [])

    def check_client_secret(self, client_secret: str) -> bool:
        """The current secret, or the one it replaced while its grace period lasts."""
        if not client_secret:
            return False
        presented = hash_secret(client_secret)
        if self.client_secret_hash and hmac.compare_digest(self.client_secret_hash, presented):
            return True
        previous, until = self.previous_secret_hash, self.previous_secret_expires_at
        if not previous or until is None or until <= utcnow():
            return False
        return hmac.compare_digest(previous, presented)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type in (self.response_types or [])

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in (self.grant_types or [])


class Client(db.Model, ClientRules):
    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"), index=True)
    client_name: Mapped[str] = mapped_column(String(200))
    client_secret_hash: Mapped[str | None] = mapped_column(String(64))
    client_secret_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    redirect_uris: Mapped[list] = mapped_column(JSON, default=list)
    post_logout_redirect_uris: Mapped[list] = mapped_column(JSON, default=list)
    scope: Mapped[str] = mapped_column(Text, default="openid")
    purposes: Mapped[list] = mapped_column(JSON, default=list)
    token_endpoint_auth_method: Mapped[str] = mapped_column(
        String(32), default="client_secret_basic"
    )
    grant_types: Mapped[list] = mapped_column(
        JSON, default=lambda: ["authorization_code", "refresh_token"]
    )
    response_types: Mapped[list] = mapped_column(JSON, default=lambda: ["code"])
    access_token_ttl: Mapped[int] = mapped_column(Integer, default=defaults.ACCESS_TOKEN_SECONDS)
    #: How long a limited consent (and its refresh tokens) lasts.
    grant_ttl: Mapped[int] = mapped_column(Integer, default=defaults.GRANT_SECONDS)
    id_token_signed_response_alg: Mapped[str] = mapped_column(String(8), default="RS256")
    subject_type: Mapped[str] = mapped_column(String(16), default="pairwise")
    sector_identifier_uri: Mapped[str | None] = mapped_column(Text)
    jwks: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    jwks_uri: Mapped[str | None] = mapped_column(Text)
    backchannel_logout_uri: Mapped[str | None] = mapped_column(Text)
    backchannel_logout_session_required: Mapped[bool] = mapped_column(Boolean, default=True)
    #: RFC 8935 push endpoint for Security Event Tokens (consent withdrawn).
    security_event_uri: Mapped[str | None] = mapped_column(Text)
    logo_uri: Mapped[str | None] = mapped_column(Text)
    client_uri: Mapped[str | None] = mapped_column(Text)
    policy_uri: Mapped[str | None] = mapped_column(Text)
    tos_uri: Mapped[str | None] = mapped_column(Text)
    #: RFC 9449 §5.2: token requests without a DPoP proof are refused.
    dpop_bound_access_tokens: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    #: Miles & More's own sites: public subject identifiers.
    first_party: Mapped[bool] = mapped_column(Boolean, default=False)
    #: RFC 9126 §6: authorization requests only through a pushed authorization request.
    require_pushed_authorization_requests: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    #: Raised by every UPDATE of the row (see the module docstring).
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    #: The secret a rotation replaced, accepted until ``previous_secret_expires_at``
    #: so that a deployment can roll over (``idp.services.registration.rotate_secret``).
    previous_secret_hash: Mapped[str | None] = mapped_column(String(64))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: RFC 7592 registration access token of this client only, and the one it replaced,
    #: valid until the new one is first used (a lost PUT response must not lock out).
    registration_token_hash: Mapped[str | None] = mapped_column(String(64))
    previous_registration_token_hash: Mapped[str | None] = mapped_column(String(64))

    __mapper_args__ = {"version_id_col": version}

    partner: Mapped[Partner] = relationship()

    # The approval workflow (idp.services.approval); ``approved_at`` above decides use.
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The operator's reason, shown to the partner's developers.
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    #: A suspended client is refused everywhere until an operator reinstates it.
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suspension_reason: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<Client {self.client_id}>"


#: Every column of ``clients``, the attributes of a ``ClientRecord``.
CLIENT_COLUMNS = tuple(column.key for column in Client.__table__.columns)


class ClientRecord(ClientRules):
    """A read-only copy of one ``clients`` row, with the client's rules.

    Passed where a client is only read (client authentication, the grants, the
    token checks); it has no relationships and is never added to a session.
    """

    __slots__ = CLIENT_COLUMNS

    def __init__(self, row) -> None:
        for name in CLIENT_COLUMNS:
            object.__setattr__(self, name, row[name])

    def __setattr__(self, name, value):
        raise AttributeError("a ClientRecord is read-only; change the client through its row")

    def __repr__(self) -> str:
        return f"<ClientRecord {self.client_id} v{self.version}>"


class ClientAssertion(db.Model):
    """A ``jti`` a client used in a private_key_jwt assertion (RFC 7523 §3 item 7).

    Kept until the assertion expires, so the same assertion is accepted once.
    """

    __tablename__ = "client_assertions"
    __table_args__ = (UniqueConstraint("client_id", "jti"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    jti: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
