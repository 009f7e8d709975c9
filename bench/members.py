"""Members: enrolment, login lookups through the blind indexes, password and field crypto."""

from __future__ import annotations

import random
import secrets
import time

from bench.registry import Context, Result, benchmark
from idp.extensions import db, keyring
from idp.services.members import NewMember, create_member, find_by_card_number, find_by_email
from idp.services.passwords import hash_password, verify_password

PASSWORD = "benchmark password"


@benchmark("members.create")
def create_members(ctx: Context) -> list[Result]:
    """create_member end to end: validation, argon2id hash, encryption, indexes, commit."""
    prefix = secrets.token_hex(4)
    serial = iter(range(1_000_000))

    def create() -> None:
        create_member(
            NewMember(
                email=f"new-{prefix}-{next(serial)}@bench.example",
                password=PASSWORD,
                given_name="New",
                family_name="Member",
            )
        )
        db.session.expunge_all()

    with ctx.app.app_context():
        result = ctx.measure("members.create", create, runs=40, note="argon2id dominates")
    return [result]


def _lookups(ctx: Context, name: str, find, keys: list[str]) -> Result:
    sample = random.Random(7).sample(keys, min(1000, len(keys)))
    queue = iter(sample)

    def lookup() -> None:
        key = next(queue)
        if find(key) is None:
            raise AssertionError(f"{name}: a populated member was not found")
        # A fresh identity map each time, so every lookup loads and decrypts a row.
        db.session.expunge_all()

    with ctx.app.app_context():
        return ctx.measure(name, lookup, runs=len(sample), note=f"{len(keys)} members")


@benchmark("login.lookup_email")
def lookup_by_email(ctx: Context) -> list[Result]:
    return [_lookups(ctx, "login.lookup_email", find_by_email, ctx.emails)]


@benchmark("login.lookup_card")
def lookup_by_card(ctx: Context) -> list[Result]:
    return [_lookups(ctx, "login.lookup_card", find_by_card_number, ctx.card_numbers)]


@benchmark("passwords.argon2")
def argon2(ctx: Context) -> list[Result]:
    stored = hash_password(PASSWORD)
    verify = ctx.measure(
        "passwords.argon2_verify", lambda: verify_password(stored, PASSWORD), runs=30
    )
    wrong = ctx.measure(
        "passwords.argon2_verify_wrong", lambda: verify_password(stored, "wrong password"), runs=30
    )
    return [verify, wrong]


@benchmark("crypto.field")
def field_crypto(ctx: Context) -> list[Result]:
    """One personal data field (40 characters) through the data keyring."""
    value = "Given-Name Family-Name of forty chars!!!"
    token = keyring.encrypt(value)
    runs = 5000
    results = [
        ctx.measure("crypto.encrypt", lambda: keyring.encrypt(value), runs=runs),
        ctx.measure("crypto.decrypt", lambda: keyring.decrypt(token), runs=runs),
        ctx.measure("crypto.blind_index", lambda: keyring.blind_index(value), runs=runs),
    ]
    started = time.perf_counter()
    for _ in range(runs):
        keyring.reencrypt(token)
    results.append(
        Result(
            "crypto.reencrypt",
            rows_per_s=runs / (time.perf_counter() - started),
            note="per value, as keys rotate-data-key does",
        )
    )
    return results
