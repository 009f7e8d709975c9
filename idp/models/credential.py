"""What a member proves who they are with: password, TOTP, recovery and email codes.

Nothing here is stored in the clear: the password as an argon2id hash, the TOTP
key encrypted with the data key, recovery and email codes as keyed hashes.
One-time things carry a used marker that is checked and set in one statement.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db
from idp.models.types import EncryptedText, UTCDateTime, utcnow


class Credential(db.Model):
    __tablename__ = "member_credentials"

    member_id: Mapped[str] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    password_hash: Mapped[str] = mapped_column(String(255))
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText)
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: A new key the member is switching to; ``totp_secret`` works until it is confirmed.
    totp_pending_secret: Mapped[str | None] = mapped_column(EncryptedText)
    #: The last RFC 6238 time step accepted; a step is never accepted twice.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)

    @property
    def has_totp(self) -> bool:
        return self.totp_secret is not None and self.totp_enrolled_at is not None


class RecoveryCode(db.Model):
    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EmailCode(db.Model):
    """A one-time code sent by email as the fallback second factor."""

    __tablename__ = "email_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Lockout(db.Model):
    """Failed attempts against one key (an account, or an unknown login name).

    Unknown login names are counted like accounts so that a lockout does not
    tell whether an account exists.
    """

    __tablename__ = "lockouts"

    key: Mapped[str] = mapped_column(String(96), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    lockouts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
