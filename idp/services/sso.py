"""The single sign-on session: who is logged in, since when, with which methods.

The browser keeps a random token in the signed ``mam_session`` cookie (Flask's
session); the database keeps its SHA-256 hash in ``sso_sessions`` with
``auth_time``, ``amr`` and ``acr``. A session ends on logout, after
``session_idle_seconds`` without use, or ``session_max_seconds`` after login.
Its ``last_seen_at`` is kept to the minute by ``idp.services.activity``, so
looking up the session of a page view writes nothing on the way.

The half-finished login (password checked, second factor not yet) is kept in
the Flask session under ``PENDING_KEY`` and never counts as logged in.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app, g, request, session
from sqlalchemy import select, update

from idp.extensions import db
from idp.models import Member, SSOSession
from idp.models.types import utcnow
from idp.services import activity, audit, backchannel_logout, session_details

TOKEN_KEY = "sso"
PENDING_KEY = "login"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _settings():
    return current_app.config["IDP"]


def start_session(member: Member, amr: list[str], acr: str | None = None) -> SSOSession:
    """Log ``member`` in: a new session (a fresh token, so no fixation), committed."""
    end_session(reason="replaced")
    now = utcnow()
    token = secrets.token_urlsafe(32)
    methods = list(dict.fromkeys(amr))
    if (
        len(set(methods) & {"pwd", "otp", "hwk", "swk", "sms", "mail"}) >= 2
        and "mfa" not in methods
    ):
        methods.append("mfa")  # RFC 8176 §2: more than one factor was used
    sso = SSOSession(
        token_hash=_hash(token),
        member_id=member.id,
        auth_time=now,
        amr=methods,
        acr=acr,
        user_agent=(request.user_agent.string or "")[:200] if request else None,
        address_prefix=session_details.address_prefix(request.remote_addr) if request else None,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(seconds=_settings().session_max_seconds),
    )
    db.session.add(sso)
    audit.record("login.succeeded", member_id=member.id, amr=methods, sid=sso.id)
    db.session.commit()
    session.pop(PENDING_KEY, None)
    session[TOKEN_KEY] = token
    session.permanent = True
    g.sso_session = sso
    return sso


def current_session() -> SSOSession | None:
    """The live session of this browser, or None. Cached for the request.

    Notes the activity for the idle timeout (written after the response, at most
    once a minute).
    """
    if "sso_session" in g:
        return g.sso_session
    g.sso_session = None
    token = session.get(TOKEN_KEY)
    if not token:
        return None
    sso = db.session.scalar(select(SSOSession).where(SSOSession.token_hash == _hash(token)))
    now = utcnow()
    if sso is None or sso.ended_at is not None or not _alive(sso, now):
        session.pop(TOKEN_KEY, None)
        return None
    # At most once a minute, after the response: never a write on the way (activity).
    activity.note(sso, "last_seen_at", SSOSession.ended_at.is_(None))
    g.sso_session = sso
    return sso


def _alive(sso: SSOSession, now: datetime) -> bool:
    idle = timedelta(seconds=_settings().session_idle_seconds)
    return now < sso.expires_at and now - sso.last_seen_at < idle


def current_member() -> Member | None:
    sso = current_session()
    return db.session.get(Member, sso.member_id) if sso else None


def end_session(reason: str = "logout") -> SSOSession | None:
    """End this browser's session (if any); returns it so callers can notify partners."""
    token = session.pop(TOKEN_KEY, None)
    g.pop("sso_session", None)
    if not token:
        return None
    sso = db.session.scalar(select(SSOSession).where(SSOSession.token_hash == _hash(token)))
    if sso is None or sso.ended_at is not None:
        return None
    sso.ended_at = utcnow()
    audit.record("session.ended", member_id=sso.member_id, sid=sso.id, reason=reason)
    backchannel_logout.queue_logout(sso.member_id, [sso.id], reason)
    db.session.commit()
    return sso


def end_member_sessions(
    member_id: str, reason: str, except_sid: str | None = None, commit: bool = True
) -> int:
    """End every live session of a member (password change, account deletion, admin).

    ``commit=False`` leaves the commit to a caller whose transaction does more.
    """
    statement = (
        update(SSOSession)
        .where(SSOSession.member_id == member_id, SSOSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    if except_sid:
        statement = statement.where(SSOSession.id != except_sid)
    ended_sids = list(db.session.scalars(statement.returning(SSOSession.id)))
    ended = len(ended_sids)
    audit.record("session.ended_all", member_id=member_id, reason=reason, count=ended)
    backchannel_logout.queue_logout(member_id, ended_sids, reason)
    if commit:
        db.session.commit()
    return ended


def end_member_session(member_id: str, sid: str, reason: str) -> bool:
    """End one live session of this member (the security page); False when there is none.

    A session of another member is never touched: both ids are in the UPDATE.
    """
    ended = db.session.scalar(
        update(SSOSession)
        .where(
            SSOSession.id == sid,
            SSOSession.member_id == member_id,
            SSOSession.ended_at.is_(None),
        )
        .values(ended_at=utcnow())
        .returning(SSOSession.id)
    )
    if ended is None:
        db.session.rollback()
        return False
    audit.record("session.ended", member_id=member_id, sid=sid, reason=reason)
    backchannel_logout.queue_logout(member_id, [sid], reason)
    db.session.commit()
    return True


def live_sessions(member_id: str) -> list[SSOSession]:
    now = utcnow()
    rows = db.session.scalars(
        select(SSOSession)
        .where(SSOSession.member_id == member_id, SSOSession.ended_at.is_(None))
        .order_by(SSOSession.last_seen_at.desc())
    )
    return [s for s in rows if _alive(s, now)]


# -- the login in progress -------------------------------------------------------


@dataclass
class PendingLogin:
    """A member who gave the right password and has yet to pass the second factor."""

    member_id: str
    amr: list[str]
    started_at: datetime


def begin_pending_login(member: Member, amr: list[str]) -> None:
    session.pop(TOKEN_KEY, None)
    g.pop("sso_session", None)
    session[PENDING_KEY] = {
        "member_id": member.id,
        "amr": amr,
        "started_at": utcnow().timestamp(),
    }


def pending_login() -> PendingLogin | None:
    data = session.get(PENDING_KEY)
    if not isinstance(data, dict):
        return None
    started = datetime.fromtimestamp(data.get("started_at", 0), UTC)
    if utcnow() - started > timedelta(seconds=_settings().pending_login_seconds):
        session.pop(PENDING_KEY, None)
        return None
    return PendingLogin(member_id=data["member_id"], amr=list(data["amr"]), started_at=started)


def clear_pending_login() -> None:
    session.pop(PENDING_KEY, None)
