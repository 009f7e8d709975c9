"""Every ``mam-idp`` command, attached to an app by ``create_app``."""

from __future__ import annotations

from flask import Flask

from idp.cli import approval as _approval_commands  # noqa: F401  (adds to clients)
from idp.cli.analytics import analytics_command
from idp.cli.clients import clients
from idp.cli.keys import keys
from idp.cli.members import members
from idp.cli.operations import (
    demo_command,
    mail_commands,
    notifications_group,
    purge_command,
    serve_command,
    worker_command,
)
from idp.cli.partners import partners
from idp.cli.staff import staff


def register_commands(app: Flask) -> None:
    """Commands are attached to the app so ``flask --app idp`` sees them too."""
    for command in (
        members,
        partners,
        clients,
        keys,
        demo_command,
        serve_command,
        worker_command,
        purge_command,
        mail_commands,
        notifications_group,
        staff,
        analytics_command,
    ):
        app.cli.add_command(command)
