"""When a partner last used a member's consent ("last use" under Connected apps).

Recorded on every successful bearer call, but written at most once per
``RESOLUTION`` per consent: the check reads the row the token check loaded
already, and the conditional UPDATE keeps concurrent processes from writing
more than once.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, update

from idp.extensions import db
from idp.models import Consent, Token
from idp.models.types import utcnow

RESOLUTION = timedelta(minutes=1)


def record_use(token: Token) -> bool:
    """Note that ``token`` was used now; True when this call wrote (and committed)."""
    if token.consent_id is None:
        return False
    consent = db.session.get(Consent, token.consent_id)
    now = utcnow()
    if consent is None or (
        consent.last_used_at is not None and now - consent.last_used_at < RESOLUTION
    ):
        return False
    result = db.session.execute(
        update(Consent)
        .where(
            Consent.id == consent.id,
            or_(Consent.last_used_at.is_(None), Consent.last_used_at <= now - RESOLUTION),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session="fetch")
    )
    db.session.commit()
    return result.rowcount == 1
