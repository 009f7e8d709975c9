"""Shared Signals streams (OpenID SSF 1.0): one per client, and the SETs they hold.

- ``ssf_streams``: a client's stream configuration (delivery method, push
  endpoint and its encrypted ``Authorization`` header, requested events,
  status);
- ``ssf_events``: SETs waiting for a poll receiver's acknowledgement (RFC
  8936), or held while their stream is paused;
- ``partner_notifications.stream_id``: the stream a pushed SET belongs to
  (rows without one are the existing back-channel logouts and the pushes to a
  client's ``security_event_uri``).

Revision ID: 0018_ssf_streams
Revises: 0017_grant_management
Create Date: 2026-12-03 10:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_ssf_streams"
down_revision = "0017_grant_management"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ssf_streams",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("audience", sa.Text(), nullable=False),
        sa.Column("events_requested", sa.JSON(), nullable=False),
        sa.Column("delivery_method", sa.String(length=32), nullable=False),
        sa.Column("endpoint_url", sa.Text(), nullable=True),
        sa.Column("authorization_header", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_verification_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_polled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_receiver_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_ssf_streams_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ssf_streams")),
        sa.UniqueConstraint("client_id", name=op.f("uq_ssf_streams_client_id")),
    )
    op.create_table(
        "ssf_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stream_id", sa.String(length=32), nullable=False),
        sa.Column("jti", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("held", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["stream_id"],
            ["ssf_streams.id"],
            name=op.f("fk_ssf_events_stream_id_ssf_streams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ssf_events")),
        sa.UniqueConstraint("jti", name=op.f("uq_ssf_events_jti")),
    )
    op.create_index(op.f("ix_ssf_events_stream_id"), "ssf_events", ["stream_id"], unique=False)
    op.create_index(op.f("ix_ssf_events_created_at"), "ssf_events", ["created_at"], unique=False)
    with op.batch_alter_table("partner_notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stream_id", sa.String(length=32), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_partner_notifications_stream_id"), ["stream_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_partner_notifications_stream_id_ssf_streams"),
            "ssf_streams",
            ["stream_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("partner_notifications", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_partner_notifications_stream_id_ssf_streams"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_partner_notifications_stream_id"))
        batch_op.drop_column("stream_id")
    op.drop_index(op.f("ix_ssf_events_created_at"), table_name="ssf_events")
    op.drop_index(op.f("ix_ssf_events_stream_id"), table_name="ssf_events")
    op.drop_table("ssf_events")
    op.drop_table("ssf_streams")
