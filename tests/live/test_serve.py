"""``mam-idp serve``: the production server, several processes on one database."""

from __future__ import annotations

import os
import time

import pytest
import requests

from idp.extensions import db
from tests.factories import issue_token, make_client, make_consent, make_member, make_partner
from tests.live.load import Browser, code_form, login_form
from tests.live.server import SCRIPT, live_provider
from tests.login_flow import csrf_token, totp_code
from tests.receiver import SlowReceiver

pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="mam-idp is not installed")

#: Seconds ``mam-idp serve`` may take from SIGTERM to its exit.
EXIT_WITHIN = 8


def test_serve_answers_from_several_worker_processes(backend, redis_url, tmp_path):
    with live_provider(tmp_path, backend, redis_url) as provider:
        assert requests.get(provider.url + "/healthz", timeout=5).json() == {"status": "ok"}
        discovery = requests.get(provider.url + "/.well-known/openid-configuration", timeout=5)
        assert discovery.status_code == 200
        assert discovery.json()["issuer"] == provider.url
        status = provider.stop()
    assert status == 0, provider.output()
    assert "Booting worker" in provider.output()
    assert provider.output().count("Booting worker") >= 2


def test_serve_refuses_a_bad_setting_before_any_worker_starts(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IDP_", "FLASK_"))}
    env.update(IDP_INSTANCE_PATH=str(tmp_path), IDP_ISSUER="http://login.example.com")
    import subprocess

    done = subprocess.run(
        [str(SCRIPT), "serve", "--port", "1"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 78
    assert "IDP_ISSUER" in done.stderr
    assert "Booting worker" not in done.stderr


def test_serve_stops_within_seconds_while_a_notification_to_a_slow_partner_is_under_way(
    backend, redis_url, tmp_path
):
    """SIGTERM ends the workers once their requests are answered; a partner that is
    slow to take a notification does not hold them (it stays in the outbox)."""
    with SlowReceiver() as receiver, live_provider(tmp_path, backend, redis_url) as provider:
        with provider.app().app_context():
            client, _secret = make_client(make_partner(), security_event_uri=receiver.url)
            member, password, key = make_member()
            issue_token(member, client, "openid profile", consent=make_consent(member, client))
            partner_id, email = client.partner_id, member.email
            db.session.remove()
        browser = Browser()
        assert login_form(browser, provider.url, email, password)().status_code == 302
        assert code_form(browser, provider.url, lambda: totp_code(key))().status_code == 302
        revoke = f"{provider.url}/account/apps/{partner_id}/revoke"
        page = browser.get(revoke)
        assert page.status_code == 200, page.text[:500]
        revoked = browser.post(revoke, data={"csrf_token": csrf_token(page.text)})
        assert revoked.status_code in (302, 303)
        assert receiver.reached.wait(15), provider.output()[-5000:]

        started = time.monotonic()
        status = provider.stop(timeout=EXIT_WITHIN)
        took = time.monotonic() - started
    assert status == 0, (status, provider.output()[-5000:])
    assert took < EXIT_WITHIN, took
