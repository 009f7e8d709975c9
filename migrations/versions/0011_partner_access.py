"""What partners read of a member, counted per member, partner, data scope and day.

- ``partner_access``: one row per (member, partner, category, day) with the
  number of reads; the primary key is the key the atomic increment conflicts on.

Revision ID: 0011_partner_access
Revises: 0010_session_details
Create Date: 2026-12-03 08:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_partner_access"
down_revision = "0010_session_details"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "partner_access",
        sa.Column("member_id", sa.String(length=32), nullable=False),
        sa.Column("partner_id", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_partner_access_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_partner_access_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "member_id", "partner_id", "category", "day", name=op.f("pk_partner_access")
        ),
    )
    op.create_index(
        op.f("ix_partner_access_partner_id"), "partner_access", ["partner_id"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_partner_access_partner_id"), table_name="partner_access")
    op.drop_table("partner_access")
