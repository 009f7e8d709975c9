"""Helpers for registration tests: initial access tokens, a partner's registration calls,
the table counts that show a refused request wrote nothing, and a small web server on
127.0.0.1 that publishes a sector identifier document."""

from __future__ import annotations

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import AuditEvent, Client, InitialAccessToken, Partner
from idp.services.dynamic_registration import issue_initial_access_token
from tests.factories import make_partner
from tests.oauth.conftest import other_app  # noqa: F401  (a second worker process)

REGISTER = "/oauth/register"
REDIRECT = "https://shop.example/callback"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def basic(client_id: str, secret: str) -> dict:
    raw = f"{client_id}:{secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def metadata(**fields) -> dict:
    document = {
        "client_name": "Shop",
        "redirect_uris": [REDIRECT],
        "scope": "openid profile email",
    }
    document.update(fields)
    return {k: v for k, v in document.items() if v is not None}


def counts(app) -> dict[str, int]:
    """Rows of every table a registration writes, and the uses counted on tokens."""
    with app.app_context():
        found = {
            model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Client, Partner, AuditEvent, InitialAccessToken)
        }
        found["uses"] = db.session.scalar(select(func.sum(InitialAccessToken.uses))) or 0
        return found


class Partners:
    """A partner's side of dynamic registration, over the test client."""

    def __init__(self, app, http):
        self.app = app
        self.http = http

    def partner(self, name: str = "Shop GmbH") -> str:
        with self.app.app_context():
            return make_partner(name, "partner_company").id

    def initial_token(self, partner_id: str | None = None, **options) -> str:
        with self.app.app_context():
            return issue_initial_access_token(partner_id, **options)

    def register(self, token: str, document, **kwargs):
        body = document if isinstance(document, (bytes, str)) else json.dumps(document)
        headers = bearer(token) if token is not None else {}
        headers.update(kwargs.pop("headers", {}))
        return self.http.post(
            REGISTER,
            data=body,
            headers=headers,
            content_type=kwargs.pop("content_type", "application/json"),
            **kwargs,
        )

    def registered(self, document=None, partner_id: str | None = None) -> dict:
        """A registered client's response (with a token of its own partner unless told)."""
        partner_id = partner_id or self.partner()
        response = self.register(self.initial_token(partner_id), document or metadata())
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def configure(self, method: str, uri: str, token: str, document=None):
        path = uri.removeprefix("http://127.0.0.1:5000")
        kwargs = {"headers": bearer(token)}
        if document is not None:
            kwargs.update(data=json.dumps(document), content_type="application/json")
        return self.http.open(path, method=method, **kwargs)


@pytest.fixture
def partners(app, client) -> Partners:
    return Partners(app, client)


class SectorServer:
    """Serves ``document`` (bytes or JSON) at ``/sector.json`` on a free loopback port."""

    def __init__(self):
        self.body: bytes = b"[]"
        self.status = 200
        self.headers: dict[str, str] = {}
        self.requests = 0
        self.delay = 0.0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (the standard library's name)
                outer.requests += 1
                time.sleep(outer.delay)
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                for name, value in outer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                try:
                    self.wfile.write(outer.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the provider stopped reading (too large, too slow): as it should

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/sector.json"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def publish(self, document, status: int = 200, **headers: str) -> str:
        self.body = document if isinstance(document, bytes) else json.dumps(document).encode()
        self.status = status
        self.headers = headers
        return self.url

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sector_server():
    server = SectorServer()
    yield server
    server.close()
