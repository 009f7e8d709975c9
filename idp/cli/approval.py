"""``mam-idp clients reject|suspend|reinstate``: the operator's side of the approval workflow.

These join the ``clients`` group; ``clients approve`` is there already.
"""

from __future__ import annotations

import click

from idp.cli.clients import clients
from idp.cli.output import JSONCommand, emit, json_option


@clients.command("reject", cls=JSONCommand)
@click.argument("client_id")
@click.option("--reason", required=True, help="Shown to the partner's developers.")
@json_option
def reject_client_command(as_json: bool, client_id: str, reason: str) -> None:
    """Refuse a client submitted for approval; the developers see the reason."""
    from idp.services.approval import reject

    client = reject(client_id, reason)
    emit(
        as_json,
        {"client_id": client.client_id, "approved": False},
        f"Client {client.client_id} is rejected.",
    )


@clients.command("suspend", cls=JSONCommand)
@click.argument("client_id")
@click.option("--reason", required=True, help="Why the client may no longer be used.")
@json_option
def suspend_client_command(as_json: bool, client_id: str, reason: str) -> None:
    """Refuse a client everywhere and revoke all its tokens at once; the partner is notified."""
    from idp.services.approval import suspend

    done = suspend(client_id, reason)
    emit(
        as_json,
        {
            "client_id": client_id,
            "suspended": True,
            "tokens_revoked": done.tokens_revoked,
            "notifications_queued": done.notifications_queued,
        },
        f"Client {client_id} is suspended: {done.tokens_revoked} token(s) revoked, "
        f"{done.notifications_queued} notification(s) queued.",
    )


@clients.command("reinstate", cls=JSONCommand)
@click.argument("client_id")
@json_option
def reinstate_client_command(as_json: bool, client_id: str) -> None:
    """End a client's suspension (its revoked tokens stay revoked)."""
    from idp.services.approval import reinstate

    client = reinstate(client_id)
    emit(
        as_json,
        {"client_id": client.client_id, "suspended": False},
        f"Client {client.client_id} is reinstated.",
    )
