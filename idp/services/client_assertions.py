"""Client assertions already used (RFC 7523 §3, OIDC Core §9 ``private_key_jwt``).

Each ``jti`` is accepted once per client until its assertion expires; a unique
index on (client, jti) decides between concurrent requests. Expired entries
are dropped on the way.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from idp.extensions import db
from idp.models import Client, ClientAssertion
from idp.models.types import utcnow


def remember(client: Client, jti: str, expires_at: datetime) -> bool:
    """Record a jti; False when the client used it before.

    Commits at once, so the jti stays spent even if the request fails later.
    """
    db.session.execute(delete(ClientAssertion).where(ClientAssertion.expires_at < utcnow()))
    try:
        with db.session.begin_nested():
            db.session.add(ClientAssertion(client_id=client.id, jti=jti, expires_at=expires_at))
    except IntegrityError:
        db.session.commit()
        return False
    db.session.commit()
    return True
