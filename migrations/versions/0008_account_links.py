"""Single-use links mailed to members: password reset and second-factor enrolment.

- ``account_links``: the SHA-256 hash of each link's token, its member, its
  purpose, when it expires and when it was used.

Revision ID: 0008_account_links
Revises: 0007_member_profile
Create Date: 2026-12-03 08:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_account_links"
down_revision = "0007_member_profile"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "account_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_account_links_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_account_links_token_hash")),
    )
    op.create_index(
        op.f("ix_account_links_member_id"), "account_links", ["member_id"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_account_links_member_id"), table_name="account_links")
    op.drop_table("account_links")
