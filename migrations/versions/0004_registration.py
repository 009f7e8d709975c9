"""Dynamic client registration and secret rotation with a grace period.

``initial_access_tokens`` holds the hashes of the tokens operators issue for
RFC 7591 registration. ``clients`` gains the hash of the secret a rotation
replaced and when it stops working, and the hashes of its RFC 7592
registration access token and of the one it replaced. Every new column is
nullable, so the previous release keeps running against the new schema.

Revision ID: 0004_registration
Revises: 0003_linked_profiles
Create Date: 2026-12-02 15:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_registration"
down_revision = "0003_linked_profiles"
branch_labels = None
depends_on = None

CLIENT_COLUMNS = (
    ("previous_secret_hash", sa.String(length=64)),
    ("previous_secret_expires_at", sa.DateTime(timezone=True)),
    ("registration_token_hash", sa.String(length=64)),
    ("previous_registration_token_hash", sa.String(length=64)),
)


def upgrade():
    op.create_table(
        "initial_access_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("partner_id", sa.String(length=32), nullable=True),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_initial_access_tokens_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initial_access_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_initial_access_tokens_token_hash")),
    )
    op.create_index(
        op.f("ix_initial_access_tokens_partner_id"), "initial_access_tokens", ["partner_id"]
    )
    op.create_index(
        op.f("ix_initial_access_tokens_expires_at"), "initial_access_tokens", ["expires_at"]
    )
    # Plain ALTER TABLE, as in 0002: a batch copy of ``clients`` fails on SQLite.
    for name, type_ in CLIENT_COLUMNS:
        op.add_column("clients", sa.Column(name, type_, nullable=True))


def downgrade():
    for name, _ in reversed(CLIENT_COLUMNS):
        op.drop_column("clients", name)
    op.drop_index(op.f("ix_initial_access_tokens_expires_at"), table_name="initial_access_tokens")
    op.drop_index(op.f("ix_initial_access_tokens_partner_id"), table_name="initial_access_tokens")
    op.drop_table("initial_access_tokens")
