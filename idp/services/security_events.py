"""The claims of a Security Event Token about a member, for one partner's client.

RFC 8417 §2.2: ``iss``, ``aud``, ``toe`` and ``events``; ``iat`` and ``jti`` are
set when the token is signed (``idp.services.notifications``). The member is
named by the subject the client knows (pairwise or public), also as the
``iss_sub`` subject identifier of RFC 9493 §3.2.5 that CAEP and RISC events carry.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app

from idp.models import Client, Member
from idp.models.types import utcnow
from idp.services.subjects import subject_for


def member_event_claims(
    client: Client, member: Member, events: Callable[[dict, int], dict]
) -> dict:
    """The SET's claims; ``events(subject_id, now)`` gives its ``events`` object."""
    issuer = current_app.config["IDP"].issuer
    subject = subject_for(member, client)
    now = int(utcnow().timestamp())
    subject_id = {"format": "iss_sub", "iss": issuer, "sub": subject}
    return {
        "iss": issuer,
        "aud": client.client_id,
        "sub": subject,
        "toe": now,
        "events": events(subject_id, now),
    }
