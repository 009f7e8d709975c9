"""A member account an operator disabled (RISC 1.0 §2.3 ``account-disabled``).

- ``members.disabled_at``: when an operator disabled the account; while set the
  member cannot log in, reset the password or follow an enrolment link, and no
  token is issued. Cleared when the account is enabled again.
- ``members.disabled_reason``: the RISC ``reason`` (``hijacking``,
  ``bulk-account``) or ``other``.

Revision ID: 0019_member_disabled
Revises: 0018_ssf_streams
Create Date: 2026-12-03 11:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_member_disabled"
down_revision = "0018_ssf_streams"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE, never a copy: rebuilding ``members`` would cascade to its children.
    op.add_column("members", sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("members", sa.Column("disabled_reason", sa.String(length=16), nullable=True))


def downgrade():
    op.drop_column("members", "disabled_reason")
    op.drop_column("members", "disabled_at")
