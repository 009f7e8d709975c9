"""A version on every client, raised by each change, for the per-process copies of clients.

Existing rows start at 1; the ORM raises the version in every UPDATE of a
client from now on (``version_id_col``).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 07:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


# Plain ALTER TABLE on both databases (SQLite 3.35+ drops a column in place): a batch
# operation would copy the table on SQLite, and dropping the copied ``clients`` fails
# on the foreign keys that point at it.


def upgrade():
    op.add_column(
        "clients", sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False)
    )


def downgrade():
    op.drop_column("clients", "version")
