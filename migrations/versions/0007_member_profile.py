"""The member's profile: travel preferences, and email changes confirmed by a link.

- ``members.travel_preferences``: home airport, seat and meal (encrypted JSON).
- ``email_changes``: a requested new address (encrypted) with the SHA-256 hash
  of the single-use link sent to it, when it expires, and when it was
  confirmed or replaced by a later request.

Revision ID: 0007_member_profile
Revises: 0006_developer_portal
Create Date: 2026-12-03 07:45:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_member_profile"
down_revision = "0006_developer_portal"
branch_labels = None
depends_on = None


# Plain ALTER TABLE on both databases (see 0002): a batch operation would copy
# ``members``, which many foreign keys point at.


def upgrade():
    op.add_column("members", sa.Column("travel_preferences", sa.Text(), nullable=True))
    op.create_table(
        "email_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("new_email", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_email_changes_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_changes")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_email_changes_token_hash")),
    )
    op.create_index(
        op.f("ix_email_changes_member_id"), "email_changes", ["member_id"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_email_changes_member_id"), table_name="email_changes")
    op.drop_table("email_changes")
    op.drop_column("members", "travel_preferences")
