"""Partners (organisations) and the members who develop their clients."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp.extensions import db
from idp.models.types import UTCDateTime, new_id, utcnow

PARTNER_CATEGORIES = ("lhg_airline", "co_issuer", "partner_company")


class Partner(db.Model):
    __tablename__ = "partners"
    __table_args__ = (
        CheckConstraint(
            "category IN ('lhg_airline', 'co_issuer', 'partner_company')", name="category"
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(24))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Consent screen customisation, validated by ``idp.services.branding``:
    #: an https logo, a brand colour (``#rrggbb``) readable under white text,
    #: and a short plain extra text per language ({"en": ..., "de": ...}).
    logo_uri: Mapped[str | None] = mapped_column(Text)
    brand_colour: Mapped[str | None] = mapped_column(String(7))
    extra_texts: Mapped[dict] = mapped_column(JSON, default=dict)

    developers: Mapped[list[PartnerDeveloper]] = relationship(
        back_populates="partner", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Partner {self.id} {self.name!r}>"


class PartnerDeveloper(db.Model):
    """A member who may manage a partner's clients and use them before approval."""

    __tablename__ = "partner_developers"

    partner_id: Mapped[str] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[str] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    partner: Mapped[Partner] = relationship(back_populates="developers")
