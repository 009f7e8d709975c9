"""``mam-idp partners``: create a partner, customise its consent screen."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from idp.cli.output import JSONCommand, emit, json_option

partners = AppGroup("partners", help="Partners: the organisations that own clients.")


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
    from idp.services import branding
    from idp.services.errors import InvalidInput, NotFound
    from idp.services.partners import find_partner

    partner = find_partner(partner_id)
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


@partners.command("add-developer", cls=JSONCommand)
@click.argument("partner_id")
@click.argument("member")
@json_option
def add_developer_command(as_json: bool, partner_id: str, member: str) -> None:
    """Let a member (id, email or card number) manage the partner's clients in /developers."""
    from idp.services.invitations import add_developer_by_reference

    partner, found = add_developer_by_reference(partner_id, member)
    emit(
        as_json,
        {"partner_id": partner.id, "member_id": found.id},
        f"Member {found.id} now develops for partner {partner.id}.",
    )
