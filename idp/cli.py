"""The ``mam-idp`` console script: a Flask CLI group over ``idp.create_app``.

Every command that creates something accepts ``--json`` and then prints exactly
one JSON object on stdout; logs and warnings go to stderr.
"""

from __future__ import annotations

import json

import click
from flask import Flask
from flask.cli import AppGroup, FlaskGroup


def emit(as_json: bool, payload: dict, text: str) -> None:
    """Print ``payload`` as one JSON object, or ``text`` for people."""
    if as_json:
        click.echo(json.dumps(payload, sort_keys=True))
    else:
        click.echo(text)


def register_commands(app: Flask) -> None:
    """Commands are attached to the app so ``flask --app idp`` sees them too."""
    app.cli.add_command(notifications_group)


notifications_group = AppGroup(
    "notifications", help="Messages to partners' back-channel endpoints."
)


@notifications_group.command("send")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as one JSON object.")
def send_notifications(as_json: bool) -> None:
    """Make one delivery attempt at every partner notification that is due."""
    from idp.services.notifications import deliver_due

    counts = deliver_due()
    emit(
        as_json,
        counts,
        "delivered {delivered}, failed {failed}, abandoned {abandoned}, "
        "still pending {pending}".format(**counts),
    )


def _create_app(*_args, **_kwargs) -> Flask:
    from idp import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """Login with Miles & More: administer the identity provider."""
