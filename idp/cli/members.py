"""``mam-idp members``: create a member, withdraw a member's consent at a partner, disable
and enable an account."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from idp.cli.output import JSONCommand, emit, json_option

members = AppGroup("members", help="Members of Miles & More.")


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
@click.option(
    "--email-verified",
    is_flag=True,
    help="The address is known to reach the member (e.g. confirmed in a legacy system).",
)
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
            email_verified=options["email_verified"],
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
    from idp.services import members as member_service
    from idp.services import withdrawal
    from idp.services.errors import NotFound
    from idp.services.partners import find_partner

    found = member_service.get_member(member) if len(member) <= 32 else None
    if found is None:
        found = member_service.find_by_card_number(member)
    if found is None:
        raise NotFound("No member with this id or card number.", "member")
    partner = find_partner(partner_id)
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


@members.command("disable", cls=JSONCommand)
@click.argument("member")
@click.option(
    "--reason",
    required=True,
    type=click.Choice(["hijacking", "bulk-account", "other"]),
    help="Why (RISC account-disabled): the account was taken over, is one of many made in "
    "bulk, or another reason.",
)
@json_option
def disable_member_command(as_json: bool, member: str, reason: str) -> None:
    """Disable a member account (MEMBER: id, email address or card number).

    Every session of the member ends (partners get back-channel logout), every
    token is revoked, and partners with a Shared Signals stream get the RISC
    account-disabled event. The member cannot log in until `members enable`.
    """
    from idp.services import member_status

    done = member_status.disable(member, reason)
    emit(
        as_json,
        {
            "member_id": done.member.id,
            "disabled": True,
            "reason": reason,
            "disabled_at": done.disabled_at.isoformat(),
            "sessions_ended": done.sessions_ended,
            "tokens_revoked": done.tokens_revoked,
            "partners_notified": done.partners_notified,
        },
        f"Disabled member {done.member.id} ({reason}): {done.sessions_ended} session(s) ended, "
        f"{done.tokens_revoked} token(s) revoked, {done.partners_notified} partner event(s) "
        "queued.",
    )


@members.command("enable", cls=JSONCommand)
@click.argument("member")
@json_option
def enable_member_command(as_json: bool, member: str) -> None:
    """Enable a disabled member account again (MEMBER: id, email address or card number).

    The member can log in again; revoked tokens stay revoked. Partners with a
    Shared Signals stream get the RISC account-enabled event.
    """
    from idp.services import member_status

    done = member_status.enable(member)
    emit(
        as_json,
        {
            "member_id": done.member.id,
            "disabled": False,
            "partners_notified": done.partners_notified,
        },
        f"Enabled member {done.member.id}: {done.partners_notified} partner event(s) queued.",
    )
