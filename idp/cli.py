"""The ``mam-idp`` console script: a Flask CLI group over ``idp.create_app``.

Every command that creates something accepts ``--json`` and then prints exactly
one JSON object on stdout; logs and warnings go to stderr.
"""

from __future__ import annotations

import json

import click
from flask import Flask
from flask.cli import FlaskGroup


def emit(as_json: bool, payload: dict, text: str) -> None:
    """Print ``payload`` as one JSON object, or ``text`` for people."""
    if as_json:
        click.echo(json.dumps(payload, sort_keys=True))
    else:
        click.echo(text)


def register_commands(app: Flask) -> None:
    """Commands are attached to the app so ``flask --app idp`` sees them too."""
    app.cli.add_command(mail_commands)


def _create_app(*_args, **_kwargs) -> Flask:
    from idp import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """Login with Miles & More: administer the identity provider."""


@click.group("mail")
def mail_commands() -> None:
    """Outgoing mail (email login codes)."""


@mail_commands.command("send")
@click.option("--limit", default=100, show_default=True, help="Send at most this many mails.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def send_mail(limit: int, as_json: bool) -> None:
    """Deliver the mails waiting in the outbox over IDP_SMTP_URL."""
    from flask import current_app

    from idp.services.errors import ServiceError
    from idp.services.mail import send_pending

    settings = current_app.config["IDP"]
    if not settings.smtp_url:
        raise click.ClickException("IDP_SMTP_URL is not set; mail stays in the outbox.")
    try:
        result = send_pending(settings.smtp_url, settings.mail_sender, limit=limit)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc
    emit(
        as_json,
        {"sent": result.sent, "failed": result.failed},
        f"{result.sent} sent, {result.failed} to be retried",
    )
