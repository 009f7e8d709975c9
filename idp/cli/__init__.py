"""The ``mam-idp`` console script: a Flask CLI group over ``idp.create_app``.

``main`` is the console entry point. The commands are attached to every app by
``create_app`` (``commands.register_commands``), so ``flask --app idp`` and the
test CLI runner see them too: one module per command group (``members``,
``partners``, ``clients``, ``keys``, and ``operations`` for serving, the
worker, purging, the demo and the outboxes). ``output`` holds what they share: one JSON object per command with ``--json``,
refusals as ``{"error", "error_description", "field"}`` with exit status 1 (2
for a usage error, 78 for bad configuration).
"""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import FlaskGroup, ScriptInfo

from idp.app import create_app
from idp.cli.output import EXIT_CONFIG, emit_error


def _create_app(*_args, **_kwargs) -> Flask:
    from idp.config import ConfigError

    try:
        return create_app()
    except ConfigError as exc:
        # A clear refusal, not a traceback: the operator fixes the environment.
        if "--json" in sys.argv[1:]:
            emit_error("configuration", str(exc), None)
        click.echo(f"Error: the configuration is not usable: {exc}", err=True)
        raise SystemExit(EXIT_CONFIG) from None


#: Seconds a command waits, before it exits, for the partner notifications it queued.
NOTIFICATION_WAIT = 15.0


def _send_queued_notifications(ctx: click.Context) -> None:
    """A command that queued notifications tries them before the process exits (the
    delivery threads are daemon threads); what is not sent stays in the outbox."""
    app = getattr(ctx.find_object(ScriptInfo), "_loaded_app", None)
    if app is not None:
        from idp.services.notifications import stop_delivery

        stop_delivery(app, NOTIFICATION_WAIT, finish_queued=True)


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
@click.pass_context
def main(ctx: click.Context) -> None:
    """Login with Miles & More: administer the identity provider."""
    ctx.call_on_close(lambda: _send_queued_notifications(ctx))
