"""Operations endpoints: /readyz checks the services, /metrics counts, Retry-After on 429 only."""

from __future__ import annotations

import re
import socket
import threading
import time

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.models import Consent
from tests.conftest import make_test_app
from tests.secret_journey import Browser, prepare


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nobody listens once the socket is closed


@pytest.fixture
def silent_server():
    """Accepts TCP connections and never answers a byte (a hung database or Redis)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted, stop = [], threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(2)
    for conn in accepted:
        conn.close()
    server.close()


@pytest.fixture
def restore_limiter(app):
    """The limiter is one global bound to the last app made: give it back to the suite's."""
    yield
    from idp.extensions import limiter

    limiter.init_app(app)


def _app_on(tmp_path, database_url: str, redis_url: str = ""):
    return make_test_app(database_url, tmp_path / "instance", redis_url)


def test_readyz_answers_ok_with_each_check(client, redis_url):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"] == ("ok" if redis_url else "not_configured")


@pytest.mark.usefixtures("app")
def test_readyz_is_not_rate_limited(database_url, tmp_path):
    app = make_test_app(database_url, tmp_path / "instance", api_rate_limit="2/minute")
    http = app.test_client()
    assert [http.get("/readyz").status_code for _ in range(5)] == [200] * 5
    assert [http.get("/healthz").status_code for _ in range(5)] == [200] * 5


@pytest.mark.usefixtures("restore_limiter")
def test_readyz_is_503_when_redis_is_down(database_url, tmp_path):
    app = _app_on(tmp_path, database_url, f"redis://127.0.0.1:{closed_port()}/0")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "redis": "failed"},
    }


def test_readyz_is_503_when_the_sqlite_file_cannot_be_opened(tmp_path):
    app = _app_on(tmp_path, f"sqlite:///{tmp_path / 'no' / 'such' / 'folder' / 'idp.sqlite3'}")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["database"] == "failed"
    assert app.test_client().get("/healthz").status_code == 200  # alive, not ready


def test_readyz_is_503_when_postgresql_refuses_connections(tmp_path):
    url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/idp"
    app = _app_on(tmp_path, url)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"] == {"database": "failed", "redis": "not_configured"}


def test_readyz_gives_up_on_a_service_that_never_answers(tmp_path, silent_server):
    url = f"postgresql+psycopg://postgres@127.0.0.1:{silent_server}/idp"
    app = _app_on(tmp_path, url)
    http = app.test_client()
    started = time.monotonic()
    response = http.get("/readyz")
    assert time.monotonic() - started < 4
    assert response.status_code == 503
    assert response.get_json()["checks"]["database"] == "timeout"
    # The hung check is joined, not started again: still quick, still 503.
    started = time.monotonic()
    assert http.get("/readyz").status_code == 503
    assert time.monotonic() - started < 4
    threads = [t for t in threading.enumerate() if t.name == "readiness-database"]
    assert len(threads) <= 1


@pytest.mark.usefixtures("restore_limiter")
def test_readyz_gives_up_on_a_redis_that_never_answers(database_url, tmp_path, silent_server):
    app = _app_on(tmp_path, database_url, f"redis://127.0.0.1:{silent_server}/0")
    started = time.monotonic()
    response = app.test_client().get("/readyz")
    assert time.monotonic() - started < 4
    assert response.status_code == 503
    assert response.get_json()["checks"]["redis"] in ("timeout", "failed")


# -- /metrics -----------------------------------------------------------------------


def sample(text: str, name: str, **labels) -> float:
    """The value of one series in Prometheus text (0 when it is not there yet)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        match = re.fullmatch(r"([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)", line)
        if not match or match.group(1) != name:
            continue
        found = ",".join(sorted(filter(None, (match.group(2) or "").split(","))))
        if found == wanted:
            return float(match.group(3))
    return 0.0


def scrape(http) -> str:
    response = http.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_data(as_text=True)


def test_metrics_count_requests_per_endpoint_and_status(client):
    before = scrape(client)
    for _ in range(3):
        client.get("/.well-known/openid-configuration")
    client.get("/no-such-page/abc123")
    client.post("/oauth/token", data={})
    after = scrape(client)
    name = "mam_idp_http_requests_total"
    labels = dict(endpoint="oauth.discovery", method="GET", status="200")
    assert sample(after, name, **labels) - sample(before, name, **labels) == 3
    unmatched = dict(endpoint="none", method="GET", status="404")
    assert sample(after, name, **unmatched) - sample(before, name, **unmatched) == 1
    refused = dict(endpoint="oauth.token", method="POST", status="400")
    assert sample(after, name, **refused) - sample(before, name, **refused) == 1
    histogram = "mam_idp_http_request_duration_seconds_count"
    discovery = dict(endpoint="oauth.discovery", method="GET")
    assert sample(after, histogram, **discovery) - sample(before, histogram, **discovery) == 3
    assert "abc123" not in after  # never the raw path


def test_made_up_methods_do_not_add_series(client):
    before = scrape(client)
    assert client.open("/healthz", method="BREW").status_code == 405
    text = scrape(client)
    assert "BREW" not in text
    series = dict(endpoint="none", method="other", status="405")
    assert (
        sample(text, "mam_idp_http_requests_total", **series)
        - sample(before, "mam_idp_http_requests_total", **series)
        == 1
    )


def test_metrics_count_logins_tokens_consents_and_withdrawals(app, client):
    before = scrape(client)
    journey = prepare(app)
    journey.run(Browser(client=app.test_client()))
    with app.app_context():
        from idp.services.registration import get_client
        from idp.services.withdrawal import withdraw_partner_access

        found = get_client(journey.client_id)
        member_id = db.session.scalar(select(Consent.member_id).filter_by(client_id=found.id))
        withdraw_partner_access(member_id, found.partner_id, actor="member")
    after = scrape(client)

    def moved(name, **labels):
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert moved("mam_idp_logins_total", outcome="succeeded") == 1
    assert moved("mam_idp_logins_total", outcome="password_failed") == 1
    assert moved("mam_idp_logins_total", outcome="second_factor_failed") == 1
    assert moved("mam_idp_tokens_issued_total", grant_type="authorization_code") == 1
    assert moved("mam_idp_tokens_issued_total", grant_type="refresh_token") == 1
    assert moved("mam_idp_tokens_revoked_total", token_type="refresh_token") == 1
    assert moved("mam_idp_consents_total", decision="granted") == 1
    assert moved("mam_idp_consent_withdrawals_total") == 1
    assert sample(after, "mam_idp_mail", state="pending") >= 0
    assert "mam_idp_partner_notifications" in after


def test_lockouts_are_counted(app, client):
    from tests.factories import make_member
    from tests.login_flow import enter_password

    with app.app_context():
        member, _, _ = make_member()
        email = member.email
    before = scrape(client)
    threshold = app.config["IDP"].lockout_threshold
    statuses = [
        enter_password(client, email, f"wrong {i}").status_code for i in range(threshold + 1)
    ]
    assert statuses[-1] == 429
    after = scrape(client)
    assert sample(after, "mam_idp_lockouts_total") - sample(before, "mam_idp_lockouts_total") == 1
    refused = dict(outcome="refused_locked")
    assert (
        sample(after, "mam_idp_logins_total", **refused)
        - sample(before, "mam_idp_logins_total", **refused)
        == 1
    )


def test_rolled_back_events_are_not_counted(app, client):
    from idp.services import audit

    before = scrape(client)
    with app.app_context():
        audit.record("login.locked", member_id=None, until="never")
        db.session.rollback()
        audit.record("login.locked", member_id=None, until="now")
        db.session.commit()
    after = scrape(client)
    assert sample(after, "mam_idp_lockouts_total") - sample(before, "mam_idp_lockouts_total") == 1


@pytest.mark.usefixtures("app")
def test_metrics_are_not_rate_limited(database_url, tmp_path):
    app = make_test_app(database_url, tmp_path / "instance", api_rate_limit="2/minute")
    http = app.test_client()
    assert [http.get("/metrics").status_code for _ in range(4)] == [200] * 4


# -- Retry-After -------------------------------------------------------------------------


@pytest.mark.usefixtures("app")  # the session database, migrated
def test_retry_after_only_on_429(database_url, tmp_path):
    app = make_test_app(database_url, tmp_path / "instance", api_rate_limit="2/minute")
    http = app.test_client()
    answers = [http.get("/.well-known/openid-configuration") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    for ok in answers[:2]:
        assert "Retry-After" not in ok.headers
        assert ok.headers["X-RateLimit-Limit"] == "2"  # the limit itself is still announced
    assert 0 < int(answers[2].headers["Retry-After"]) <= 60
    assert (
        "Retry-After"
        not in http.post("/oauth/token", data={}, environ_base={"REMOTE_ADDR": "10.1.1.1"}).headers
    )
    assert "Retry-After" not in http.get("/login").headers


def test_mail_and_partner_notifications_are_counted_by_state(app, client):
    from idp.services import notifications
    from idp.services.backchannel_logout import logout_claims
    from idp.services.mail import queue_mail, send_pending
    from tests.factories import make_client, make_member

    def figures():
        text = scrape(client)
        mail = {s: sample(text, "mam_idp_mail", state=s) for s in ("pending", "retrying", "sent")}
        notes = {
            s: sample(text, "mam_idp_partner_notifications", state=s)
            for s in ("pending", "retrying", "delivered", "abandoned")
        }
        return mail, notes

    mail_before, notes_before = figures()
    dead = f"127.0.0.1:{closed_port()}"
    with app.app_context():
        queue_mail("member@example.com", "Your code", "123456", "email_code")
        queue_mail("member@example.com", "Your code", "654321", "email_code")
        db.session.commit()
        member = make_member()[0]
        partner, _ = make_client(backchannel_logout_uri=f"http://{dead}/logout")
        row = notifications.queue(
            partner,
            "backchannel_logout",
            logout_claims(partner, member, "s" * 32),
            url=partner.backchannel_logout_uri,
        )
        db.session.commit()
        row_id = row.id
    mail_queued, notes_queued = figures()
    assert mail_queued["pending"] - mail_before["pending"] == 2
    assert notes_queued["pending"] - notes_before["pending"] == 1

    with app.app_context():
        assert send_pending(f"smtp://{dead}", "idp@example.com", limit=1).failed == 1
        assert notifications.deliver(row_id).status == "failed"
    mail_after, notes_after = figures()
    assert mail_after["pending"] - mail_before["pending"] == 1
    assert mail_after["retrying"] - mail_before["retrying"] == 1
    assert notes_after["pending"] == notes_before["pending"]
    assert notes_after["retrying"] - notes_before["retrying"] == 1
