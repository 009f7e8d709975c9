"""DPoP proofs already seen (RFC 9449 §11.1), when no Redis is configured.

Each proof's ``jti`` is accepted once: its hash (with the key and target URI
it was made for) is unique, so two processes that receive the same proof at
the same moment cannot both accept it. Rows are kept until the proof would be
refused for its age anyway, then ``mam-idp purge`` deletes them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db
from idp.models.types import UTCDateTime


class DPoPProof(db.Model):
    __tablename__ = "dpop_proofs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: SHA-256 (hex) of the key thumbprint, the target URI and the ``jti``.
    jti_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
