"""What every ``mam-idp`` command prints: one JSON object or a line for people.

Every command that creates something accepts ``--json`` and then prints exactly
one JSON object on stdout; logs and warnings go to stderr. A refusal prints
``{"error": code, "error_description": message, "field": name or null}``
instead and exits with status 1 (2 for a usage error, 78 for bad configuration).
"""

from __future__ import annotations

import json

import click

#: sysexits.h EX_CONFIG: the configuration does not let the provider start.
EXIT_CONFIG = 78


def emit(as_json: bool, payload: dict, text: str) -> None:
    """Print ``payload`` as one JSON object, or ``text`` for people."""
    if as_json:
        click.echo(json.dumps(payload, sort_keys=True))
    else:
        click.echo(text)


def emit_error(code: str, message: str, field: str | None) -> None:
    click.echo(
        json.dumps({"error": code, "error_description": message, "field": field}, sort_keys=True)
    )


class JSONCommand(click.Command):
    """A command whose ``--json`` output stays one JSON object, refusals included.

    Refusals of the services (``ServiceError``) exit with status 1 after
    rolling back, so nothing of a refused command is written.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["json"] = "--json" in args
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            if ctx.meta["json"]:
                param = getattr(exc, "param", None)
                emit_error("usage", exc.format_message(), getattr(param, "name", None))
            raise

    def invoke(self, ctx: click.Context):
        from sqlalchemy.exc import OperationalError, ProgrammingError

        from idp.extensions import db
        from idp.services.errors import ServiceError

        try:
            return super().invoke(ctx)
        except ServiceError as exc:
            db.session.rollback()
            self._refuse(ctx, exc.code, exc.message, exc.field)
        except (OperationalError, ProgrammingError) as exc:
            # Unreachable database or missing tables: say so instead of a traceback.
            db.session.rollback()
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
            self._refuse(
                ctx,
                "database",
                f"The database refused the command ({reason}). Check IDP_DATABASE_URL "
                "and run `mam-idp db upgrade`.",
                None,
            )

    @staticmethod
    def _refuse(ctx: click.Context, code: str, message: str, field: str | None):
        if ctx.meta.get("json"):
            emit_error(code, message, field)
        click.echo(f"Error: {message}", err=True)
        ctx.exit(1)


json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print exactly one JSON object on stdout."
)
