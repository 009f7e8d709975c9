"""A throw-away provider on a SQLite file, populated with members for the benchmarks.

Members are inserted in bulk with one shared password hash: hashing 10,000
passwords with argon2id would take minutes and measure nothing the
``members.create`` benchmark does not already show. Every personal field is
encrypted and every blind index computed, as ``create_member`` does.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import insert

from idp import create_app
from idp.config import load_settings, new_data_key
from idp.extensions import db
from idp.models import CardNumber, Credential, Member
from idp.models.types import new_id, utcnow
from idp.services.cards import luhn_check_digit
from idp.services.members import card_index, email_index
from idp.services.passwords import hash_password

BATCH = 1000


def make_app(workdir: Path) -> Flask:
    settings = load_settings(
        environ={},
        instance_path=workdir / "instance",
        database_url=f"sqlite:///{workdir / 'bench.sqlite3'}",
        secret_key=secrets.token_urlsafe(48),
        data_keys=(new_data_key(),),
    )
    app = create_app(settings)
    with app.app_context():
        upgrade()
    return app


def card_number(serial: int) -> str:
    body = f"992{serial:011d}"
    return body + luhn_check_digit(body)


def populate(count: int) -> tuple[list[str], list[str]]:
    """Insert ``count`` members; returns their emails and card numbers."""
    password_hash = hash_password("benchmark password")
    emails, cards = [], []
    now = utcnow()
    for start in range(0, count, BATCH):
        members, numbers, credentials = [], [], []
        for serial in range(start, min(count, start + BATCH)):
            member_id = new_id()
            email = f"member{serial}@bench.example"
            number = card_number(serial)
            members.append(
                {
                    "id": member_id,
                    "email_index": email_index(email),
                    "email": email,
                    "email_verified": True,
                    "given_name": f"Given{serial}",
                    "family_name": f"Family{serial}",
                    "phone_number": f"+49301{serial:07d}",
                    "status_tier": "base",
                    "status_miles": 0,
                    "miles_balance": serial,
                }
            )
            numbers.append(
                {
                    "member_id": member_id,
                    "number_index": card_index(number),
                    "number": number,
                    "reason": "enrolment",
                    "issued_at": now,
                }
            )
            credentials.append({"member_id": member_id, "password_hash": password_hash})
            emails.append(email)
            cards.append(number)
        db.session.execute(insert(Member), members)
        db.session.execute(insert(CardNumber), numbers)
        db.session.execute(insert(Credential), credentials)
        db.session.commit()
    return emails, cards
