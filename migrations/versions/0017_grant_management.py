"""Grant management for partners: every consent gets a public grant identifier.

- ``consents.grant_id``: the ``grant_id`` of Grant Management for OAuth 2.0
  (§5.4), 256 random bits in URL-safe base64, unique. It is not the row's key:
  the key appears in the audit log and the evidence, and a fresh decision
  (``grant_management_action=create``) gives the grant a new public name while
  its evidence stays on the same row. Existing consents get one each here.
- ``consent_records.actor`` may now also read ``partner`` (a client released its
  grant); the column is wide enough already.

Revision ID: 0017_grant_management
Revises: 0016_dpop
Create Date: 2026-12-03 11:00:00.000000
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0017_grant_management"
down_revision = "0016_dpop"
branch_labels = None
depends_on = None


def upgrade():
    # SQLite adds a NOT NULL column only with a default; every row gets its own value next.
    # (A batch copy of the table would have to drop it, which its references forbid.)
    op.add_column(
        "consents",
        sa.Column("grant_id", sa.String(length=64), nullable=False, server_default=""),
    )
    consents = sa.table("consents", sa.column("id", sa.String), sa.column("grant_id", sa.String))
    connection = op.get_bind()
    for (consent_id,) in connection.execute(sa.select(consents.c.id)).all():
        connection.execute(
            consents.update()
            .where(consents.c.id == consent_id)
            .values(grant_id=secrets.token_urlsafe(32))
        )
    if connection.dialect.name != "sqlite":
        op.alter_column("consents", "grant_id", server_default=None)
    op.create_index(op.f("ix_consents_grant_id"), "consents", ["grant_id"], unique=True)


def downgrade():
    op.drop_index(op.f("ix_consents_grant_id"), table_name="consents")
    op.drop_column("consents", "grant_id")
