"""Passkeys (WebAuthn public key credentials) a member registered as a second factor, and
the one-time challenges of the ceremonies that register and use them.

A ``Passkey`` keeps what W3C WebAuthn Level 3 §7.1 step 27 calls the credential
record: the credential id, its COSE public key, the signature counter, the
transports, and the backup-eligible (BE) and backup-state (BS) flags of the
authenticator data. Nothing in it is a secret (the private key never leaves
the authenticator); the name the member gave it is encrypted like other
personal data.

A ``PasskeyChallenge`` is one challenge handed to a browser (its SHA-256 hash
only), for one member and one ceremony (``register`` or ``login``). It is
answered once (``used_at``, checked and set in one statement) and only before
``expires_at``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db
from idp.models.types import EncryptedText, UTCDateTime, new_id, utcnow

#: What a passkey challenge is for.
CHALLENGE_PURPOSES = ("register", "login")


class Passkey(db.Model):
    __tablename__ = "passkeys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    #: The credential id (WebAuthn §4, at most 1023 bytes) in base64url without padding.
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)
    #: The credential public key as the authenticator gave it (a COSE_Key, RFC 9052 §7).
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    #: The authenticator's signature counter last seen (WebAuthn §6.1.1); 0 when it keeps none.
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    #: ``usb``, ``nfc``, ``ble``, ``hybrid``, ``internal``, as the browser reported them.
    transports: Mapped[list] = mapped_column(JSON, default=list)
    #: ``platform`` (built into a device) or ``cross-platform`` (a security key, a phone).
    attachment: Mapped[str | None] = mapped_column(String(16))
    #: The authenticator's model (AAGUID); all zeros for "none" attestation.
    aaguid: Mapped[str | None] = mapped_column(String(36))
    #: BE: the key may be synced to other devices (a software key, ``amr`` ``swk``).
    backup_eligible: Mapped[bool] = mapped_column(Boolean, default=False)
    #: BS: the key is backed up (synced) now.
    backed_up: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The name the member gave it.
    name: Mapped[str] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def kind(self) -> str:
        """``security_key``, ``platform`` or ``unknown``: what the member is shown."""
        if self.attachment == "platform":
            return "platform"
        if self.attachment == "cross-platform":
            return "security_key"
        return "unknown"


class PasskeyChallenge(db.Model):
    """One WebAuthn challenge (WebAuthn §13.4.3), answered at most once."""

    __tablename__ = "passkey_challenges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    challenge_hash: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    #: ``register`` or ``login``.
    purpose: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
