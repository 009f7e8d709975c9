"""``mam-idp analytics``: logins per partner and day (counts only, nobody's name)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from idp.cli.output import JSONCommand, emit, json_option


@click.command("analytics", cls=JSONCommand)
@with_appcontext
@click.option("--partner-id", required=True)
@click.option("--since", required=True, help="The first day, YYYY-MM-DD (UTC).")
@click.option("--until", default=None, help="The last day, YYYY-MM-DD; default today.")
@json_option
def analytics_command(as_json: bool, partner_id: str, since: str, until: str | None) -> None:
    """Logins, distinct members, new consents and withdrawals per day at one partner."""
    from idp.services import analytics

    first = analytics.parse_day(since, "since")
    last = analytics.parse_day(until, "until") if until is not None else None
    days = analytics.report(partner_id, first, last)
    lines = ["day         logins  members  consents  withdrawals"]
    lines += [
        f"{d.day.isoformat()}  {d.logins:6}  {d.members:7}  {d.new_consents:8}  {d.withdrawals:11}"
        for d in days
    ]
    emit(as_json, {"partner_id": partner_id, "days": [d.as_dict() for d in days]}, "\n".join(lines))
