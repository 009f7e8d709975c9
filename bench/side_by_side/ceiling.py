"""What the production server itself can serve on this machine, with no provider in it.

``mam-idp serve`` runs gunicorn with the settings of ``idp.serve.server_options``.
Two applications under exactly those settings show what a request costs before
the provider does anything: a bare WSGI callable answering the discovery
document's bytes, and an empty Flask view answering the same bytes. Their rates
bound discovery and JWKS from above; when the peer is faster than the bare
callable, no Python application under this server can reach 1.0× there.

Run as ``python -m bench.side_by_side.ceiling --app wsgi|flask --port P
--workers N --body FILE``; ``measure`` starts each, loads it with wrk and stops it.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.side_by_side import load
from bench.side_by_side.processes import Cleanup, Running, free_port, wait_until

APPS = ("wsgi", "flask")


def wsgi_app(body: bytes):
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]

    def application(_environ, start_response):
        start_response("200 OK", headers)
        return [body]

    return application


def flask_app(body: bytes):
    from flask import Flask

    app = Flask(__name__)

    @app.get("/")
    def document():
        return app.response_class(body, mimetype="application/json")

    return app


@dataclass
class Ceiling:
    """One of the applications, served like ours, seen by ``load.wrk`` as a side."""

    name: str
    url: str
    running: Running


def measure(args, workdir: Path, body: bytes, cleanup: Cleanup) -> dict:
    """Req/s, p99 and CPU per request of each application under wrk."""
    body_file = workdir / "ceiling-body.json"
    body_file.write_bytes(body)
    results = {}
    for app in APPS:
        port = free_port()
        running = cleanup.start(
            f"ceiling {app}",
            [sys.executable, "-m", "bench.side_by_side.ceiling", "--app", app, "--port", str(port),
             "--workers", str(args.workers), "--body", str(body_file)],
            workdir / f"ceiling-{app}.log", _environment(), Path(__file__).parents[2],
        )
        side = Ceiling(app, f"http://127.0.0.1:{port}", running)
        request = load.Request("GET", f"{side.url}/", "", {})
        wait_until(lambda s=side: _answers(s), running, timeout=60)
        if args.warmup:
            load.wrk(side, request, args.threads, args.connections, args.warmup)
        results[app] = load.wrk(side, request, args.threads, args.connections, args.duration).as_dict()
        running.stop()
    return results


def _answers(side: Ceiling) -> bool:
    from bench.side_by_side.browser import Browser

    return Browser(side.url, timeout=2).get("/").status == 200


def _environment() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith(("IDP_", "FLASK_"))}


def main(argv: list[str] | None = None) -> None:
    from idp.serve import DEFAULT_THREADS, ProductionServer, server_options

    parser = argparse.ArgumentParser(prog="python -m bench.side_by_side.ceiling")
    parser.add_argument("--app", choices=APPS, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--body", type=Path, required=True)
    args = parser.parse_args(argv)
    body = args.body.read_bytes()
    make = wsgi_app if args.app == "wsgi" else flask_app
    options = server_options("127.0.0.1", args.port, args.workers, DEFAULT_THREADS)
    ProductionServer(lambda: make(body), options).run()


if __name__ == "__main__":
    main()
