"""Answers from an airline arriving at once: a request is taken by one of them only, and a
profile ends up linked to one member only, on a database whose commits are real."""

from __future__ import annotations

import secrets
import threading

from sqlalchemy import func, select

from idp.extensions import db
from idp.models import AuditEvent, LinkedProfile
from idp.services import linked_profiles
from tests.factories import make_member

THREADS = 8


def _at_once(app, work) -> list:
    """``work(number)`` on ``THREADS`` threads released together, each in its own app context."""
    barrier = threading.Barrier(THREADS)
    results: list = [None] * THREADS

    def run(number: int) -> None:
        with app.app_context():
            barrier.wait(timeout=10)
            try:
                results[number] = work(number)
            except Exception as exc:  # kept, so that the test says which
                results[number] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_one_answer_of_many_at_once_takes_the_request(committed_app):
    state, browser = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with committed_app.app_context():
        linked_profiles.open_request(
            airline="lufthansa", purpose="login", state=state, browser_binding=browser,
            nonce_hash=secrets.token_hex(32), code_verifier="v" * 43,
        )
    taken = _at_once(
        committed_app, lambda _n: linked_profiles.take_request("lufthansa", state, browser)
    )
    assert not [r for r in taken if isinstance(r, Exception)], taken
    assert len([r for r in taken if r is not None]) == 1


def test_one_profile_linked_by_many_members_at_once_goes_to_one(committed_app):
    issuer, subject = "https://id.lufthansa.example", secrets.token_hex(16)
    with committed_app.app_context():
        members = [make_member()[0] for _ in range(THREADS)]
        db.session.commit()
        member_ids = [m.id for m in members]

    def link(number: int):
        member = db.session.get(type(members[0]), member_ids[number])
        return linked_profiles.link(member, "lufthansa", issuer, subject, evidence=None)

    results = _at_once(committed_app, link)
    refused = [r for r in results if isinstance(r, linked_profiles.LinkingRefused)]
    others = [r for r in results if isinstance(r, Exception) and r not in refused]
    assert others == []
    assert len(refused) == THREADS - 1
    with committed_app.app_context():
        rows = db.session.scalars(
            select(LinkedProfile).where(LinkedProfile.subject == subject)
        ).all()
        assert len(rows) == 1 and rows[0].member_id in member_ids
        assert db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(
                AuditEvent.event == "linking.refused", AuditEvent.member_id.in_(member_ids)
            )
        ) == THREADS - 1
