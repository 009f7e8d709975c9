"""Finding a member the way an operator names one: member id, email address or card number.

The commands that act on a member someone else names (``staff add``, and the
developer commands) share this one lookup, so the three spellings mean the
same everywhere.
"""

from __future__ import annotations

from idp.extensions import db
from idp.models import Member, MemberErasure
from idp.services.errors import NotFound
from idp.services.members import find_by_login, get_member

#: Member ids are 32 hex digits (``idp.models.types.new_id``).
_MAX_ID_LENGTH = 32


def find_member(reference: str) -> Member | None:
    """The member with this id, email address or current card number, or None."""
    reference = (reference or "").strip()
    if not reference:
        return None
    if len(reference) <= _MAX_ID_LENGTH and "@" not in reference:
        found = get_member(reference)
        if found is not None:
            # A deleted account's tombstone is nobody an operator may act on (Art. 17).
            return None if db.session.get(MemberErasure, found.id) else found
    return find_by_login(reference)


def require_member(reference: str, field: str = "member") -> Member:
    found = find_member(reference)
    if found is None:
        raise NotFound("No member with this id, email address or card number.", field)
    return found
