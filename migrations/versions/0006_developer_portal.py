"""The developer portal: invitations by email to develop a partner's clients.

- ``developer_invitations``: a single-use link per invitation (its SHA-256
  hash only), the invited address (encrypted), who invited, when it expires
  and who accepted it.

Revision ID: 0006_developer_portal
Revises: 0005_operator_console
Create Date: 2026-12-02 16:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_developer_portal"
down_revision = "0005_operator_console"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "developer_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("partner_id", sa.String(length=32), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("invited_by", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_by", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_developer_invitations_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invited_by"],
            ["members.id"],
            name=op.f("fk_developer_invitations_invited_by_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["accepted_by"],
            ["members.id"],
            name=op.f("fk_developer_invitations_accepted_by_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_developer_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_developer_invitations_token_hash")),
    )
    op.create_index(
        op.f("ix_developer_invitations_partner_id"),
        "developer_invitations",
        ["partner_id"],
        unique=False,
    )


def downgrade():
    op.drop_index(op.f("ix_developer_invitations_partner_id"), table_name="developer_invitations")
    op.drop_table("developer_invitations")
