"""Linked Lufthansa Group ID profiles, their consent evidence, and upstream requests.

``linked_profiles`` holds each member's standing links (one profile to one
member, one member to one profile per airline); ``linking_records`` the
evidence of every link and unlink, append-only like ``consent_records`` (a
trigger refuses UPDATE on both databases); ``upstream_requests`` the
authorization requests sent to an airline's ID service, each answered once.

Revision ID: 0003_linked_profiles
Revises: 0002
Create Date: 2026-12-02 15:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_linked_profiles"
down_revision = "0002"
branch_labels = None
depends_on = None

# The timestamps as the models declare them (``idp.models.types.UTCDateTime``).
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "linked_profiles",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("member_id", sa.String(length=32), nullable=False),
        sa.Column("airline", sa.String(length=32), nullable=False),
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("linked_at", TIMESTAMP, nullable=False),
        sa.Column("last_login_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_linked_profiles_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linked_profiles")),
        sa.UniqueConstraint("issuer", "subject", name=op.f("uq_linked_profiles_issuer_subject")),
        sa.UniqueConstraint(
            "member_id", "airline", name=op.f("uq_linked_profiles_member_id_airline")
        ),
    )
    op.create_index(
        op.f("ix_linked_profiles_member_id"), "linked_profiles", ["member_id"], unique=False
    )

    op.create_table(
        "linking_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("airline", sa.String(length=32), nullable=False),
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("text_version", sa.String(length=200), nullable=True),
        sa.Column("text_sha256", sa.String(length=64), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("actor", sa.String(length=24), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_linking_records_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linking_records")),
    )
    op.create_index(
        op.f("ix_linking_records_member_id"), "linking_records", ["member_id"], unique=False
    )

    op.create_table(
        "upstream_requests",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("browser_hash", sa.String(length=64), nullable=False),
        sa.Column("airline", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=8), nullable=False),
        sa.Column("member_id", sa.String(length=32), nullable=True),
        sa.Column("sid", sa.String(length=32), nullable=True),
        sa.Column("nonce_hash", sa.String(length=64), nullable=False),
        sa.Column("code_verifier", sa.Text(), nullable=False),
        sa.Column("text_version", sa.String(length=200), nullable=True),
        sa.Column("text_sha256", sa.String(length=64), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("used_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_upstream_requests_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upstream_requests")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_upstream_requests_state_hash")),
    )
    op.create_index(
        op.f("ix_upstream_requests_expires_at"), "upstream_requests", ["expires_at"], unique=False
    )
    _create_linking_records_trigger()


def _create_linking_records_trigger():
    """Linking evidence is never changed (it goes only with an erased member)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION linking_records_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'linking records are append-only';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER linking_records_append_only BEFORE UPDATE ON linking_records "
            "FOR EACH ROW EXECUTE FUNCTION linking_records_append_only()"
        )
    else:
        op.execute(
            "CREATE TRIGGER linking_records_no_update BEFORE UPDATE ON linking_records "
            "BEGIN SELECT RAISE(ABORT, 'linking records are append-only'); END"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS linking_records_append_only ON linking_records")
        op.execute("DROP FUNCTION IF EXISTS linking_records_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS linking_records_no_update")
    op.drop_index(op.f("ix_upstream_requests_expires_at"), table_name="upstream_requests")
    op.drop_table("upstream_requests")
    op.drop_index(op.f("ix_linking_records_member_id"), table_name="linking_records")
    op.drop_table("linking_records")
    op.drop_index(op.f("ix_linked_profiles_member_id"), table_name="linked_profiles")
    op.drop_table("linked_profiles")
