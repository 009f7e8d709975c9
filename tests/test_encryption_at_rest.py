"""Personal data and secrets are ciphertext in the database, read back with text()."""

from __future__ import annotations

from sqlalchemy import text

from idp.extensions import db, keyring
from idp.models import OutgoingMail
from idp.services.data_keys import encrypted_columns
from idp.services.members import email_index
from tests.factories import make_member

FERNET_PREFIX = "gAAAAA"  # version byte 0x80 and a timestamp's high bytes, base64


def raw(sql: str, **params):
    return db.session.execute(text(sql), params).one()


def test_member_personal_data_is_ciphertext(app_ctx, unique):
    email = f"{unique('rest')}@example.com"
    member, _, totp = make_member(
        email=email,
        given_name="Małgorzata",
        family_name="Wiśniewska",
        phone_number="+48601234567",
        birthdate="1969-12-31",
        gender="female",
    )
    member.academic_title = "Dr. hab."
    member.address = {"street_address": "ul. Długa 5", "postal_code": "80-831"}
    db.session.commit()

    row = raw(
        "SELECT email, given_name, family_name, phone_number, birthdate, gender, "
        "academic_title, address, email_index FROM members WHERE id = :id",
        id=member.id,
    )
    plaintexts = [
        email,
        "Małgorzata",
        "Wiśniewska",
        "+48601234567",
        "1969-12-31",
        "female",
        "Dr. hab.",
        None,
    ]
    for stored, plaintext in zip(row[:8], plaintexts, strict=True):
        assert stored.startswith(FERNET_PREFIX)
        if plaintext is not None:
            assert plaintext not in stored
            assert keyring.decrypt(stored) == plaintext
    assert "ul. Długa" not in row.address and "80-831" not in row.address
    # The lookup index is a keyed hash, not the address.
    assert row.email_index == email_index(email) and len(row.email_index) == 64

    card = raw("SELECT number, number_index FROM card_numbers WHERE member_id = :id", id=member.id)
    assert card.number.startswith(FERNET_PREFIX)
    assert member.card_number not in card.number and member.card_number not in card.number_index

    credential = raw(
        "SELECT totp_secret, password_hash FROM member_credentials WHERE member_id = :id",
        id=member.id,
    )
    assert credential.totp_secret.startswith(FERNET_PREFIX) and totp not in credential.totp_secret
    assert credential.password_hash.startswith("$argon2id$")


def test_mail_outbox_is_ciphertext(app_ctx, unique):
    recipient = f"{unique('rest')}@example.com"
    mail = OutgoingMail(
        recipient=recipient, subject="Code", body="Your code: 918273", purpose="email_code"
    )
    db.session.add(mail)
    db.session.commit()
    row = raw("SELECT recipient, body FROM mail_outbox WHERE id = :id", id=mail.id)
    assert recipient not in row.recipient and "918273" not in row.body
    assert keyring.decrypt(row.body) == "Your code: 918273"


def test_every_encrypted_column_holds_only_ciphertext(app_ctx, unique):
    make_member(email=f"{unique('rest')}@example.com", phone_number="+4930123456")
    checked = 0
    for table, columns in encrypted_columns().items():
        for column in columns:
            values = db.session.execute(
                text(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL")  # noqa: S608
            ).scalars()
            for value in values:
                assert value.startswith(FERNET_PREFIX), (table, column)
                keyring.decrypt(value)
                checked += 1
    assert checked >= 6
