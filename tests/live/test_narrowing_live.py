"""Stop sharing while the partner refreshes, against ``mam-idp serve --workers 2``.

Several refresh token families of one consent rotate in parallel threads while
the member presses Stop sharing: every refresh that starts after the page
answered returns the reduced ``scope``, none fails, and no request errs.
Bounded: a fixed number of refreshes per family, each with a timeout.
"""

from __future__ import annotations

import threading
import time

import pytest

from tests.live.load import UNLIMITED, Browser, code_form, login_form
from tests.live.server import SCRIPT, live_provider
from tests.login_flow import csrf_token, totp_code

pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="mam-idp is not installed")

FAMILIES = 4
REFRESHES = 24  # per family
SCOPE = "openid profile email offline_access"


def seed(provider):
    from idp.extensions import db
    from tests.factories import issue_token, make_client, make_consent, make_member, make_partner

    with provider.app().app_context():
        client, secret = make_client(
            make_partner("Narrowing Shop", "partner_company"),
            scope=SCOPE,
            purposes=["registration"],
        )
        member, password, key = make_member()
        consent = make_consent(member, client, unlimited=True, expires_at=None)
        refresh_tokens = [
            issue_token(
                member, client, SCOPE, consent=consent, with_refresh=True, refresh_expires_at=None
            ).refresh_token
            for _ in range(FAMILIES)
        ]
        seeded = (client.client_id, secret, client.partner_id, member.email, password, key)
        db.session.remove()
    return seeded, refresh_tokens


def test_no_refresh_after_stop_sharing_returns_the_stopped_item(backend, redis_url, tmp_path):
    with live_provider(tmp_path, backend, redis_url, **UNLIMITED) as provider:
        (client_id, secret, partner_id, email, password, key), refresh_tokens = seed(provider)
        member = Browser()
        assert login_form(member, provider.url, email, password)().status_code == 302
        assert code_form(member, provider.url, lambda: totp_code(key))().status_code == 302
        page = member.get(provider.url + "/account/apps")
        assert page.status_code == 200 and 'value="email"' in page.text

        results: list[tuple[float, int, str]] = []  # (started, status, scope or error)
        errors: list[BaseException] = []
        started_refreshing = threading.Barrier(FAMILIES + 1)
        lock = threading.Lock()

        def rotate(refresh_token: str) -> None:
            http = Browser()
            try:
                started_refreshing.wait(timeout=30)
                for _ in range(REFRESHES):
                    began = time.monotonic()
                    answer = http.post(
                        provider.url + "/oauth/token",
                        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
                        auth=(client_id, secret),
                    )
                    body = answer.json()
                    with lock:
                        results.append((began, answer.status_code, body.get("scope", str(body))))
                    if answer.status_code != 200:
                        return
                    refresh_token = body["refresh_token"]
            except BaseException as exc:  # a timeout, a reset: reported below
                errors.append(exc)
            finally:
                http.close()

        threads = [threading.Thread(target=rotate, args=(t,)) for t in refresh_tokens]
        for thread in threads:
            thread.start()
        started_refreshing.wait(timeout=30)
        while len(results) < FAMILIES * 3 and any(t.is_alive() for t in threads):
            time.sleep(0.01)
        stopped = member.post(
            f"{provider.url}/account/apps/{partner_id}/stop-sharing",
            data={"scope": "email", "csrf_token": csrf_token(page.text)},
        )
        answered = time.monotonic()
        for thread in threads:
            thread.join(timeout=120)
        member.close()

        assert stopped.status_code == 303, (stopped.status_code, stopped.text[:300])
        assert errors == []
        assert [r for r in results if r[1] != 200] == []
        assert len(results) == FAMILIES * REFRESHES
        before = [scope for began, _, scope in results if began < answered]
        after = [scope for began, _, scope in results if began >= answered]
        assert any("email" in scope.split() for scope in before)
        assert after, "no refresh started after Stop sharing"
        assert [s for s in after if "email" in s.split()] == []
        assert all("profile" in s.split() for s in after)
        print(f"\n{len(before)} refreshes before, {len(after)} after Stop sharing ({backend})")
