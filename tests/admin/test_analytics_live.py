"""Login analytics under parallel logins against ``mam-idp serve --workers 2`` (SPEC.md §10, §13).

Members log in to one partner at once, then log in again twice each, the two
again at the same moment from copies of the member's browser: the counts are
exact (every login, each member once) on SQLite and PostgreSQL, and
``mam-idp analytics`` reports them.
"""

from __future__ import annotations

import json
import secrets
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from idp.models.types import utcnow
from idp.services.registration import get_client
from tests.live.load import REDIRECT_URI, SCOPE, UNLIMITED, Browser, Partner, _challenge
from tests.live.server import SCRIPT, live_provider

pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="mam-idp is not installed")

MEMBERS = 8
AGAIN = 2


def log_in_again(partner: Partner, http: Browser) -> int:
    """An authorization with the member's session and standing consent; the code exchanged."""
    verifier = secrets.token_urlsafe(48)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": partner.client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": SCOPE,
            "state": "again",
            "code_challenge": _challenge(verifier),
            "code_challenge_method": "S256",
        }
    )
    answer = http.get(f"{partner.provider_url}/oauth/authorize?{query}")
    assert answer.status_code == 302, (answer.status_code, answer.text[:300])
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    token = partner.token(
        http,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT_URI,
        code_verifier=verifier,
    )
    return token.status_code


def copy_of(http: Browser) -> Browser:
    twin = Browser()
    twin.cookies.update(http.cookies)
    return twin


def test_parallel_logins_are_counted_exactly(backend, redis_url, tmp_path):
    with live_provider(tmp_path, backend, redis_url, **UNLIMITED) as provider:
        partner = Partner.seed(provider, members=MEMBERS)
        with provider.app().app_context():
            partner_id = get_client(partner.client_id).partner_id
        browsers = [Browser() for _ in partner.members]
        with ThreadPoolExecutor(max_workers=MEMBERS) as pool:
            journeys = list(pool.map(partner.journey, browsers, partner.members, timeout=180))
        assert all(step.status_code < 500 for steps in journeys for step in steps)

        twins = [copy_of(http) for http in browsers for _ in range(AGAIN)]
        with ThreadPoolExecutor(max_workers=len(twins)) as pool:
            statuses = list(pool.map(lambda http: log_in_again(partner, http), twins, timeout=180))
        assert statuses == [200] * len(twins)
        for http in browsers + twins:
            http.close()

        today = utcnow().date().isoformat()
        done = provider.run("analytics", "--partner-id", partner_id, "--since", today, "--json")
        assert done.returncode == 0, done.stderr
        (day,) = json.loads(done.stdout)["days"]
        assert day == {
            "day": today,
            "logins": MEMBERS * (1 + AGAIN),
            "members": MEMBERS,
            "new_consents": MEMBERS,
            "withdrawals": 0,
        }
