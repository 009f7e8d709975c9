"""Account deletion (GDPR Art. 17): erased members, blocked evidence, retired card numbers.

- ``member_erasures``: one row per deleted account: when it was erased, until
  when its consent evidence and its audit events stay blocked, and when the
  purge erased each of them. Not a foreign key: it outlives the member row.
- ``retired_card_numbers``: the blind index (never the number) of every card
  number of an erased account, so the number is never issued again.
- The audit log stays append-only, with one exception the database now
  allows: DELETE of the events of an erased member whose ``audit_erased_at``
  is set (the purge sets it in the transaction that deletes them, once the
  retention period has ended). UPDATE stays refused.

Revision ID: 0012_data_erasure
Revises: 0011_partner_access
Create Date: 2026-12-03 08:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_data_erasure"
down_revision = "0011_partner_access"
branch_labels = None
depends_on = None

_RELEASED = (
    "EXISTS (SELECT 1 FROM member_erasures e "
    "WHERE e.member_id = OLD.member_id AND e.audit_erased_at IS NOT NULL)"
)


def upgrade():
    op.create_table(
        "member_erasures",
        sa.Column("member_id", sa.String(length=32), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("evidence_blocked_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("audit_blocked_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("evidence_erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("audit_erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_member_erasures")),
    )
    with op.batch_alter_table("member_erasures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_member_erasures_evidence_blocked_until"),
            ["evidence_blocked_until"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_member_erasures_audit_blocked_until"),
            ["audit_blocked_until"],
            unique=False,
        )
    op.create_table(
        "retired_card_numbers",
        sa.Column("number_index", sa.String(length=64), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("number_index", name=op.f("pk_retired_card_numbers")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'DELETE' AND {_RELEASED} THEN
                    RETURN OLD;
                END IF;
                RAISE EXCEPTION 'audit events are append-only';
            END;
            $$ LANGUAGE plpgsql
            """
        )
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
        op.execute(
            "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
            f"WHEN NOT {_RELEASED} "
            "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'audit events are append-only';
            END;
            $$ LANGUAGE plpgsql
            """
        )
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
        op.execute(
            "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
            "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END"
        )
    op.drop_table("retired_card_numbers")
    with op.batch_alter_table("member_erasures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_erasures_audit_blocked_until"))
        batch_op.drop_index(batch_op.f("ix_member_erasures_evidence_blocked_until"))
    op.drop_table("member_erasures")
