"""``mam-idp demo`` with its airline: a second instance as Lufthansa's ID service, at which
the printed demo member links the printed profile, logs in with it, and unlinks it."""

from __future__ import annotations

import time

import pyotp
import pytest
import requests

from idp.demo import AIRLINE_FOLDER
from idp.extensions import db
from idp.services.demo_airline import CLIENT_FILE
from tests.conftest import make_test_app
from tests.linking.conftest import path_of
from tests.linking.upstream import drive_upstream
from tests.live.journey import log_in
from tests.live.server import SCRIPT, live_demo
from tests.login_flow import csrf_token


@pytest.fixture
def fresh_app(tmp_path):
    app = make_test_app(f"sqlite:///{tmp_path / 'demo.sqlite3'}", tmp_path / "instance")
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_demo_configures_its_airline_once_and_keeps_its_secret(fresh_app, tmp_path):
    runner = fresh_app.test_cli_runner()
    first = runner.invoke(args=["demo", "--no-serve", "--airline-port", "5002"])
    assert first.exit_code == 0, first.output
    [upstream] = fresh_app.config["IDP"].lhg_providers
    assert (upstream["airline"], upstream["issuer"]) == ("lufthansa", "http://localhost:5002")
    assert "Profile TOTP key" in first.stdout and "http://localhost:5002" in first.stdout
    folder = tmp_path / "instance" / AIRLINE_FOLDER
    assert (folder / "idp.sqlite3").exists()
    assert (folder / CLIENT_FILE).stat().st_mode & 0o777 == 0o600
    again = runner.invoke(args=["demo", "--no-serve", "--airline-port", "5002"])
    assert again.exit_code == 0, again.output
    assert fresh_app.config["IDP"].lhg_providers == (upstream,)


def test_no_airline_when_told_so(fresh_app):
    result = fresh_app.test_cli_runner().invoke(args=["demo", "--no-serve", "--airline-port", "0"])
    assert result.exit_code == 0, result.output
    assert fresh_app.config["IDP"].lhg_providers == ()
    assert "Profile TOTP key" not in result.stdout


@pytest.mark.skipif(not SCRIPT.exists(), reason="mam-idp is not installed")
def test_the_demo_member_links_the_printed_profile_and_logs_in_with_it(tmp_path):
    with live_demo(tmp_path) as demo:
        printed = demo.credentials()
        airline_url = printed["Airline ID service"]
        assert airline_url == f"http://localhost:{demo.airline_port}"
        profile = {"email": printed["Profile email"], "password": printed["Profile password"],
                   "key": printed["Profile TOTP key"]}
        with requests.Session() as http:
            login_page = http.get(demo.url + "/login?next=/account/linked-profiles", timeout=10)
            linked_page = log_in(http, login_page, printed["Email"], printed["Password"],
                                 pyotp.TOTP(printed["TOTP key"]).now())
            assert linked_page.url == demo.url + "/account/linked-profiles"
            started = http.post(demo.url + "/account/linked-profiles/lufthansa/link",
                                data={"csrf_token": csrf_token(linked_page.text)},
                                allow_redirects=False, timeout=10)
            assert started.status_code == 303 and started.headers["Location"].startswith(airline_url)
            back = drive_upstream(http, started.headers["Location"], profile, demo.url)
            linked = http.get(demo.url + path_of(back), timeout=30)
            assert "Your Lufthansa profile is linked." in linked.text

            # Logged out, then in with the profile: the Miles & More code is still asked.
            http.post(demo.url + "/logout", data={"csrf_token": csrf_token(linked.text)},
                      timeout=10)
            login_page = http.get(demo.url + "/login", timeout=10)
            assert "Log in with Lufthansa" in login_page.text
            started = http.post(demo.url + "/login/with/lufthansa",
                                data={"csrf_token": csrf_token(login_page.text)},
                                allow_redirects=False, timeout=10)
            back = drive_upstream(http, started.headers["Location"], None, demo.url)
            verify = http.get(demo.url + path_of(back), timeout=30)
            assert verify.url == demo.url + "/login/verify"
            code = pyotp.TOTP(printed["TOTP key"]).at(time.time() + 30)
            account = http.post(verify.url, data={"code": code,
                                                  "csrf_token": csrf_token(verify.text)}, timeout=10)
            assert account.url == demo.url + "/account"

            page = http.get(demo.url + "/account/linked-profiles", timeout=10)
            unlinked = http.post(demo.url + "/account/linked-profiles/lufthansa/unlink",
                                 data={"csrf_token": csrf_token(page.text)}, timeout=10)
            assert "Your Lufthansa profile is unlinked" in unlinked.text
        assert demo.stop() == 0, demo.output()
