"""Members and partners at once against ``mam-idp serve --workers 2``, on SQLite and PostgreSQL.

Bounded: a fixed number of requests, each with a timeout, and the whole run
with a deadline. The figures are printed (``pytest -s`` shows them).
"""

from __future__ import annotations

import random

import pytest

from tests.live.load import (
    UNLIMITED,
    Browser,
    Partner,
    at_the_same_moment,
    code_form,
    login_form,
    run_at_once,
)
from tests.live.server import SCRIPT, live_provider
from tests.login_flow import totp_code

pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="mam-idp is not installed")

CONNECTIONS = 32
JOURNEYS = 16
SINGLE_CALLS = 100  # each of token, introspection and userinfo


def test_eight_members_send_their_codes_at_the_same_moment(backend, redis_url, tmp_path):
    with live_provider(tmp_path, backend, redis_url, **UNLIMITED) as provider:
        partner = Partner.seed(provider, members=8)
        browsers = [Browser() for _ in partner.members]
        passwords = at_the_same_moment(
            [
                login_form(http, provider.url, member.email, member.password)
                for http, member in zip(browsers, partner.members, strict=True)
            ]
        )
        assert passwords.failures == []
        assert [r.status_code for r in passwords.responses] == [302] * 8
        assert all(r.headers["Location"].endswith("/login/verify") for r in passwords.responses)

        codes = at_the_same_moment(
            [
                code_form(http, provider.url, lambda key=member.totp_key: totp_code(key))
                for http, member in zip(browsers, partner.members, strict=True)
            ]
        )
        print("\n" + codes.summary(f"8 second-factor logins at once ({backend})"))
        assert codes.failures == []
        assert codes.server_errors == []
        # Every login finished: the code was taken and the session started.
        assert [r.status_code for r in codes.responses] == [302] * 8, [
            (r.status_code, r.text[:300]) for r in codes.responses
        ]
        for http in browsers:
            assert http.get(provider.url + "/account").status_code == 200
            http.close()


def test_logins_consents_and_partner_calls_at_32_connections(backend, redis_url, tmp_path):
    with live_provider(tmp_path, backend, redis_url, **UNLIMITED) as provider:
        partner = Partner.seed(provider, members=8 + JOURNEYS, tokens=8)
        holders, newcomers = partner.members[:8], partner.members[8:]
        jobs = [lambda http, m=m: partner.journey(http, m) for m in newcomers]
        for i in range(SINGLE_CALLS):
            holder = holders[i % len(holders)]
            jobs.append(partner.client_token)
            jobs.append(lambda http, t=holder.access_token: partner.introspect(http, t))
            jobs.append(lambda http, t=holder.access_token: partner.userinfo(http, t))
        random.Random(8).shuffle(jobs)

        outcome = run_at_once(jobs, connections=CONNECTIONS, deadline=180)
        print("\n" + outcome.summary(f"2 workers x {CONNECTIONS} connections ({backend})"))
        assert outcome.failures == []
        assert outcome.server_errors == []
        # No errors of any kind: pages answer 200, redirects 302, the partner calls 200.
        assert set(outcome.statuses()) <= {200, 302}, outcome.statuses()
        assert len(outcome.responses) >= JOURNEYS * 9 + 3 * SINGLE_CALLS
        # Every journey ended with a working access token.
        assert all(m.access_token for m in newcomers)
