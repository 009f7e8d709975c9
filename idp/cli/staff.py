"""``mam-idp staff``: the members who may use the operator console (``/admin``)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from idp.cli.output import JSONCommand, emit, json_option

staff = AppGroup("staff", help="Miles & More staff: operators of the console.")


@staff.command("add", cls=JSONCommand)
@click.argument("member")
@click.option("--role", default="admin", show_default=True, help="admin, or auditor (reads only).")
@json_option
def add_staff_command(as_json: bool, member: str, role: str) -> None:
    """Make a member (id, email address or card number) an operator who may use /admin."""
    from idp.services.staff import add_staff

    found, added = add_staff(member, role)
    emit(
        as_json,
        {"member_id": found.id, "role": added.role},
        f"Member {found.id} is an operator ({added.role}).",
    )
