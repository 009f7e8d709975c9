"""``mam-idp clients``: register, change and approve partners' OAuth clients.

The same validation service as the developer portal and RFC 7591
(``idp.services.client_metadata``); the operator may also approve a client and
make it first-party.
"""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from idp.cli.output import JSONCommand, emit, json_option

clients = AppGroup("clients", help="Partners' OAuth clients.")


def _jwks_file(path: str | None) -> dict | None:
    """The JWK set in ``path`` (``-`` for stdin)."""
    if path is None:
        return None
    from idp.services.errors import InvalidInput

    try:
        with click.open_file(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError, RecursionError) as exc:
        raise InvalidInput(f"The JWKS file cannot be read as JSON: {exc}", "jwks") from exc


def metadata_options(create: bool):
    """The options of ``create`` and ``update``: required ones only when creating."""

    def decorate(command):
        options = [
            click.option("--name", required=create),
            click.option(
                "--redirect-uri",
                "redirect_uris",
                multiple=True,
                required=create,
                help="Repeatable; on update replaces the list.",
            ),
            click.option(
                "--scope", required=create, help='Space-separated, e.g. "openid profile".'
            ),
            click.option(
                "--purpose",
                "purposes",
                multiple=True,
                help="miles, registration or autofill; repeatable. Without it: the smallest "
                "set of purposes covering --scope.",
            ),
            click.option("--access-token-ttl", type=int, default=None, help="Seconds, at least 1."),
            click.option(
                "--grant-ttl", type=int, default=None, help="Seconds a limited consent lasts."
            ),
            click.option("--token-endpoint-auth-method", default=None),
            click.option("--post-logout-redirect-uri", "post_logout_redirect_uris", multiple=True),
            click.option("--backchannel-logout-uri", default=None),
            click.option(
                "--security-event-uri",
                default=None,
                help="Where Security Event Tokens are pushed (RFC 8935).",
            ),
            click.option(
                "--jwks-uri", default=None, help="The client's published keys (private_key_jwt)."
            ),
            click.option(
                "--jwks-file",
                default=None,
                help="A file holding the client's JWK set; - for stdin.",
            ),
            click.option(
                "--sector-identifier-uri", default=None, help="OIDC Registration §5 document."
            ),
            click.option(
                "--policy-uri", default=None, help="Privacy policy, shown on the consent screen."
            ),
            click.option(
                "--tos-uri", default=None, help="Terms of service, shown on the consent screen."
            ),
            click.option("--logo-uri", default=None, help="An https logo."),
            click.option("--client-uri", default=None, help="The partner's website."),
            click.option(
                "--require-par/--no-require-par",
                "require_pushed_authorization_requests",
                default=None,
                help="Accept only pushed authorization requests (RFC 9126 §6).",
            ),
            click.option(
                "--first-party/--not-first-party",
                default=None,
                help="A Miles & More site: public subject ids (changing it changes the "
                "subject of every member at this client).",
            ),
        ]
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


#: Options whose value is written to the request field of the same name.
SIMPLE_FIELDS = (
    "access_token_ttl",
    "grant_ttl",
    "token_endpoint_auth_method",
    "backchannel_logout_uri",
    "security_event_uri",
    "jwks_uri",
    "sector_identifier_uri",
    "policy_uri",
    "tos_uri",
    "logo_uri",
    "client_uri",
    "require_pushed_authorization_requests",
    "first_party",
)


def _apply(request, options: dict) -> None:
    """Write what the options give onto ``request``; options not given leave it alone."""
    if options["name"] is not None:
        request.client_name = options["name"]
    for name in ("redirect_uris", "post_logout_redirect_uris"):
        if options[name]:
            setattr(request, name, list(options[name]))
    if options["scope"] is not None:
        request.scope = options["scope"]
        # A new scope without --purpose takes the smallest purposes covering it.
        request.purposes = list(options["purposes"]) or None
    elif options["purposes"]:
        request.purposes = list(options["purposes"])
    for name in SIMPLE_FIELDS:
        if options[name] is not None:
            setattr(request, name, options[name])
    jwks = _jwks_file(options["jwks_file"])
    if jwks is not None:
        request.jwks, request.jwks_uri = jwks, None
    elif options["jwks_uri"] is not None:
        request.jwks = None


@clients.command("create", cls=JSONCommand)
@click.option("--partner-id", required=True)
@metadata_options(create=True)
@click.option("--public", is_flag=True, help="A public client (PKCE, no secret).")
@click.option("--approved", is_flag=True, help="Usable by every member at once.")
@json_option
def create_client_command(as_json: bool, **options) -> None:
    """Register a client; its secret is shown once."""
    from idp.services.registration import ClientRequest, register_client

    request = ClientRequest(
        partner_id=options["partner_id"],
        client_name=options["name"],
        redirect_uris=list(options["redirect_uris"]),
        scope=options["scope"],
        public=options["public"],
        approved=options["approved"],
    )
    _apply(request, options)
    client, secret = register_client(request)
    text = f"Registered client {client.client_id}."
    if secret:
        text += f"\nClient secret (shown once, store it now): {secret}"
    emit(as_json, {"client_id": client.client_id, "client_secret": secret}, text)


def _client(client_id: str):
    from idp.services.errors import NotFound
    from idp.services.registration import get_client

    client = get_client(client_id)
    if client is None:
        raise NotFound("No client with this id.", "client_id")
    return client


@clients.command("update", cls=JSONCommand)
@click.argument("client_id")
@metadata_options(create=False)
@json_option
def update_client_command(as_json: bool, client_id: str, **options) -> None:
    """Change a client's metadata; options not given keep their values."""
    from idp.services.registration import request_from, update_client

    client = _client(client_id)
    request = request_from(client)
    _apply(request, options)
    client, secret = update_client(client, request, by_operator=True)
    text = f"Client {client.client_id} is updated."
    if secret:
        text += f"\nClient secret (shown once, store it now): {secret}"
    emit(
        as_json,
        {"client_id": client.client_id, "client_secret": secret, "version": client.version},
        text,
    )


@clients.command("rotate-secret", cls=JSONCommand)
@click.argument("client_id")
@click.option(
    "--grace",
    "grace_seconds",
    type=click.IntRange(0),
    default=0,
    help="Seconds the old secret keeps working (at most 604800, 7 days). Default 0.",
)
@json_option
def rotate_secret_command(as_json: bool, client_id: str, grace_seconds: int) -> None:
    """Issue a new client secret, shown once."""
    from idp.services.registration import rotate_secret

    client = _client(client_id)
    secret = rotate_secret(client, grace_seconds)
    until = client.previous_secret_expires_at
    payload = {
        "client_id": client.client_id,
        "client_secret": secret,
        "previous_secret_expires_at": until.isoformat() if until else None,
    }
    text = f"Client secret (shown once, store it now): {secret}"
    if until:
        text += f"\nThe previous secret works until {until.isoformat()}."
    emit(as_json, payload, text)


@clients.command("registration-token", cls=JSONCommand)
@click.option(
    "--partner-id",
    default=None,
    help="The partner whose clients it registers; without it each registration "
    "creates a partner of its own.",
)
@click.option("--uses", type=int, default=None, help="Registrations allowed (default: any number).")
@click.option("--ttl", type=int, default=None, help="Lifetime in seconds (default 86400, 24 h).")
@json_option
def registration_token_command(as_json: bool, partner_id, uses, ttl) -> None:
    """Issue an RFC 7591 initial access token, shown once."""
    from idp.services.dynamic_registration import (
        INITIAL_TOKEN_SECONDS,
        issue_initial_access_token,
    )

    token = issue_initial_access_token(
        partner_id, uses, INITIAL_TOKEN_SECONDS if ttl is None else ttl
    )
    emit(
        as_json,
        {"initial_access_token": token},
        f"Initial access token (shown once, store it now): {token}",
    )


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
