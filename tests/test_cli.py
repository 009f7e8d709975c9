"""The mam-idp commands through Flask's CLI runner: output, JSON, and refusals."""

from __future__ import annotations

import json
import re

import pyotp
import pytest
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import AuditEvent, CardNumber, Client, Credential, Member, Partner
from idp.services.cards import generate_card_number
from idp.services.members import find_by_card_number, find_by_email
from idp.services.passwords import verify_password
from idp.services.registration import get_client
from tests.factories import make_client, make_partner

PASSWORD = "a long enough password"


def one_json_object(result) -> dict:
    """stdout holds exactly one JSON object and nothing else."""
    payload, end = json.JSONDecoder().raw_decode(result.stdout)
    assert result.stdout[end:].strip() == "", result.stdout
    assert isinstance(payload, dict)
    return payload


def counts() -> dict[str, int]:
    return {
        model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Member, CardNumber, Credential, Partner, Client, AuditEvent)
    }


def member_args(email: str, *extra: str) -> list[str]:
    return [
        "members",
        "create",
        "--email",
        email,
        "--password",
        PASSWORD,
        "--given-name",
        "Jan",
        "--family-name",
        "Kowalski",
        *extra,
    ]


# -- members create -------------------------------------------------------------------


def test_members_create_prints_one_json_object(runner, app_ctx, unique):
    email = f"{unique('m')}@example.com"
    result = runner.invoke(args=member_args(email, "--json"))
    assert result.exit_code == 0, result.output
    payload = one_json_object(result)
    assert set(payload) == {"member_id", "card_number", "totp_secret"}
    assert payload["totp_secret"] is None
    member = find_by_email(email)
    assert member.id == payload["member_id"]
    assert member.card_number == payload["card_number"]
    assert find_by_card_number(payload["card_number"]).id == member.id
    assert member.status_tier == "base" and member.miles_balance == 0


def test_members_create_with_every_option(runner, app_ctx, unique):
    email = f"{unique('m')}@example.com"
    card = generate_card_number()
    key = pyotp.random_base32()
    spaced_lower = " ".join(key[i : i + 4] for i in range(0, len(key), 4)).lower()
    result = runner.invoke(
        args=member_args(
            email,
            "--card-number",
            card,
            "--phone",
            "+4969123456",
            "--birthdate",
            "1980-02-29",
            "--gender",
            "diverse",
            "--locale",
            "pl",
            "--status-tier",
            "hon_circle",
            "--miles",
            "12345",
            "--status-miles",
            "600000",
            "--totp-secret",
            spaced_lower,
            "--json",
        )
    )
    assert result.exit_code == 0, result.output
    payload = one_json_object(result)
    assert payload["card_number"] == card
    # The imported key is echoed as authenticator apps expect it.
    assert payload["totp_secret"] == key
    member = find_by_email(email)
    assert (member.phone_number, member.birthdate, member.gender, member.locale) == (
        "+4969123456",
        "1980-02-29",
        "diverse",
        "pl",
    )
    assert (member.status_tier, member.miles_balance, member.status_miles) == (
        "hon_circle",
        12345,
        600000,
    )
    credential = db.session.get(Credential, member.id)
    assert credential.has_totp and credential.totp_secret == key
    assert verify_password(credential.password_hash, PASSWORD)


def test_json_flag_may_come_first(runner, app_ctx, unique):
    args = member_args(f"{unique('m')}@example.com")
    result = runner.invoke(args=args[:2] + ["--json"] + args[2:])
    assert result.exit_code == 0, result.output
    assert one_json_object(result)["member_id"]


def test_members_create_without_json_speaks_to_people(runner, app_ctx, unique):
    result = runner.invoke(args=member_args(f"{unique('m')}@example.com"))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Created member ")
    with pytest.raises(ValueError):
        json.loads(result.stdout)


def test_members_create_reads_the_password_from_stdin(runner, app_ctx, unique):
    email = f"{unique('m')}@example.com"
    args = member_args(email, "--json")
    args[args.index(PASSWORD)] = "-"
    result = runner.invoke(args=args, input="read from stdin!\n")
    assert result.exit_code == 0, result.output
    credential = db.session.get(Credential, find_by_email(email).id)
    assert verify_password(credential.password_hash, "read from stdin!")


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        (["--card-number", "992123456789016"], "card_number"),  # wrong check digit
        (["--card-number", "123456789012345"], "card_number"),
        (["--card-number", "123"], "card_number"),
        (["--phone", "0691234"], "phone_number"),
        (["--birthdate", "1980-13-01"], "birthdate"),
        (["--birthdate", "2999-01-01"], "birthdate"),
        (["--gender", "robot"], "gender"),
        (["--locale", "fr"], "locale"),
        (["--status-tier", "gold"], "status_tier"),
        (["--miles", "-5"], "miles"),
        (["--totp-secret", "not base32!"], "totp_secret"),
        (["--totp-secret", "ABCDEFGH"], "totp_secret"),
    ],
)
def test_members_create_refuses_bad_input(runner, app_ctx, unique, extra, field):
    before = counts()
    result = runner.invoke(args=member_args(f"{unique('m')}@example.com", *extra, "--json"))
    assert result.exit_code == 1
    payload = one_json_object(result)
    assert payload["error"] == "invalid_input"
    assert payload["field"] == field
    assert payload["error_description"]
    assert result.stderr.startswith("Error: ")
    assert counts() == before


@pytest.mark.parametrize(
    ("option", "value", "field"),
    [
        ("--email", "not-an-address", "email"),
        ("--password", "too short", "password"),
        ("--given-name", "  ", "given_name"),
        ("--family-name", "x" * 101, "family_name"),
    ],
)
def test_members_create_refuses_bad_required_values(runner, app_ctx, unique, option, value, field):
    args = member_args(f"{unique('m')}@example.com")
    args[args.index(option) + 1] = value
    before = counts()
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")
    assert counts() == before
    result = runner.invoke(args=args + ["--json"])
    assert one_json_object(result)["field"] == field


def test_members_create_refuses_a_taken_email_or_card(runner, app_ctx, unique):
    email = f"{unique('m')}@example.com"
    first = one_json_object(runner.invoke(args=member_args(email, "--json")))
    before = counts()
    again = runner.invoke(args=member_args(email.upper(), "--json"))
    assert again.exit_code == 1
    assert one_json_object(again) == {
        "error": "conflict",
        "error_description": "A member with this email address exists already.",
        "field": "email",
    }
    card = runner.invoke(
        args=member_args(f"{unique('m')}@example.com", "--card-number", first["card_number"])
        + ["--json"]
    )
    assert card.exit_code == 1
    assert one_json_object(card)["field"] == "card_number"
    assert counts() == before


def test_usage_errors_are_one_json_object_too(runner, app_ctx):
    result = runner.invoke(args=["members", "create", "--json", "--email", "a@b.example"])
    assert result.exit_code == 2
    payload = one_json_object(result)
    assert payload["error"] == "usage"
    assert "--password" in payload["error_description"]
    result = runner.invoke(args=member_args("a@b.example", "--miles", "many", "--json"))
    assert result.exit_code == 2
    assert one_json_object(result)["field"] == "miles"


# -- partners create ------------------------------------------------------------------


def test_partners_create(runner, app_ctx):
    result = runner.invoke(
        args=["partners", "create", "--json", "--name", "LOT", "--category", "lhg_airline"]
    )
    assert result.exit_code == 0, result.output
    payload = one_json_object(result)
    assert set(payload) == {"partner_id"}
    partner = db.session.get(Partner, payload["partner_id"])
    assert (partner.name, partner.category) == ("LOT", "lhg_airline")


@pytest.mark.parametrize(
    ("name", "category", "field"),
    [
        ("Shop", "airline", "category"),
        ("  ", "co_issuer", "name"),
        ("x" * 201, "co_issuer", "name"),
    ],
)
def test_partners_create_refuses_bad_input(runner, app_ctx, name, category, field):
    before = counts()
    result = runner.invoke(
        args=["partners", "create", "--name", name, "--category", category, "--json"]
    )
    assert result.exit_code == 1
    assert one_json_object(result)["field"] == field
    assert counts() == before


# -- clients create / approve -----------------------------------------------------------


def client_args(partner_id: str, *extra: str) -> list[str]:
    return [
        "clients",
        "create",
        "--partner-id",
        partner_id,
        "--name",
        "Shop",
        "--redirect-uri",
        "https://shop.example/cb",
        *extra,
    ]


def test_clients_create_confidential(runner, app_ctx):
    partner = make_partner("Shop", "partner_company")
    result = runner.invoke(
        args=client_args(
            partner.id,
            "--redirect-uri",
            "https://shop.example/other",
            "--scope",
            "openid card_number miles status offline_access",
            "--purpose",
            "miles",
            "--access-token-ttl",
            "1",
            "--post-logout-redirect-uri",
            "https://shop.example/",
            "--post-logout-redirect-uri",
            "https://shop.example/bye",
            "--backchannel-logout-uri",
            "https://shop.example/bcl",
            "--security-event-uri",
            "https://shop.example/events",
            "--json",
        )
    )
    assert result.exit_code == 0, result.output
    payload = one_json_object(result)
    assert set(payload) == {"client_id", "client_secret"}
    client = get_client(payload["client_id"])
    assert client.check_client_secret(payload["client_secret"])
    assert client.redirect_uris == ["https://shop.example/cb", "https://shop.example/other"]
    assert client.post_logout_redirect_uris == ["https://shop.example/", "https://shop.example/bye"]
    assert client.backchannel_logout_uri == "https://shop.example/bcl"
    assert client.security_event_uri == "https://shop.example/events"
    assert client.scopes == ["openid", "card_number", "miles", "status", "offline_access"]
    assert client.purposes == ["miles"]
    assert client.access_token_ttl == 1
    assert client.token_endpoint_auth_method == "client_secret_basic"
    assert not client.approved


def test_clients_create_public_and_approved(runner, app_ctx):
    partner = make_partner("App", "co_issuer")
    result = runner.invoke(
        args=client_args(
            partner.id,
            "--json",
            "--scope",
            "openid profile email",
            "--purpose",
            "registration",
            "--purpose",
            "autofill",
            "--public",
            "--approved",
        )
    )
    assert result.exit_code == 0, result.output
    payload = one_json_object(result)
    assert payload["client_secret"] is None
    client = get_client(payload["client_id"])
    assert client.is_public and client.approved
    assert client.purposes == ["registration", "autofill"]


def test_clients_create_with_post_authentication(runner, app_ctx):
    partner = make_partner()
    result = runner.invoke(
        args=client_args(
            partner.id,
            "--scope",
            "openid",
            "--token-endpoint-auth-method",
            "client_secret_post",
            "--json",
        )
    )
    assert result.exit_code == 0, result.output
    client = get_client(one_json_object(result)["client_id"])
    assert client.token_endpoint_auth_method == "client_secret_post"


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        (["--scope", "openid profile", "--purpose", "miles"], "scope"),
        (["--scope", "openid", "--purpose", "shopping"], "purposes"),
        (["--scope", "profile", "--purpose", "autofill"], "scope"),
        (["--scope", "openid everything"], "scope"),
        (["--scope", "openid", "--access-token-ttl", "0"], "access_token_ttl"),
        (
            ["--scope", "openid", "--token-endpoint-auth-method", "magic"],
            "token_endpoint_auth_method",
        ),
        (
            [
                "--scope",
                "openid",
                "--public",
                "--token-endpoint-auth-method",
                "client_secret_basic",
            ],
            "token_endpoint_auth_method",
        ),
        (["--scope", "openid", "--redirect-uri", "http://shop.example/cb"], "redirect_uris"),
        (["--scope", "openid", "--redirect-uri", "https://shop.example/cb#x"], "redirect_uris"),
        (
            ["--scope", "openid", "--post-logout-redirect-uri", "javascript:alert(1)"],
            "post_logout_redirect_uris",
        ),
        (
            ["--scope", "openid", "--backchannel-logout-uri", "http://shop.example/bcl"],
            "backchannel_logout_uri",
        ),
        (
            ["--scope", "openid", "--security-event-uri", "http://shop.example/events"],
            "security_event_uri",
        ),
    ],
)
def test_clients_create_refuses_bad_input(runner, app_ctx, extra, field):
    partner = make_partner()
    before = counts()
    result = runner.invoke(args=client_args(partner.id, *extra, "--json"))
    assert result.exit_code == 1, result.output
    payload = one_json_object(result)
    assert payload["field"] == field, payload
    assert counts() == before


def test_clients_create_refuses_an_unknown_partner(runner, app_ctx):
    before = counts()
    result = runner.invoke(args=client_args("nobody", "--scope", "openid", "--json"))
    assert result.exit_code == 1
    assert one_json_object(result)["error"] == "not_found"
    assert counts() == before


def test_clients_approve(runner, app_ctx):
    client, _ = make_client(approved=False)
    assert not client.approved
    result = runner.invoke(args=["clients", "approve", "--json", client.client_id])
    assert result.exit_code == 0, result.output
    assert one_json_object(result) == {"client_id": client.client_id, "approved": True}
    db.session.expire_all()
    assert get_client(client.client_id).approved
    # Approving again changes nothing and says the same.
    again = runner.invoke(args=["clients", "approve", client.client_id, "--json"])
    assert one_json_object(again) == {"client_id": client.client_id, "approved": True}
    text = runner.invoke(args=["clients", "approve", client.client_id])
    assert text.stdout.strip() == f"Client {client.client_id} is approved."


def test_clients_approve_refuses_an_unknown_client(runner, app_ctx):
    result = runner.invoke(args=["clients", "approve", "nope", "--json"])
    assert result.exit_code == 1
    assert one_json_object(result)["error"] == "not_found"


def test_client_secret_is_printed_once_and_never_audited(runner, app_ctx):
    partner = make_partner()
    result = runner.invoke(args=client_args(partner.id, "--scope", "openid"))
    assert result.exit_code == 0
    secret = result.stdout.rsplit(" ", 1)[-1].strip()
    client = db.session.scalar(select(Client).order_by(Client.id.desc()).limit(1))
    assert client.check_client_secret(secret)
    details = db.session.scalars(select(AuditEvent.details)).all()
    assert all(secret not in json.dumps(d) for d in details)


def test_a_database_without_tables_is_a_clear_refusal(tmp_path):
    from tests.conftest import make_test_app

    app = make_test_app(f"sqlite:///{tmp_path / 'empty.sqlite3'}", tmp_path / "instance")
    try:
        result = app.test_cli_runner().invoke(args=member_args("x@example.com", "--json"))
        assert result.exit_code == 1
        payload = one_json_object(result)
        assert payload["error"] == "database"
        assert "mam-idp db upgrade" in payload["error_description"]
        assert "no such table" in result.stderr
    finally:
        with app.app_context():
            db.engine.dispose()


def test_client_ids_can_be_given_on_the_command_line():
    """A client id never starts with "-", which the command line would read as an option."""
    from idp.services.registration import new_client_id

    ids = {new_client_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(re.fullmatch(r"[A-Za-z0-9]{25}", client_id) for client_id in ids)


# -- clients: registration metadata, update, rotate-secret, registration-token ----------


def test_clients_create_takes_the_smallest_purposes_covering_the_scope(runner, app_ctx):
    partner = make_partner()
    result = runner.invoke(args=client_args(partner.id, "--scope", "openid miles email", "--json"))
    assert result.exit_code == 0, result.output
    client = get_client(one_json_object(result)["client_id"])
    assert client.purposes == ["miles", "registration"]


def test_clients_create_with_keys_sector_and_consent_links(runner, app_ctx, tmp_path):
    from joserfc.jwk import RSAKey

    from tests.registration.conftest import SectorServer

    key = RSAKey.generate_key(2048, parameters={"kid": "k1"}).as_dict(private=False)
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps({"keys": [key]}))
    sector = SectorServer()
    try:
        uri = sector.publish(["https://shop.example/cb", "https://app.shop.example/cb"])
        result = runner.invoke(
            args=client_args(
                make_partner().id,
                "--redirect-uri",
                "https://app.shop.example/cb",
                "--scope",
                "openid profile",
                "--token-endpoint-auth-method",
                "private_key_jwt",
                "--jwks-file",
                str(jwks_file),
                "--sector-identifier-uri",
                uri,
                "--policy-uri",
                "https://shop.example/privacy",
                "--tos-uri",
                "https://shop.example/terms",
                "--logo-uri",
                "https://shop.example/logo.png",
                "--grant-ttl",
                "3600",
                "--json",
            )
        )
    finally:
        sector.close()
    assert result.exit_code == 0, result.output
    payload = one_json_object(result)
    assert payload["client_secret"] is None
    client = get_client(payload["client_id"])
    assert client.jwks == {"keys": [key]} and client.sector_identifier_uri == uri
    assert client.policy_uri == "https://shop.example/privacy"
    assert client.tos_uri == "https://shop.example/terms"
    assert client.logo_uri == "https://shop.example/logo.png"
    assert client.grant_ttl == 3600 and client.purposes == ["registration"]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        (["--token-endpoint-auth-method", "private_key_jwt"], "jwks"),
        (
            ["--token-endpoint-auth-method", "private_key_jwt", "--jwks-file", "/nonexistent"],
            "jwks",
        ),
        (["--jwks-uri", "http://shop.example/keys"], "jwks_uri"),
        (["--logo-uri", "http://shop.example/logo.png"], "logo_uri"),
        (["--policy-uri", "not a url"], "policy_uri"),
        (["--redirect-uri", "https://other.example/cb"], "sector_identifier_uri"),
        (["--sector-identifier-uri", "https://127.0.0.1:1/none.json"], "sector_identifier_uri"),
    ],
)
def test_clients_create_refuses_bad_metadata(runner, app_ctx, extra, field):
    partner = make_partner()
    before = counts()
    result = runner.invoke(args=client_args(partner.id, "--scope", "openid", *extra, "--json"))
    assert result.exit_code == 1, result.output
    assert one_json_object(result)["field"] == field
    assert counts() == before


def test_clients_update_changes_only_what_is_given(runner, app_ctx):
    client, secret = make_client(approved=False)
    version = client.version
    result = runner.invoke(
        args=[
            "clients",
            "update",
            client.client_id,
            "--name",
            "Renamed",
            "--scope",
            "openid card_number",
            "--policy-uri",
            "https://partner.example/privacy",
            "--json",
        ]
    )
    assert result.exit_code == 0, result.output
    payload = one_json_object(result)
    assert payload["client_id"] == client.client_id and payload["client_secret"] is None
    db.session.expire_all()
    changed = get_client(client.client_id)
    assert changed.client_name == "Renamed"
    assert changed.scope == "openid card_number" and changed.purposes == ["miles"]
    assert changed.policy_uri == "https://partner.example/privacy"
    assert changed.redirect_uris == ["https://partner.example/callback"]
    assert changed.check_client_secret(secret)
    assert payload["version"] == changed.version > version
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.client_id == client.client_id, AuditEvent.event == "client.updated")
        )
        == 1
    )


def test_clients_update_refuses_bad_input_and_changes_nothing(runner, app_ctx):
    client, _ = make_client()
    before = counts()
    result = runner.invoke(
        args=[
            "clients",
            "update",
            client.client_id,
            "--redirect-uri",
            "http://x.example/",
            "--json",
        ]
    )
    assert result.exit_code == 1
    assert one_json_object(result)["field"] == "redirect_uris"
    assert counts() == before
    db.session.expire_all()
    assert get_client(client.client_id).redirect_uris == ["https://partner.example/callback"]
    unknown = runner.invoke(args=["clients", "update", "nobody", "--name", "X", "--json"])
    assert unknown.exit_code == 1 and one_json_object(unknown)["error"] == "not_found"


def test_clients_rotate_secret_with_a_grace_period(runner, app_ctx):
    client, old = make_client()
    result = runner.invoke(
        args=["clients", "rotate-secret", client.client_id, "--grace", "3600", "--json"]
    )
    assert result.exit_code == 0, result.output
    payload = one_json_object(result)
    assert set(payload) == {"client_id", "client_secret", "previous_secret_expires_at"}
    assert payload["previous_secret_expires_at"]
    db.session.expire_all()
    rotated = get_client(client.client_id)
    assert rotated.check_client_secret(payload["client_secret"])
    assert rotated.check_client_secret(old)
    again = runner.invoke(args=["clients", "rotate-secret", client.client_id, "--json"])
    assert one_json_object(again)["previous_secret_expires_at"] is None
    db.session.expire_all()
    assert not get_client(client.client_id).check_client_secret(payload["client_secret"])


@pytest.mark.parametrize(("grace", "status"), [("604801", 1), ("-5", 2), ("soon", 2)])
def test_clients_rotate_secret_refuses_a_grace_beyond_seven_days(runner, app_ctx, grace, status):
    client, old = make_client()
    result = runner.invoke(
        args=["clients", "rotate-secret", client.client_id, "--grace", grace, "--json"]
    )
    assert result.exit_code == status, result.output
    one_json_object(result)
    db.session.expire_all()
    assert get_client(client.client_id).check_client_secret(old)


def test_clients_registration_token_defaults_to_reusable_for_a_day(runner, app_ctx):
    from datetime import timedelta

    from idp.models import InitialAccessToken
    from idp.models.types import utcnow
    from idp.services.dynamic_registration import find_initial_access_token

    result = runner.invoke(args=["clients", "registration-token", "--json"])
    assert result.exit_code == 0, result.output
    payload = one_json_object(result)
    assert set(payload) == {"initial_access_token"}
    row = find_initial_access_token(payload["initial_access_token"])
    assert row.partner_id is None and row.max_uses is None
    assert abs(row.expires_at - (utcnow() + timedelta(hours=24))) < timedelta(minutes=1)
    assert payload["initial_access_token"] not in str(
        db.session.scalars(select(InitialAccessToken.token_hash)).all()
    )


def test_clients_registration_token_bound_to_a_partner(runner, app_ctx):
    from idp.services.dynamic_registration import find_initial_access_token

    partner = make_partner()
    args = [
        "clients",
        "registration-token",
        "--partner-id",
        partner.id,
        "--uses",
        "1",
        "--ttl",
        "60",
        "--json",
    ]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    row = find_initial_access_token(one_json_object(result)["initial_access_token"])
    assert row.partner_id == partner.id and row.max_uses == 1


@pytest.mark.parametrize(
    ("extra", "error", "field"),
    [
        (["--partner-id", "nobody"], "not_found", "partner_id"),
        (["--uses", "0"], "invalid_input", "uses"),
        (["--ttl", "0"], "invalid_input", "ttl"),
        (["--ttl", str(366 * 86400)], "invalid_input", "ttl"),
    ],
)
def test_clients_registration_token_refuses_bad_input(runner, app_ctx, extra, error, field):
    before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    result = runner.invoke(args=["clients", "registration-token", *extra, "--json"])
    assert result.exit_code == 1, result.output
    payload = one_json_object(result)
    assert (payload["error"], payload["field"]) == (error, field)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before


def test_clients_update_keeps_or_changes_first_party(runner, app_ctx):
    client, _ = make_client(first_party=True)
    kept = runner.invoke(args=["clients", "update", client.client_id, "--name", "Own", "--json"])
    assert kept.exit_code == 0, kept.output
    db.session.expire_all()
    assert get_client(client.client_id).first_party
    dropped = runner.invoke(args=["clients", "update", client.client_id, "--not-first-party"])
    assert dropped.exit_code == 0, dropped.output
    db.session.expire_all()
    changed = get_client(client.client_id)
    assert not changed.first_party and changed.subject_type == "pairwise"


def test_clients_create_and_update_set_the_pushed_request_requirement(runner, app_ctx):
    partner = make_partner("PAR Shop", "partner_company")
    created = runner.invoke(
        args=[
            "clients", "create", "--partner-id", partner.id, "--name", "Strict",
            "--redirect-uri", "https://shop.example/cb", "--scope", "openid", "--require-par",
            "--json",
        ]
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    client_id = json.loads(created.stdout)["client_id"]
    assert get_client(client_id).require_pushed_authorization_requests is True
    kept = runner.invoke(args=["clients", "update", client_id, "--name", "Still strict"])
    assert kept.exit_code == 0, kept.output
    db.session.expire_all()
    assert get_client(client_id).require_pushed_authorization_requests is True
    cleared = runner.invoke(args=["clients", "update", client_id, "--no-require-par"])
    assert cleared.exit_code == 0, cleared.output
    db.session.expire_all()
    assert get_client(client_id).require_pushed_authorization_requests is False
