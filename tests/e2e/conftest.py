"""Browser tests: the provider served on a free loopback port, driven by Debian's chromium.

Each module gets a server with a database of its own (migrated, not rolled
back: the browser and the server share it across requests). The browser
fixtures themselves are in ``tests/browser.py``, one for the whole run.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass

import pytest
from flask import Flask
from werkzeug.serving import make_server

from examples.partner import create_partner_app
from idp.extensions import db
from idp.services.demo import seed_demo
from tests.conftest import make_test_app, migrated_sqlite

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _transaction():
    """Browser tests share the live server's database; nothing to roll back."""
    yield


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    app: Flask
    url: str

    def app_context(self):
        return self.app.app_context()


def serve(app: Flask, port: int):
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """The provider on ``http://127.0.0.1:<free port>``, its issuer set to match."""
    port = free_port()
    tmp = tmp_path_factory.mktemp("live")
    app = make_test_app(
        migrated_sqlite(tmp / "live.sqlite3"),
        tmp / "instance",
        issuer=f"http://127.0.0.1:{port}",
    )
    server, thread = serve(app, port)
    yield LiveServer(app=app, url=f"http://127.0.0.1:{port}")
    server.shutdown()
    thread.join(timeout=5)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def partner_site(live_server):
    """The demo partner website on a port of its own, registered at ``live_server``."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with live_server.app_context():
        seed = seed_demo(live_server.app.config["IDP"].instance_path, partner_url=url)
    app = create_partner_app(
        issuer=live_server.url,
        client_id=seed.client_id,
        client_secret=seed.client_secret,
        redirect_uri=seed.redirect_uri,
    )
    server, thread = serve(app, port)
    yield url, seed
    server.shutdown()
    thread.join(timeout=5)
