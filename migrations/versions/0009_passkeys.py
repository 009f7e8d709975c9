"""Passkeys (WebAuthn) as a second factor.

- ``passkeys``: a member's registered public key credentials: the credential id
  (base64url), the COSE public key, the signature counter, transports, the
  authenticator attachment and AAGUID, the backup flags, the member's name for
  it (encrypted), when it was added and last used.
- ``passkey_challenges``: single-use, short-lived challenges of the register and
  login ceremonies (their SHA-256 hash only).

Revision ID: 0009_passkeys
Revises: 0008_account_links
Create Date: 2026-12-03 08:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_passkeys"
down_revision = "0008_account_links"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "passkeys",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("member_id", sa.String(length=32), nullable=False),
        sa.Column("credential_id", sa.String(length=1400), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("transports", sa.JSON(), nullable=False),
        sa.Column("attachment", sa.String(length=16), nullable=True),
        sa.Column("aaguid", sa.String(length=36), nullable=True),
        sa.Column("backup_eligible", sa.Boolean(), nullable=False),
        sa.Column("backed_up", sa.Boolean(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_passkeys_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_passkeys")),
        sa.UniqueConstraint("credential_id", name=op.f("uq_passkeys_credential_id")),
    )
    op.create_index(op.f("ix_passkeys_member_id"), "passkeys", ["member_id"], unique=False)
    op.create_table(
        "passkey_challenges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge_hash", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_passkey_challenges_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_passkey_challenges")),
        sa.UniqueConstraint("challenge_hash", name=op.f("uq_passkey_challenges_challenge_hash")),
    )
    op.create_index(
        op.f("ix_passkey_challenges_member_id"),
        "passkey_challenges",
        ["member_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_passkey_challenges_expires_at"),
        "passkey_challenges",
        ["expires_at"],
        unique=False,
    )


def downgrade():
    op.drop_index(op.f("ix_passkey_challenges_expires_at"), table_name="passkey_challenges")
    op.drop_index(op.f("ix_passkey_challenges_member_id"), table_name="passkey_challenges")
    op.drop_table("passkey_challenges")
    op.drop_index(op.f("ix_passkeys_member_id"), table_name="passkeys")
    op.drop_table("passkeys")
