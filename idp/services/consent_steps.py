"""The consent step (SPEC.md §5): an authorization request waiting on the consent screen.

The request is kept on the server, not in the browser, belongs to the member's
SSO session, lives ``CONSENT_STEP_SECONDS`` and is answered once: the answer
claims the step in one statement (STYLE.md: one-time things carry a used marker).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, update

from idp import defaults
from idp.extensions import db
from idp.models import Client, ConsentStep
from idp.models.types import utcnow

#: How long the member has to answer the consent screen.
CONSENT_STEP_SECONDS = defaults.CONSENT_STEP_SECONDS


def start_step(member_id: str, sid: str, client: Client, parameters: dict) -> ConsentStep:
    """Keep an authorization request until the member answers the screen. Commits."""
    now = utcnow()
    db.session.execute(
        delete(ConsentStep).where(ConsentStep.member_id == member_id, ConsentStep.expires_at < now)
    )
    step = ConsentStep(
        client_id=client.id,
        member_id=member_id,
        sid=sid,
        parameters=dict(parameters),
        created_at=now,
        expires_at=now + timedelta(seconds=CONSENT_STEP_SECONDS),
    )
    db.session.add(step)
    db.session.commit()
    return step


def open_step(step_id: str, member_id: str, sid: str) -> ConsentStep | None:
    """The step, when it belongs to this member's session and is still open."""
    if not step_id or len(step_id) > 32:
        return None
    step = db.session.get(ConsentStep, step_id)
    if step is None or step.member_id != member_id or step.sid != sid:
        return None
    if step.used_at is not None or step.expires_at <= utcnow():
        return None
    return step


def claim_step(step: ConsentStep) -> bool:
    """Mark the step answered, in one statement; False when it was answered already."""
    now = utcnow()
    result = db.session.execute(
        update(ConsentStep)
        .where(
            ConsentStep.id == step.id,
            ConsentStep.used_at.is_(None),
            ConsentStep.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount == 1
