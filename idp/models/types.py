"""Column types shared by the models: encrypted values, UTC timestamps, new ids."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Integer, Text
from sqlalchemy.types import TypeDecorator

from idp.extensions import keyring

#: An auto-incrementing 64-bit key that SQLite also increments.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def new_id() -> str:
    """A random 128-bit identifier as 32 hex digits."""
    return secrets.token_hex(16)


def new_grant_id() -> str:
    """A random 256-bit identifier, URL-safe (the grant_id of Grant Management §5.4)."""
    return secrets.token_urlsafe(32)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timestamps are aware datetimes in UTC in Python, whatever the database keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class EncryptedText(TypeDecorator):
    """A string stored encrypted with the current data key (see ``idp.crypto``)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else keyring.encrypt(value)

    def process_result_value(self, value, dialect):
        return None if value is None else keyring.decrypt(value)


class EncryptedJSON(TypeDecorator):
    """A JSON document stored encrypted with the current data key."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else keyring.encrypt(json.dumps(value, sort_keys=True))

    def process_result_value(self, value, dialect):
        return None if value is None else json.loads(keyring.decrypt(value))
