"""What a member allowed a client, and the short-lived code that carries it.

A ``Consent`` is the member's current decision for one client: the scopes and
purposes allowed (and claims allowed one by one, without their scope), and whether access is limited (``expires_at``) or without
time limit. A withdrawn consent stays as evidence with ``withdrawn_at`` set; a
paused one (``paused_at``) stands but releases nothing until resumed. Its
``grant_id`` is the public name of the grant (Grant Management for OAuth 2.0):
random, unrelated to the row's key, and renewed when a fresh decision replaces
the grant (``grant_management_action=create``).

A ``ConsentStep`` is an authorization request waiting for the member's answer
on the consent screen: kept here, not in the browser, and answered once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp.extensions import db
from idp.models.client import Client
from idp.models.types import UTCDateTime, new_grant_id, new_id, utcnow


class Consent(db.Model):
    __tablename__ = "consents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    #: The grant's public identifier for the client that holds it (Grant Management §5.4).
    grant_id: Mapped[str] = mapped_column(String(64), unique=True, index=True, default=new_grant_id)
    scope: Mapped[str] = mapped_column(Text)
    #: Optional scopes the member unticked; not asked again unless prompt=consent.
    declined_scope: Mapped[str] = mapped_column(Text, default="")
    purposes: Mapped[list] = mapped_column(JSON, default=list)
    unlimited: Mapped[bool] = mapped_column(Boolean, default=False)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set while the member has paused the partner (GDPR Art. 18): tokens refused, nothing released.
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The consent text version of each purpose the member agreed to (purpose -> version).
    text_versions: Mapped[dict] = mapped_column(JSON, default=dict)
    #: Claims granted one by one, without their scope: asked for only through the OIDC
    #: ``claims`` parameter (OIDC Core §5.5) and ticked on the consent screen.
    granted_claims: Mapped[list] = mapped_column(JSON, default=list)
    #: Such claims the member unticked; not asked again unless prompt=consent.
    declined_claims: Mapped[list] = mapped_column(JSON, default=list)

    client: Mapped[Client] = relationship()

    @property
    def scopes(self) -> set[str]:
        return set(self.scope.split())

    @property
    def declined_scopes(self) -> set[str]:
        return set((self.declined_scope or "").split())


class ConsentRecord(db.Model):
    """Evidence of one consent event (given, changed, narrowed, paused, resumed, withdrawn),
    never updated.

    Keeps what the member saw and chose: the scopes (and claims granted or
    declined one by one), purposes and period, the
    identifier and SHA-256 hash of the exact text shown, and its language.
    The ORM refuses updates and deletes, the database refuses updates (see
    the initial migration); rows go only with the member's erased account.
    """

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consent_id: Mapped[str] = mapped_column(
        ForeignKey("consents.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    #: ``given``, ``changed``, ``narrowed`` (Stop sharing), ``paused``, ``resumed`` or ``withdrawn``.
    action: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(Text)
    declined_scope: Mapped[str] = mapped_column(Text, default="")
    purposes: Mapped[list] = mapped_column(JSON, default=list)
    unlimited: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    text_version: Mapped[str | None] = mapped_column(String(200))
    text_sha256: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(16))
    #: Who acted: ``member``, ``admin``, ``account_deletion`` or ``partner`` (the client
    #: released its grant through the grant management API).
    actor: Mapped[str] = mapped_column(String(24), default="member")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The claims granted and declined one by one (``Consent.granted_claims``).
    granted_claims: Mapped[list] = mapped_column(JSON, default=list)
    declined_claims: Mapped[list] = mapped_column(JSON, default=list)

    client: Mapped[Client] = relationship()

    @property
    def scopes(self) -> set[str]:
        return set(self.scope.split())


@event.listens_for(ConsentRecord, "before_update")
@event.listens_for(ConsentRecord, "before_delete")
def _refuse_change(mapper, connection, target):
    from idp.models.audit import AppendOnlyError

    raise AppendOnlyError("consent records are append-only")


class ConsentStep(db.Model):
    """A validated authorization request waiting on the consent screen (single use)."""

    __tablename__ = "consent_steps"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    #: The SSO session the request belongs to; another session cannot answer it.
    sid: Mapped[str] = mapped_column(String(32))
    #: The authorization request's parameters, validated again when answered.
    parameters: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    client: Mapped[Client] = relationship()


class AuthorizationCode(db.Model):
    """RFC 6749 §4.1.2: single use, short-lived, stored only as a hash."""

    __tablename__ = "authorization_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    consent_id: Mapped[str | None] = mapped_column(ForeignKey("consents.id"))
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)
    nonce: Mapped[str | None] = mapped_column(Text)
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(String(8))
    claims: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    #: RFC 9449 §10: the ``dpop_jkt`` of the request; the code is redeemed with that key only.
    dpop_jkt: Mapped[str | None] = mapped_column(String(64))
    sid: Mapped[str | None] = mapped_column(String(32))
    auth_time: Mapped[datetime] = mapped_column(UTCDateTime)
    amr: Mapped[list] = mapped_column(JSON, default=list)
    acr: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    client: Mapped[Client] = relationship()

    # -- what Authlib's grants ask of a code -----------------------------------

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope
