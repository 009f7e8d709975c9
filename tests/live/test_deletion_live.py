"""Account deletion against ``mam-idp serve --workers 2`` while the partner keeps refreshing.

The partner's server refreshes its token over and over in a thread of its
own (each refresh rotates the refresh token) while the member deletes the
account in the browser. Once the deletion has answered, no refresh succeeds
any more, and whatever the last successful refresh handed out is dead too.
"""

from __future__ import annotations

import threading
import time

import pytest

from tests.live.load import UNLIMITED, Browser, Partner
from tests.live.server import SCRIPT, live_provider
from tests.login_flow import csrf_token, totp_code

pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="mam-idp is not installed")

SCOPE = "openid profile email offline_access"


def _seed(provider):
    from idp.extensions import db
    from idp.services import second_factor
    from tests.factories import issue_token, make_client, make_member, make_partner

    with provider.app().app_context():
        client, secret = make_client(
            make_partner("Refreshing Shop", "partner_company"), scope=SCOPE
        )
        member, password, key = make_member()
        issued = issue_token(member, client, scope=SCOPE, with_refresh=True)
        codes = second_factor.new_recovery_codes(member)
        db.session.commit()
        seeded = (client.client_id, secret, member.email, password, key, codes[0])
        db.session.remove()
    return seeded, issued.refresh_token


def test_no_refresh_succeeds_after_the_deletion(backend, redis_url, tmp_path):
    with live_provider(tmp_path, backend, redis_url, **UNLIMITED) as provider:
        (client_id, secret, email, password, key, recovery), refresh = _seed(provider)
        partner = Partner(provider.url, client_id, secret)

        # (moment sent, moment answered, status, body) of each refresh.
        refreshes: list[tuple[float, float, int, dict]] = []
        latest = {"refresh": refresh, "access": None}
        stop = threading.Event()

        def keep_refreshing():
            http = Browser()
            while not stop.is_set():
                sent = time.monotonic()
                answer = partner.token(
                    http, grant_type="refresh_token", refresh_token=latest["refresh"]
                )
                body = answer.json()
                refreshes.append((sent, time.monotonic(), answer.status_code, body))
                if answer.status_code == 200:
                    latest["refresh"], latest["access"] = body["refresh_token"], body["access_token"]
            http.close()

        browser = Browser()
        page = browser.get(provider.url + "/login")
        verify = browser.post(
            provider.url + "/login",
            data={"login": email, "password": password, "csrf_token": csrf_token(page.text)},
        )
        assert verify.status_code == 302
        page = browser.get(provider.url + "/login/verify")
        done = browser.post(
            provider.url + "/login/verify",
            data={"code": totp_code(key), "csrf_token": csrf_token(page.text)},
        )
        assert done.status_code == 302, done.text[:300]
        form = browser.get(provider.url + "/account/delete")
        assert form.status_code == 200

        thread = threading.Thread(target=keep_refreshing, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while sum(1 for r in refreshes if r[2] == 200) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        deleted = browser.post(
            provider.url + "/account/delete",
            data={"password": password, "code": recovery, "csrf_token": csrf_token(form.text)},
        )
        answered = time.monotonic()
        assert deleted.status_code == 200, deleted.text[:500]
        while (
            sum(1 for r in refreshes if r[0] > answered) < 3 and time.monotonic() < deadline
        ):
            time.sleep(0.01)
        stop.set()
        thread.join(timeout=30)
        browser.close()

        before = [r for r in refreshes if r[1] < answered]
        after = [r for r in refreshes if r[0] > answered]
        assert sum(1 for r in before if r[2] == 200) >= 3
        assert len(after) >= 3
        assert all(r[2] == 400 and r[3]["error"] == "invalid_grant" for r in after), after
        assert not any(r[2] >= 500 for r in refreshes)

        http = Browser()
        final = partner.token(http, grant_type="refresh_token", refresh_token=latest["refresh"])
        assert final.status_code == 400
        assert partner.introspect(http, latest["refresh"]).json() == {"active": False}
        assert partner.introspect(http, latest["access"]).json() == {"active": False}
        assert partner.userinfo(http, latest["access"]).status_code == 401
        http.close()
