"""``mam-idp demo``: migrate, seed, print the demo member's credentials, serve both sites.

The provider listens on 127.0.0.1:5000 and the demo partner website
(``examples.partner``) on 127.0.0.1:5001 (``--port``, ``--partner-port``), each
with werkzeug's threaded server. The issuer follows ``--port`` unless
``IDP_ISSUER`` names another one.

Unless ``IDP_LHG_PROVIDERS`` is set (or ``--airline-port 0``), a second instance
of the provider serves as Lufthansa's ID service on port 5002, with its own
instance folder (``<instance>/lufthansa-id``) and database, and is configured
as this provider's upstream, so the demo member can link a profile there. Its
issuer is ``http://localhost:5002``, not 127.0.0.1: browsers keep cookies per
host, not per port, and both instances name their session cookie alike.

The command's own application context ends its database session before
serving: a transaction left open there (on SQLite, a lock on the file) would
make the first login wait and fail.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import replace
from urllib.parse import urlsplit

import click
import pyotp
from flask import Flask, current_app
from flask_migrate import upgrade
from werkzeug.serving import make_server

from idp.config import Settings, check_providers, load_settings
from idp.extensions import db
from idp.services import notifications
from idp.services.demo import DemoSeed, seed_demo
from idp.services.demo_airline import AIRLINE, AirlineSeed, seed_airline

HOST = "127.0.0.1"
PROVIDER_PORT = 5000
PARTNER_PORT = 5001
AIRLINE_PORT = 5002
#: The airline instance's folder inside the provider's instance folder.
AIRLINE_FOLDER = "lufthansa-id"
TOTP_ISSUER = "Miles & More"
#: How often the servers look for a stop request (seconds); Ctrl+C takes about that long.
POLL_INTERVAL = 0.1
#: Seconds partner notifications under way get to finish after Ctrl+C.
SHUTDOWN_GRACE = 2.0


def run_demo(
    serve: bool = True,
    port: int = PROVIDER_PORT,
    partner_port: int = PARTNER_PORT,
    airline_port: int = AIRLINE_PORT,
) -> None:
    app = current_app._get_current_object()
    provider_url = f"http://{HOST}:{port}"
    settings = app.config["IDP"]
    if settings.issuer == Settings.issuer and provider_url != Settings.issuer:
        settings = replace(settings, issuer=provider_url)
        app.config["IDP"] = settings
    upgrade()
    seed = seed_demo(settings.instance_path, f"http://{HOST}:{partner_port}")
    # Nothing of the seeding may stay open while the servers' threads write.
    db.session.remove()
    partner_app = load_partner_app(settings.issuer, seed)
    airline = load_airline(app, airline_port) if not settings.lhg_providers else None
    print_credentials(seed, settings.issuer, partner_available=partner_app is not None)
    if airline is not None:
        print_airline(airline[1], airline[0].config["IDP"].issuer)
    if settings.issuer != provider_url:
        click.echo(
            f"Warning: IDP_ISSUER is {settings.issuer}, but the demo serves {provider_url}.",
            err=True,
        )
    if serve:
        extra = [(airline[0], airline_port)] if airline is not None else []
        serve_demo(app, partner_app, port, partner_port, extra)


def load_airline(app: Flask, airline_port: int) -> tuple[Flask, AirlineSeed] | None:
    """The demo airline's ID service, migrated and seeded, and configured as the upstream.

    ``None`` with ``airline_port`` 0. The airline reads no ``IDP_*`` setting of the
    environment (it has its own folder, database and issuer); it shares the data
    keys, which this process holds once.
    """
    if not airline_port:
        return None
    settings = app.config["IDP"]
    folder = settings.instance_path / AIRLINE_FOLDER
    airline_settings = load_settings(
        environ={},
        instance_path=folder,
        issuer=f"http://localhost:{airline_port}",
        data_keys=settings.data_keys,
    )
    airline = app.extensions["idp.create_app"](airline_settings)
    with airline.app_context():
        upgrade()
        seed = seed_airline(folder, settings.issuer)
        db.session.remove()
    upstream = {
        "airline": AIRLINE,
        "issuer": airline_settings.issuer,
        "client_id": seed.client_id,
        "client_secret": seed.client_secret,
    }
    app.config["IDP"] = replace(settings, lhg_providers=check_providers([upstream]))
    return airline, seed


def print_airline(seed: AirlineSeed, issuer: str) -> None:
    lines = [
        "Lufthansa ID service (a second instance, for Linked profiles)",
        f"  Airline ID service    {issuer}",
        f"  Profile email         {seed.profile_email}",
        f"  Profile password      {seed.profile_password}",
        f"  Profile TOTP key      {seed.totp_secret}",
        "",
        "Link it under Linked profiles in the account, then use Log in with Lufthansa.",
        "",
    ]
    click.echo("\n".join(lines))
    sys.stdout.flush()


def load_partner_app(issuer: str, seed: DemoSeed) -> Flask | None:
    """The demo partner website, or ``None`` when this installation does not ship it."""
    try:
        from examples.partner import create_partner_app
    except ModuleNotFoundError as exc:
        if exc.name not in ("examples", "examples.partner"):
            raise
        return None
    return create_partner_app(
        issuer=issuer,
        client_id=seed.client_id,
        client_secret=seed.client_secret,
        redirect_uri=seed.redirect_uri,
    )


def otpauth_uri(seed: DemoSeed) -> str:
    return pyotp.TOTP(seed.totp_secret).provisioning_uri(name=seed.email, issuer_name=TOTP_ISSUER)


def print_credentials(seed: DemoSeed, issuer: str, partner_available: bool) -> None:
    partner_url = urlsplit(seed.redirect_uri)._replace(path="/").geturl()
    lines = [
        "Login with Miles & More: demo",
        "",
        f"  Provider              {issuer}",
        (
            f"  Demo partner website  {partner_url}"
            if partner_available
            else "  Demo partner website  unavailable (examples/partner.py is not installed)"
        ),
        "",
        "Demo member",
        f"  Email                 {seed.email}",
        f"  Card number           {seed.card_number}",
        f"  Password              {seed.password}",
        f"  TOTP key              {seed.totp_secret}",
        f"  otpauth URI           {otpauth_uri(seed)}",
        "",
        "Add the TOTP key to an authenticator app (RFC 6238, SHA-1, 6 digits, 30 s),",
        "or print a current code with:",
        f"  .venv/bin/python -c \"import pyotp; print(pyotp.TOTP('{seed.totp_secret}').now())\"",
        "",
        "Demo partner client",
        f"  client_id             {seed.client_id}",
        f"  redirect URI          {seed.redirect_uri}",
        "",
    ]
    click.echo("\n".join(lines))
    if sys.stdout.isatty():
        import segno

        segno.make(otpauth_uri(seed), error="m").terminal(compact=True)
    # Piped into a file or ``tee``, the credentials must not wait in a buffer while we serve.
    sys.stdout.flush()


def serve_demo(
    provider: Flask,
    partner: Flask | None,
    port: int = PROVIDER_PORT,
    partner_port: int = PARTNER_PORT,
    extra: list[tuple[Flask, int]] = (),
) -> None:
    """Serve until interrupted; a port already in use is a clear error, not a traceback."""
    servers = []
    try:
        servers.append(make_server(HOST, port, provider, threaded=True))
        if partner is not None:
            servers.append(make_server(HOST, partner_port, partner, threaded=True))
        for other, other_port in extra:
            servers.append(make_server(HOST, other_port, other, threaded=True))
    except OSError as exc:
        for server in servers:
            server.server_close()
        raise click.ClickException(
            f"Cannot listen ({exc.strerror}); is another demo running on ports "
            f"{'/'.join(str(p) for p in [port, partner_port, *(p for _, p in extra)])}?"
        ) from exc
    threads = [
        threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": POLL_INTERVAL},
            daemon=True,
            name=f"demo-{i}",
        )
        for i, server in enumerate(servers[1:], start=1)
    ]
    for thread in threads:
        thread.start()
    click.echo("Serving; press Ctrl+C to stop.", err=True)
    try:
        servers[0].serve_forever(poll_interval=POLL_INTERVAL)
    except KeyboardInterrupt:
        pass
    finally:
        stop_demo(servers, [provider, *(other for other, _ in extra)])


def stop_demo(servers: list, apps: list[Flask], grace: float = SHUTDOWN_GRACE) -> None:
    """Stop serving at once, then give partner notifications under way ``grace`` seconds.

    The listening sockets close first, so that nothing new arrives and a request
    one site makes to another is refused instead of waiting. Request threads are
    daemon threads (werkzeug's), and so are the notification delivery threads:
    exiting never waits for a browser's idle connection or for a partner that does
    not answer. Notifications not sent by then stay due in the outbox, for
    ``mam-idp worker``.
    """
    for server in servers[1:]:
        server.shutdown()
    for server in servers:
        server.server_close()
    deadline = time.monotonic() + grace
    for app in apps:
        if not notifications.stop_delivery(app, max(0.0, deadline - time.monotonic())):
            click.echo(
                "Partner notifications not yet sent stay in the outbox for mam-idp worker.",
                err=True,
            )
