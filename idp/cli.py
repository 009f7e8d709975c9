"""The ``mam-idp`` console script: a Flask CLI group over ``idp.create_app``.

Every command that creates something accepts ``--json`` and then prints exactly
one JSON object on stdout; logs and warnings go to stderr. A refusal prints
``{"error": code, "error_description": message, "field": name or null}``
instead and exits with status 1 (2 for a usage error, 78 for bad configuration).
"""

from __future__ import annotations

import json
import sys

import click
from flask import Flask
from flask.cli import AppGroup, FlaskGroup, with_appcontext

#: sysexits.h EX_CONFIG: the configuration does not let the provider start.
EXIT_CONFIG = 78


def emit(as_json: bool, payload: dict, text: str) -> None:
    """Print ``payload`` as one JSON object, or ``text`` for people."""
    if as_json:
        click.echo(json.dumps(payload, sort_keys=True))
    else:
        click.echo(text)


def _emit_error(code: str, message: str, field: str | None) -> None:
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
                _emit_error("usage", exc.format_message(), getattr(param, "name", None))
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
            _emit_error(code, message, field)
        click.echo(f"Error: {message}", err=True)
        ctx.exit(1)


json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print exactly one JSON object on stdout."
)

members = AppGroup("members", help="Members of Miles & More.")
partners = AppGroup("partners", help="Partners: the organisations that own clients.")
clients = AppGroup("clients", help="Partners' OAuth clients.")
keys = AppGroup("keys", help="Data and signing keys.")


def _read_password(value: str) -> str:
    """``-`` reads the password from the first line of stdin, out of the process list."""
    if value != "-":
        return value
    return sys.stdin.readline().rstrip("\r\n")


@members.command("create", cls=JSONCommand)
@click.option("--email", required=True)
@click.option("--password", required=True, help="At least 10 characters; - reads it from stdin.")
@click.option("--given-name", required=True)
@click.option("--family-name", required=True)
@click.option("--card-number", help="15 digits starting 992; generated when not given.")
@click.option("--phone", help="International form, e.g. +4969123456.")
@click.option("--birthdate", help="YYYY-MM-DD.")
@click.option("--gender", help="female, male, diverse or unspecified.")
@click.option("--locale", help="en, de, nl or pl.")
@click.option("--status-tier", default="base", show_default=True)
@click.option("--miles", default=0, type=int, show_default=True, help="Miles balance.")
@click.option("--status-miles", default=0, type=int, show_default=True)
@click.option("--totp-secret", help="Import an existing TOTP key (base32).")
@json_option
def create_member_command(as_json: bool, **options) -> None:
    """Create a member (and import a TOTP enrolment from a legacy system)."""
    from idp.services.members import NewMember, create_member

    member = create_member(
        NewMember(
            email=options["email"],
            password=_read_password(options["password"]),
            given_name=options["given_name"],
            family_name=options["family_name"],
            card_number=options["card_number"],
            phone_number=options["phone"],
            birthdate=options["birthdate"],
            gender=options["gender"],
            locale=options["locale"],
            status_tier=options["status_tier"],
            status_miles=options["status_miles"],
            miles_balance=options["miles"],
            totp_secret=options["totp_secret"],
        )
    )
    credential = _credential(member.id)
    totp_secret = credential.totp_secret if credential and credential.has_totp else None
    emit(
        as_json,
        {"member_id": member.id, "card_number": member.card_number, "totp_secret": totp_secret},
        f"Created member {member.id} with card number {member.card_number}."
        + ("" if totp_secret else " The member sets up two-step verification at first login."),
    )


def _credential(member_id: str):
    from idp.extensions import db
    from idp.models import Credential

    return db.session.get(Credential, member_id)


@members.command("withdraw-consent", cls=JSONCommand)
@click.argument("member")
@click.option("--partner-id", required=True, help="The partner whose access ends.")
@json_option
def withdraw_consent_command(as_json: bool, member: str, partner_id: str) -> None:
    """Withdraw a member's consent at a partner, as Revoke access does (MEMBER: id or card number).

    Every token of the member at the partner's clients is revoked at once and the
    partner is notified; notifications that cannot be delivered now stay in the
    outbox for `mam-idp worker` (or `mam-idp notifications send`).
    """
    from idp.extensions import db
    from idp.models import Partner
    from idp.services import members as member_service
    from idp.services import withdrawal
    from idp.services.errors import NotFound

    found = member_service.get_member(member) if len(member) <= 32 else None
    if found is None:
        found = member_service.find_by_card_number(member)
    if found is None:
        raise NotFound("No member with this id or card number.", "member")
    partner = db.session.get(Partner, partner_id) if len(partner_id) <= 32 else None
    if partner is None:
        raise NotFound("No partner with this id.", "partner_id")
    done = withdrawal.withdraw_partner_access(found.id, partner.id, actor="admin")
    emit(
        as_json,
        {
            "member_id": found.id,
            "partner_id": partner.id,
            "consents_withdrawn": done.consents_withdrawn,
            "tokens_revoked": done.tokens_revoked,
            "notifications_queued": done.notifications_queued,
        },
        f"Withdrew {done.consents_withdrawn} consent(s) of member {found.id} at partner "
        f"{partner.name}: {done.tokens_revoked} token(s) revoked, "
        f"{done.notifications_queued} notification(s) queued.",
    )


@partners.command("create", cls=JSONCommand)
@click.option("--name", required=True)
@click.option("--category", required=True, help="lhg_airline, co_issuer or partner_company.")
@json_option
def create_partner_command(as_json: bool, name: str, category: str) -> None:
    """Create a partner."""
    from idp.services.registration import create_partner

    partner = create_partner(name, category)
    emit(as_json, {"partner_id": partner.id}, f"Created partner {partner.id}.")


@partners.command("customise", cls=JSONCommand)
@click.argument("partner_id")
@click.option("--logo-uri", default=None, help="An https image shown on the consent screen.")
@click.option("--brand-colour", default=None, help="#rrggbb, readable under white text.")
@click.option(
    "--extra-text",
    "extra_texts",
    multiple=True,
    help="LANG=TEXT, plain text per language (en, de, nl, pl); repeatable.",
)
@json_option
def customise_partner_command(as_json: bool, partner_id: str, **options) -> None:
    """Set a partner's consent screen logo, brand colour and extra texts (replaces them)."""
    from idp.extensions import db
    from idp.models import Partner
    from idp.services import branding
    from idp.services.errors import InvalidInput, NotFound

    partner = db.session.get(Partner, partner_id) if len(partner_id) <= 32 else None
    if partner is None:
        raise NotFound("No partner with this id.", "partner_id")
    texts = {}
    for item in options["extra_texts"]:
        language, sep, text = item.partition("=")
        if not sep:
            raise InvalidInput("Give each extra text as LANG=TEXT.", "extra_texts")
        texts[language.strip()] = text
    branding.customise(
        partner,
        logo_uri=options["logo_uri"],
        brand_colour=options["brand_colour"],
        extra_texts=texts,
    )
    emit(as_json, {"partner_id": partner.id}, f"Customised partner {partner.id}.")


@clients.command("create", cls=JSONCommand)
@click.option("--partner-id", required=True)
@click.option("--name", required=True)
@click.option("--redirect-uri", "redirect_uris", multiple=True, required=True, help="Repeatable.")
@click.option("--scope", required=True, help='Space-separated, e.g. "openid profile".')
@click.option(
    "--purpose", "purposes", multiple=True, help="miles, registration or autofill; repeatable."
)
@click.option("--public", is_flag=True, help="A public client (PKCE, no secret).")
@click.option("--approved", is_flag=True, help="Usable by every member at once.")
@click.option("--access-token-ttl", type=int, default=None, help="Seconds, at least 1.")
@click.option("--grant-ttl", type=int, default=None, help="Seconds a limited consent lasts.")
@click.option("--token-endpoint-auth-method", default=None)
@click.option("--post-logout-redirect-uri", "post_logout_redirect_uris", multiple=True)
@click.option("--backchannel-logout-uri", default=None)
@click.option(
    "--security-event-uri", default=None, help="Where Security Event Tokens are pushed (RFC 8935)."
)
@click.option("--first-party", is_flag=True, help="A Miles & More site: public subject ids.")
@json_option
def create_client_command(as_json: bool, **options) -> None:
    """Register a client; its secret is shown once."""
    from idp.services.registration import ClientRequest, register_client

    request = ClientRequest(
        partner_id=options["partner_id"],
        client_name=options["name"],
        redirect_uris=list(options["redirect_uris"]),
        scope=options["scope"],
        purposes=list(options["purposes"]),
        public=options["public"],
        approved=options["approved"],
        token_endpoint_auth_method=options["token_endpoint_auth_method"],
        post_logout_redirect_uris=list(options["post_logout_redirect_uris"]),
        backchannel_logout_uri=options["backchannel_logout_uri"],
        security_event_uri=options["security_event_uri"],
        first_party=options["first_party"],
    )
    if options["access_token_ttl"] is not None:
        request.access_token_ttl = options["access_token_ttl"]
    if options["grant_ttl"] is not None:
        request.grant_ttl = options["grant_ttl"]
    client, secret = register_client(request)
    text = f"Registered client {client.client_id}."
    if secret:
        text += f"\nClient secret (shown once, store it now): {secret}"
    emit(as_json, {"client_id": client.client_id, "client_secret": secret}, text)


@clients.command("approve", cls=JSONCommand)
@click.argument("client_id")
@json_option
def approve_client_command(as_json: bool, client_id: str) -> None:
    """Approve a client for every member."""
    from idp.services.registration import approve_client

    client = approve_client(client_id)
    emit(
        as_json,
        {"client_id": client.client_id, "approved": True},
        f"Client {client.client_id} is approved.",
    )


@keys.command("rotate-data-key", cls=JSONCommand)
@click.option("--batch-size", default=500, show_default=True, type=int)
@json_option
def rotate_data_key_command(as_json: bool, batch_size: int) -> None:
    """Re-encrypt personal data and secrets with the current (first) data key.

    Put the new key first in IDP_DATA_KEY, keep the old one after it, run this,
    then remove the old key.
    """
    from idp.services.data_keys import rotate_data_key

    reports = rotate_data_key(batch_size=batch_size)
    tables = {name: report.as_dict() for name, report in reports.items()}
    totals = {
        key: sum(t[key] for t in tables.values())
        for key in ("rows", "reencrypted", "indexes_recomputed", "changed_meanwhile")
    }
    lines = [
        f"{name}: {t['reencrypted']} values re-encrypted, "
        f"{t['indexes_recomputed']} indexes recomputed in {t['rows']} rows"
        for name, t in tables.items()
    ]
    lines.append(
        f"Done: {totals['reencrypted']} values re-encrypted, "
        f"{totals['indexes_recomputed']} indexes recomputed."
    )
    emit(as_json, {"tables": tables, **totals}, "\n".join(lines))


@keys.command("rotate", cls=JSONCommand)
@json_option
def rotate_keys_command(as_json: bool) -> None:
    """Add a new signing key per algorithm and make it current.

    The previous keys stay in the JWKS until every token they signed has expired.
    """
    from idp.services.signing_keys import rotate_keys

    kids = rotate_keys()
    emit(
        as_json,
        {"kid": kids["RS256"], "kids": kids},
        "\n".join(f"{alg}: {kid}" for alg, kid in sorted(kids.items())),
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
    "--threads", default=4, show_default=True, type=click.IntRange(1, 64), help="Per worker."
)
@click.pass_context
def serve_command(ctx: click.Context, host: str, port: int, workers: int, threads: int) -> None:
    """Serve the provider with gunicorn: N worker processes, each with its own app."""
    from flask.cli import ScriptInfo

    from idp import create_app
    from idp.serve import serve

    # Build the app once here: a setting it cannot run with stops the command (78)
    # before any worker starts; the workers then build their own after the fork.
    app = ctx.ensure_object(ScriptInfo).load_app()
    with app.app_context():
        from idp.extensions import db

        db.engine.dispose()
    metrics_dir = app.config["IDP"].instance_path / "metrics"
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

    Consent records and the audit log are never deleted. Safe to run at any
    time and as often as wanted, e.g. hourly from cron or a systemd timer.
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
@with_appcontext
def demo_command(no_serve: bool, port: int, partner_port: int) -> None:
    """Migrate, seed the demo data, and serve the provider and the demo partner website."""
    from idp.demo import run_demo

    run_demo(serve=not no_serve, port=port, partner_port=partner_port)


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
    ):
        app.cli.add_command(command)


def _create_app(*_args, **_kwargs) -> Flask:
    from idp import create_app
    from idp.config import ConfigError

    try:
        return create_app()
    except ConfigError as exc:
        # A clear refusal, not a traceback: the operator fixes the environment.
        if "--json" in sys.argv[1:]:
            _emit_error("configuration", str(exc), None)
        click.echo(f"Error: the configuration is not usable: {exc}", err=True)
        raise SystemExit(EXIT_CONFIG) from None


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """Login with Miles & More: administer the identity provider."""


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
