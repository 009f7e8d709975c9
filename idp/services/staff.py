"""Miles & More staff: who may use the operator console (``/admin``).

A member becomes an operator only through ``mam-idp staff add``, run by
someone who already holds the server; nothing in the web pages grants it.
The console also wants the two-factor login (``two_factor``) of every page.
"""

from __future__ import annotations

from idp.extensions import db
from idp.models import Member, SSOSession, StaffMember
from idp.models.staff import ACTING_ROLES, STAFF_ROLES
from idp.services import audit
from idp.services.errors import InvalidInput
from idp.services.member_reference import require_member


def add_staff(reference: str, role: str = "admin") -> tuple[Member, StaffMember]:
    """Make the member an operator with ``role`` (a changed role replaces the old). Commits."""
    if role not in STAFF_ROLES:
        raise InvalidInput(f"The role is one of {', '.join(STAFF_ROLES)}.", "role")
    member = require_member(reference)
    staff = db.session.get(StaffMember, member.id)
    if staff is not None and staff.role == role:
        return member, staff
    if staff is None:
        staff = StaffMember(member_id=member.id, role=role)
        db.session.add(staff)
    else:
        staff.role = role
    audit.record("staff.added", member_id=member.id, role=role)
    db.session.commit()
    return member, staff


def role_of(member_id: str) -> str | None:
    staff = db.session.get(StaffMember, member_id)
    return staff.role if staff is not None else None


def may_act(role: str | None) -> bool:
    """Whether the role may change anything through the console (not only read)."""
    return role in ACTING_ROLES


def two_factor(sso: SSOSession) -> bool:
    """The session's login used two factors (RFC 8176 ``mfa``, set at login)."""
    return "mfa" in (sso.amr or [])
