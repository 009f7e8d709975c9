"""``make demo`` as a new member meets it: ``mam-idp demo`` in a subprocess, driven over HTTP.

The printed member logs in at the demo partner website with the printed
password and a TOTP code from the printed key, allows access, and comes back to
the partner, which shows the miles it fetched. The demo is then stopped and
started again on the same instance folder, and the member logs in again (the
consent is remembered). Eight more members (made with ``mam-idp members
create``, eight commands in one process) log in at once.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pyotp
import pytest
import requests

from tests.live.journey import allow, log_in
from tests.live.server import SCRIPT, live_demo
from tests.login_flow import totp_code

pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="mam-idp is not installed")

#: Runs ``mam-idp`` commands (a JSON list of argument lists on stdin) in one process,
#: each as the console script would, stopping at the first that fails.
RUN_COMMANDS = """
import json, sys
from click.testing import CliRunner
from idp.cli import main
for args in json.load(sys.stdin):
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    sys.stdout.write(result.stdout)
    if result.exit_code:
        sys.stderr.write(result.stderr)
        sys.exit(result.exit_code)
"""


def _round_trip(
    demo, printed: dict[str, str], steps_ahead: int, consent_asked: bool
) -> requests.Response:
    with requests.Session() as http:
        home = http.get(demo.partner_url + "/", timeout=10)
        assert home.status_code == 200 and "Sign in to Demo Partner Shop" in home.text
        login_page = http.post(demo.partner_url + "/login", timeout=10)
        assert login_page.status_code == 200, login_page.text[:500]
        assert login_page.url.startswith(demo.url + "/login")
        consent = log_in(
            http,
            login_page,
            printed["Email"],
            printed["Password"],
            totp_code(printed["TOTP key"], steps_ahead),
        )
        # The consent given once is remembered: the member is not asked again.
        back = allow(http, consent) if consent_asked else consent
        # Every page and request of the journey answered without a server error.
        for response in [home, login_page, consent, back, *consent.history, *back.history]:
            assert response.status_code < 500, (response.url, response.text[:500])
        return back


def test_the_printed_member_logs_in_at_the_partner_and_again_after_a_restart(tmp_path):
    with live_demo(tmp_path) as demo:
        printed = demo.credentials()
        assert printed["Provider"] == demo.url
        assert printed["Demo partner website"] == demo.partner_url + "/"
        assert pyotp.TOTP(printed["TOTP key"]).now().isdigit()

        back = _round_trip(demo, printed, steps_ahead=0, consent_asked=True)
        assert back.url == demo.partner_url + "/"
        assert "Welcome, Erika" in back.text
        assert "48,250 miles" in back.text
        assert printed["Email"] in back.text and printed["Card number"] in back.text

        assert demo.stop() == 0, demo.output()
        demo.start()
        again = demo.credentials()
        assert again["Password"] == printed["Password"]
        assert again["TOTP key"] == printed["TOTP key"]
        assert again["client_id"] == printed["client_id"]
        # A used time step is refused (RFC 6238 §5.2): the next one is within the window.
        back = _round_trip(demo, again, steps_ahead=1, consent_asked=False)
        assert back.url == demo.partner_url + "/"
        assert "48,250 miles" in back.text
    assert "Traceback" not in demo.output()


def test_eight_members_log_in_at_the_demo_partner_at_once(tmp_path):
    with live_demo(tmp_path) as demo:
        members = [
            (f"member{i}@demo.example", f"password of member {i}", pyotp.random_base32(), 1000 + i)
            for i in range(8)
        ]
        commands = [
            [
                "members",
                "create",
                "--json",
                "--email",
                email,
                "--password",
                password,
                "--given-name",
                f"Member{i}",
                "--family-name",
                "Demo",
                "--miles",
                str(miles),
                "--totp-secret",
                key,
            ]
            for i, (email, password, key, miles) in enumerate(members)
        ]
        # One process runs the eight commands: the same commands, one interpreter start.
        made = subprocess.run(
            [sys.executable, "-c", RUN_COMMANDS],
            input=json.dumps(commands),
            cwd=tmp_path,
            env=demo.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert made.returncode == 0, made.stdout + made.stderr
        created = [json.loads(line) for line in made.stdout.splitlines()]
        assert len(created) == 8 and all(c["totp_secret"] for c in created)

        def journey(email, password, key):
            with requests.Session() as http:
                login_page = http.post(demo.partner_url + "/login", timeout=30)
                consent = log_in(http, login_page, email, password, totp_code(key))
                back = allow(http, consent)
                history = [
                    login_page,
                    *login_page.history,
                    consent,
                    *consent.history,
                    back,
                    *back.history,
                ]
                return back, [r.status_code for r in history]

        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(lambda m: journey(*m[:3]), members))
        for (back, statuses), (_email, _password, _key, miles) in zip(
            results, members, strict=True
        ):
            assert all(status < 500 for status in statuses), statuses
            assert back.url == demo.partner_url + "/"
            assert f"{miles:,} miles" in back.text
    assert "Traceback" not in demo.output()
