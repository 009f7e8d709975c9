"""Driving the login pages over HTTP, as a browser would: tokens parsed from the pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pyotp

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page has no csrf_token input"
    return match.group(1)


def post_form(client, url: str, data: dict, page: str | None = None, **kwargs):
    """POST ``data`` with the CSRF token of ``page`` (default: the form at ``url``)."""
    html = client.get(page or url).get_data(as_text=True)
    return client.post(url, data={**data, "csrf_token": csrf_token(html)}, **kwargs)


def totp_code(key: str, steps_ahead: int = 0) -> str:
    """The code of the current (or a later) 30-second step."""
    moment = datetime.now(UTC) + timedelta(seconds=30 * steps_ahead)
    return pyotp.TOTP(key).at(moment)


def enter_password(client, login: str, password: str, next_path: str | None = None):
    url = "/login" + (f"?next={next_path}" if next_path else "")
    return post_form(client, url, {"login": login, "password": password})


def log_in(client, login: str, password: str, key: str, next_path: str | None = None):
    """Password and TOTP; returns the response of the second step (a redirect)."""
    response = enter_password(client, login, password, next_path)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith("/login/verify")
    return post_form(client, "/login/verify", {"code": totp_code(key)})


def h1(html: str) -> str:
    """The text of the page's only ``<h1>``."""
    found = re.findall(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    assert len(found) == 1, f"expected one <h1>, found {len(found)}"
    return unescape(re.sub(r"<[^>]+>", "", found[0])).strip()


def alert_text(html: str) -> str:
    """The text of the ``role="alert"`` element(s)."""
    found = re.findall(r'role="alert"[^>]*>(.*?)</(?:div|p)>', html, re.S)
    return " ".join(" ".join(unescape(re.sub(r"<[^>]+>", " ", f)).split()) for f in found)


_LINK = re.compile(r"https?://\S+/login/(?:reset|enrol/link)/[A-Za-z0-9_-]+")


def mailed_link(recipient: str, purpose: str = "enrolment_link") -> str:
    """The link in the latest mail of ``purpose`` to ``recipient`` in the outbox."""
    from sqlalchemy import select

    from idp.extensions import db
    from idp.models import OutgoingMail

    mails = db.session.scalars(
        select(OutgoingMail).where(OutgoingMail.purpose == purpose).order_by(OutgoingMail.id)
    ).all()
    found = [m for m in mails if m.recipient == recipient]
    assert found, f"no {purpose} mail to {recipient}"
    match = _LINK.search(found[-1].body)
    assert match, "the mail holds a link"
    return match.group(0)


def link_path(link: str) -> str:
    """The path of a mailed link, for the test client."""
    return "/" + link.split("/", 3)[3]


def start_enrolment(client, app, login: str, password: str, next_path: str | None = None):
    """Password, then the mailed link followed in the same browser: the enrolment page's URL."""
    response = enter_password(client, login, password, next_path)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith("/login/enrol/email")
    with app.app_context():
        link = mailed_link(login)
    followed = client.get(link_path(link))
    assert followed.status_code == 302 and followed.headers["Location"].endswith("/login/enrol")
    return "/login/enrol"
