"""Account lockout across processes: parallel attempts check at most the allowed number.

20 browsers send a wrong password (or, past the password, a wrong code) for one
member at the same moment, to ``mam-idp serve --workers 2``. Each checked
password or code leaves a ``login.password_failed`` (``login.second_factor_failed``)
audit event; each attempt refused unchecked a ``login.refused_locked``. At most
``lockout_threshold`` are checked, and the right password or code is refused
while the lock lasts.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.live.load import UNLIMITED, Browser, Partner, at_the_same_moment, code_form, login_form
from tests.live.server import SCRIPT, live_provider
from tests.login_flow import totp_code

pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="mam-idp is not installed")

ATTEMPTS = 20


def _events(provider, member_id: str) -> dict[str, int]:
    from idp.extensions import db
    from idp.models import AuditEvent

    with provider.app().app_context():
        rows = db.session.execute(
            select(AuditEvent.event, func.count())
            .where(AuditEvent.member_id == member_id)
            .group_by(AuditEvent.event)
        ).all()
        db.session.remove()
    return dict(rows)


def _threshold(provider) -> int:
    return provider.app().config["IDP"].lockout_threshold


@pytest.fixture(scope="module")
def provider(backend, redis_url, tmp_path_factory):
    """One server for the module: failures count per member, and each test has its own."""
    with live_provider(
        tmp_path_factory.mktemp("lockout"), backend, redis_url, **UNLIMITED
    ) as provider:
        yield provider


def test_parallel_wrong_passwords_check_at_most_the_threshold(provider, backend):
    [member] = Partner.seed(provider, members=1).members
    threshold = _threshold(provider)
    browsers = [Browser() for _ in range(ATTEMPTS)]
    outcome = at_the_same_moment(
        [
            login_form(http, provider.url, member.email, f"wrong password {i}")
            for i, http in enumerate(browsers)
        ]
    )
    events = _events(provider, member.member_id)
    print(
        "\n"
        + outcome.summary(f"{ATTEMPTS} wrong passwords at once ({backend})")
        + f"; passwords checked {events.get('login.password_failed', 0)},"
        f" refused unchecked {events.get('login.refused_locked', 0)}"
    )
    assert outcome.failures == [] and outcome.server_errors == []
    assert events["login.password_failed"] <= threshold
    assert events["login.password_failed"] + events["login.refused_locked"] == ATTEMPTS
    assert events["login.locked"] == 1
    statuses = outcome.statuses()
    assert statuses[400] == events["login.password_failed"] - 1
    assert statuses[429] == ATTEMPTS - statuses[400]

    # Locked: the right password is refused as well, and no login starts.
    right = login_form(browsers[0], provider.url, member.email, member.password)()
    assert right.status_code == 429
    assert "Too many failed attempts" in right.text
    assert "login.succeeded" not in _events(provider, member.member_id)
    for http in browsers:
        http.close()


def test_parallel_wrong_codes_check_at_most_the_threshold(provider, backend):
    [member] = Partner.seed(provider, members=1).members
    threshold = _threshold(provider)
    browsers = [Browser() for _ in range(ATTEMPTS)]
    for http in browsers:  # one after the other: each right password gives its count back
        passed = login_form(http, provider.url, member.email, member.password)()
        assert passed.status_code == 302, passed.text[:300]
    right = totp_code(member.totp_key)
    wrong = "000000" if right != "000000" else "111111"
    sends = [code_form(http, provider.url, lambda: wrong) for http in browsers]
    outcome = at_the_same_moment(sends)
    events = _events(provider, member.member_id)
    print(
        "\n"
        + outcome.summary(f"{ATTEMPTS} wrong codes at once ({backend})")
        + f"; codes checked {events.get('login.second_factor_failed', 0)},"
        f" refused unchecked {events.get('login.refused_locked', 0)}"
    )
    assert outcome.failures == [] and outcome.server_errors == []
    assert events["login.second_factor_failed"] <= threshold
    assert events["login.second_factor_failed"] + events["login.refused_locked"] == ATTEMPTS
    statuses = outcome.statuses()
    assert statuses[400] == events["login.second_factor_failed"] - 1
    assert statuses[429] == ATTEMPTS - statuses[400]

    # The right code is refused during the lock; no session was started.
    again = code_form(browsers[0], provider.url, lambda: right)()
    assert again.status_code == 429
    assert "login.succeeded" not in _events(provider, member.member_id)
    for http in browsers:
        http.close()
