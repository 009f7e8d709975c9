"""Pushed authorization requests (RFC 9126).

- ``pushed_authorization_requests``: the parameters a client pushed (encrypted),
  under the hash of the ``request_uri`` it was given; single use, short-lived.
- ``clients.require_pushed_authorization_requests`` (RFC 9126 §6): the client's
  authorization requests are accepted only through a pushed request. Existing
  clients keep accepting plain ones.

Revision ID: 0015_pushed_requests
Revises: 0014_consent_claims
Create Date: 2026-12-03 10:45:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_pushed_requests"
down_revision = "0014_consent_claims"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "pushed_authorization_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference_hash", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        # EncryptedJSON: ciphertext of the JSON document.
        sa.Column("parameters", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("holder_hash", sa.String(length=64), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_pushed_authorization_requests_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pushed_authorization_requests")),
        sa.UniqueConstraint(
            "reference_hash", name=op.f("uq_pushed_authorization_requests_reference_hash")
        ),
    )
    with op.batch_alter_table("pushed_authorization_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pushed_authorization_requests_client_id"), ["client_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_pushed_authorization_requests_expires_at"), ["expires_at"], unique=False
        )
    # Plain ALTER TABLE (as in 0002): a batch operation would copy ``clients`` on SQLite,
    # and dropping the copied table fails on the foreign keys that point at it.
    op.add_column(
        "clients",
        sa.Column(
            "require_pushed_authorization_requests",
            sa.Boolean(),
            server_default=sa.false(),
            nullable=False,
        ),
    )


def downgrade():
    op.drop_column("clients", "require_pushed_authorization_requests")
    with op.batch_alter_table("pushed_authorization_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pushed_authorization_requests_expires_at"))
        batch_op.drop_index(batch_op.f("ix_pushed_authorization_requests_client_id"))
    op.drop_table("pushed_authorization_requests")
