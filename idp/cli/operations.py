"""Running the provider: ``serve``, ``worker``, ``purge``, ``demo``, and the outboxes
(``mail send``, ``notifications send``).
"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from idp.cli.output import EXIT_CONFIG, JSONCommand, emit, json_option

mail_commands = AppGroup("mail", help="Outgoing mail (email login codes).")


@mail_commands.command("send", cls=JSONCommand)
@click.option("--limit", default=100, show_default=True, help="Send at most this many mails.")
@json_option
def send_mail(limit: int, as_json: bool) -> None:
    """Deliver the mails waiting in the outbox over IDP_SMTP_URL."""
    from flask import current_app

    from idp.services.errors import ServiceError
    from idp.services.mail import send_pending

    settings = current_app.config["IDP"]
    if not settings.smtp_url:
        raise ServiceError("IDP_SMTP_URL is not set; mail stays in the outbox.")
    result = send_pending(settings.smtp_url, settings.mail_sender, limit=limit)
    emit(
        as_json,
        {"sent": result.sent, "failed": result.failed},
        f"{result.sent} sent, {result.failed} to be retried",
    )


notifications_group = AppGroup(
    "notifications", help="Messages to partners' back-channel endpoints."
)


@notifications_group.command("send", cls=JSONCommand)
@json_option
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


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--threads", default=8, show_default=True, type=click.IntRange(1, 64), help="Per worker."
)
@click.pass_context
def serve_command(ctx: click.Context, host: str, port: int, workers: int, threads: int) -> None:
    """Serve the provider with gunicorn: N worker processes, each with its own app."""
    from flask.cli import ScriptInfo

    from idp.serve import serve

    # Build the app once here: a setting it cannot run with stops the command (78)
    # before any worker starts; the workers then build their own after the fork,
    # the way this one was built (``mam-idp``'s factory or ``flask --app``).
    info = ctx.ensure_object(ScriptInfo)
    app = info.load_app()
    with app.app_context():
        from idp.extensions import db

        db.engine.dispose()
    metrics_dir = app.config["IDP"].instance_path / "metrics"

    def create_app() -> Flask:
        return ScriptInfo(
            app_import_path=info.app_import_path, create_app=info.create_app
        ).load_app()

    serve(
        create_app, host=host, port=port, workers=workers, threads=threads, metrics_dir=metrics_dir
    )


@click.command("worker")
@click.option(
    "--interval",
    default=2.0,
    show_default=True,
    type=click.FloatRange(0.1, 3600),
    help="Seconds between polls of an idle outbox.",
)
@click.option("--once", is_flag=True, help="One pass over both outboxes, then stop.")
@click.pass_context
def worker_command(ctx: click.Context, interval: float, once: bool) -> None:
    """Deliver the mail outbox and partner notifications continuously; stops on SIGTERM."""
    from flask.cli import ScriptInfo

    from idp.services.errors import InvalidInput
    from idp.worker import Worker, handle_stop_signals, log_to_stderr

    app = ctx.ensure_object(ScriptInfo).load_app()
    if not app.testing:
        log_to_stderr()
    try:
        worker = Worker(app, interval=interval)
    except InvalidInput as exc:
        click.echo(f"Error: the configuration is not usable: IDP_SMTP_URL: {exc.message}", err=True)
        ctx.exit(EXIT_CONFIG)
    if once:
        worker.run_once()
        return
    handle_stop_signals(worker)
    worker.run()


@click.command("purge", cls=JSONCommand)
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
@click.option(
    "--batch-size", default=500, show_default=True, type=click.IntRange(1, 100_000),
    help="Rows deleted per transaction.",
)
@json_option
@with_appcontext
def purge_command(as_json: bool, dry_run: bool, batch_size: int) -> None:
    """Delete what has outlived its purpose: expired codes, tokens, steps, sessions, outbox rows.

    Consent records and the audit log are never deleted, except the blocked
    ones of a deleted account once their retention period has ended. Safe to
    run at any time and as often as wanted, e.g. hourly from cron or a
    systemd timer.
    """
    from idp.services.retention import purge

    deleted = purge(dry_run=dry_run, batch_size=batch_size)
    verb = "would delete" if dry_run else "deleted"
    lines = [f"{table}: {verb} {count}" for table, count in deleted.items()]
    lines.append(f"Total: {verb} {sum(deleted.values())} rows.")
    emit(as_json, {"deleted": deleted}, "\n".join(lines))


@click.command("demo")
@click.option("--no-serve", is_flag=True, help="Migrate and seed, print, then stop.")
@click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True,
              help="The provider's port; the issuer follows it unless IDP_ISSUER is set.")
@click.option("--partner-port", type=click.IntRange(1, 65535), default=5001, show_default=True,
              help="The demo partner website's port.")
@click.option("--airline-port", type=click.IntRange(0, 65535), default=5002, show_default=True,
              help="The demo airline's ID service (for Linked profiles); 0: none.")
@with_appcontext
def demo_command(no_serve: bool, port: int, partner_port: int, airline_port: int) -> None:
    """Migrate, seed the demo data, and serve the provider and the demo partner website."""
    from idp.demo import run_demo

    run_demo(
        serve=not no_serve, port=port, partner_port=partner_port, airline_port=airline_port
    )
