"""Finding partners: the one lookup by id that pages and commands share."""

from __future__ import annotations

from sqlalchemy import select

from idp.extensions import db
from idp.models import Partner

#: Partner ids are 32 hex digits (``idp.models.types.new_id``); longer is no partner.
_MAX_ID_LENGTH = 32


def find_partner(partner_id: str) -> Partner | None:
    """The partner with this id, or None; a longer id than any stored is not looked up."""
    if len(partner_id) > _MAX_ID_LENGTH:
        return None
    return db.session.get(Partner, partner_id)


def all_partners() -> list[Partner]:
    """Every partner by name, for the operator console's choices."""
    return list(db.session.scalars(select(Partner).order_by(Partner.name, Partner.id)))
