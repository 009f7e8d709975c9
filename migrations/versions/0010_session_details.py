"""Session details for the security page, and a second TOTP key while it is replaced.

- ``sso_sessions.address_prefix``: the network the session started from, cut
  to an IPv4 /24 or an IPv6 /48 before it is written (never the full address).
- ``member_credentials.totp_pending_secret``: the new authenticator key a
  member is switching to (encrypted like ``totp_secret``); the old key keeps
  working until a code of the new one is entered.

Revision ID: 0010_session_details
Revises: 0009_passkeys
Create Date: 2026-12-03 08:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_session_details"
down_revision = "0009_passkeys"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("sso_sessions") as batch_op:
        batch_op.add_column(sa.Column("address_prefix", sa.String(length=64), nullable=True))
    with op.batch_alter_table("member_credentials") as batch_op:
        batch_op.add_column(sa.Column("totp_pending_secret", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("member_credentials") as batch_op:
        batch_op.drop_column("totp_pending_secret")
    with op.batch_alter_table("sso_sessions") as batch_op:
        batch_op.drop_column("address_prefix")
