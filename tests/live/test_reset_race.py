"""One password reset link used by four browsers at the same moment: exactly one succeeds.

Against ``mam-idp serve --workers 2``: each browser has the reset page open and
sends a new password of its own (with a recovery code of its own, so every
second factor passes); the link is claimed in one statement, so one password
is set, the others are told the link was used, and nothing fails with a 5xx.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.live.load import UNLIMITED, Browser, at_the_same_moment
from tests.live.server import SCRIPT, live_provider
from tests.login_flow import csrf_token, link_path, mailed_link

pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="mam-idp is not installed")

#: Fewer than the lockout threshold (5): attempts in flight count towards it, so a sixth
#: code sent at the same moment would be refused as a lockout, not for the link.
BROWSERS = 4


@pytest.fixture(scope="module")
def provider(backend, redis_url, tmp_path_factory):
    with live_provider(tmp_path_factory.mktemp("reset"), backend, redis_url, **UNLIMITED) as live:
        yield live


def _seed(provider, totp: bool):
    from idp.extensions import db
    from idp.services import authentication
    from tests.factories import make_member

    with provider.app().app_context():
        member, _password, _key = make_member(totp=totp)
        codes = authentication.regenerate_recovery_codes(member) if totp else []
        seeded = member.id, member.email, codes
        db.session.remove()
    return seeded


def _reset_link(provider, email: str) -> str:
    http = Browser()
    page = http.get(provider.url + "/login/forgot")
    sent = http.post(
        provider.url + "/login/forgot", data={"login": email, "csrf_token": csrf_token(page.text)}
    )
    assert sent.status_code == 200
    http.close()
    from idp.extensions import db

    with provider.app().app_context():
        link = link_path(mailed_link(email, "password_reset"))
        db.session.remove()
    return link


def _after(provider, member_id: str):
    from idp.extensions import db
    from idp.models import AccountLink, AuditEvent, Credential, OutgoingMail
    from idp.services.passwords import verify_password

    with provider.app().app_context():
        password_hash = db.session.get(Credential, member_id).password_hash
        matches = [i for i in range(BROWSERS) if verify_password(password_hash, f"new pass {i}!")]
        resets = db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.member_id == member_id, AuditEvent.event == "password.reset")
        )
        notices = db.session.scalar(
            select(func.count())
            .select_from(OutgoingMail)
            .where(OutgoingMail.purpose == "password_changed")
        )
        [used] = db.session.scalars(
            select(AccountLink.used_at).where(AccountLink.member_id == member_id)
        ).all()
        db.session.remove()
    return matches, resets, notices, used


@pytest.mark.parametrize("totp", [True, False], ids=["recovery-codes", "no-second-factor"])
def test_two_browsers_using_one_reset_link_at_once_only_one_wins(provider, backend, totp):
    member_id, email, codes = _seed(provider, totp)
    path = _reset_link(provider, email)
    browsers = [Browser() for _ in range(BROWSERS)]
    if totp:
        path += "?with=recovery"

    def send(i: int, http):
        page = http.get(provider.url + path)
        assert page.status_code == 200, page.text[:300]
        data = {"new_password": f"new pass {i}!", "csrf_token": csrf_token(page.text)}
        if totp:
            data["code"] = codes[i]
        return lambda: http.post(provider.url + path, data=data)

    _notices_before = _after(provider, member_id)[2]
    outcome = at_the_same_moment([send(i, http) for i, http in enumerate(browsers)])
    print("\n" + outcome.summary(f"{BROWSERS} uses of one reset link at once ({backend})"))
    assert outcome.failures == []
    assert outcome.server_errors == []
    statuses = sorted(r.status_code for r in outcome.responses)
    assert statuses == [302] + [410] * (BROWSERS - 1), [
        (r.status_code, r.text[:200]) for r in outcome.responses
    ]
    [winner] = [i for i, r in enumerate(outcome.responses) if r.status_code == 302]
    matches, resets, notices, used = _after(provider, member_id)
    assert matches == [winner]
    assert resets == 1 and notices == _notices_before + 1 and used is not None
    for http in browsers:
        http.close()
