"""Protocol endpoints are rate limited per address (IDP_API_RATE_LIMIT)."""

from __future__ import annotations

import pytest

from tests.conftest import make_test_app


@pytest.mark.usefixtures("app")  # the session database, migrated
def test_protocol_endpoints_answer_429_over_the_limit(database_url, tmp_path):
    # An app of its own with in-process counters, so no other test run can touch them.
    app = make_test_app(database_url, tmp_path / "instance", api_rate_limit="3/minute")
    http = app.test_client()
    statuses = [http.get("/.well-known/openid-configuration").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    statuses = [http.post("/oauth/token", data={}).status_code for _ in range(4)]
    assert statuses == [400, 400, 400, 429]
    other_address = http.post("/oauth/token", data={}, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other_address.status_code == 400
    limited = http.post("/oauth/token", data={})
    assert limited.headers["Cache-Control"] == "no-store"
    # RFC 9126 pushed authorization requests: a protocol endpoint like the others.
    statuses = [http.post("/oauth/par", data={}).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    assert http.post("/oauth/par", data={}).headers["Cache-Control"] == "no-store"
    # The authorization endpoint is visited by browsers: its 429 is a page.
    pages = [http.get("/oauth/authorize?client_id=x") for _ in range(4)]
    assert [p.status_code for p in pages] == [400, 400, 400, 429]
    assert pages[-1].mimetype == "text/html"
    assert 'role="alert"' in pages[-1].get_data(as_text=True)
