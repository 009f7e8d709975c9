"""Narrowing and pausing a grant: a consent can be paused (GDPR Art. 18 restriction).

- ``consents.paused_at``: when the member paused the partner; while set, the
  consent's tokens are refused and nothing is released, and the consent stays.
  Narrowing (``Stop sharing``) needs no column of its own: the consent's
  ``scope`` shrinks and the item joins its ``declined_scope``.

Revision ID: 0013_grant_narrowing
Revises: 0012_data_erasure
Create Date: 2026-12-03 08:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_grant_narrowing"
down_revision = "0012_data_erasure"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("consents", sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    op.drop_column("consents", "paused_at")
