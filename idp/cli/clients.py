"""``mam-idp clients``: register a partner's OAuth client, approve it for every member."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from idp.cli.output import JSONCommand, emit, json_option

clients = AppGroup("clients", help="Partners' OAuth clients.")


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
