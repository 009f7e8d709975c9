"""The operator console: staff roles, the approval workflow of clients, login analytics.

- ``staff_members``: members who may use ``/admin`` (``mam-idp staff add``).
- ``clients`` gains the approval workflow (submitted, rejected with a reason)
  and suspension; existing clients keep ``approved_at`` and are neither
  submitted, rejected nor suspended.
- ``login_days``: per partner and day, logins, distinct members, new consents
  and withdrawals; ``login_day_markers`` count the distinct members of the
  current day and are emptied once it is over.

Revision ID: 0005_operator_console
Revises: 0004_registration
Create Date: 2026-12-02 15:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_operator_console"
down_revision = "0004_registration"
branch_labels = None
depends_on = None

CLIENT_COLUMNS = (
    ("submitted_at", sa.DateTime(timezone=True)),
    ("rejected_at", sa.DateTime(timezone=True)),
    ("rejection_reason", sa.Text()),
    ("suspended_at", sa.DateTime(timezone=True)),
    ("suspension_reason", sa.Text()),
)


def upgrade():
    op.create_table(
        "staff_members",
        sa.Column("member_id", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('admin', 'auditor')", name=op.f("ck_staff_members_staff_role")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_staff_members_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_staff_members")),
    )
    # Plain ALTER TABLE, as in 0002: a batch operation would copy ``clients``.
    for name, type_ in CLIENT_COLUMNS:
        op.add_column("clients", sa.Column(name, type_, nullable=True))

    op.create_table(
        "login_days",
        sa.Column("partner_id", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("logins", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("members", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("new_consents", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("withdrawals", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_login_days_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("partner_id", "day", name=op.f("pk_login_days")),
    )
    op.create_index(op.f("ix_login_days_day"), "login_days", ["day"], unique=False)
    op.create_table(
        "login_day_markers",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("marker", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("day", "marker", name=op.f("pk_login_day_markers")),
    )


def downgrade():
    op.drop_table("login_day_markers")
    op.drop_index(op.f("ix_login_days_day"), table_name="login_days")
    op.drop_table("login_days")
    for name, _type in reversed(CLIENT_COLUMNS):
        op.drop_column("clients", name)
    op.drop_table("staff_members")
