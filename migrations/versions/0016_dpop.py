"""DPoP (RFC 9449): sender-constrained tokens, bound codes, the proofs already seen.

- ``tokens.dpop_jkt``: the JWK thumbprint the access token (and a public
  client's refresh token) is bound to; null for bearer tokens (§6).
- ``authorization_codes.dpop_jkt``: the ``dpop_jkt`` of the authorization
  request; the code is redeemed only with a proof of that key (§10).
- ``clients.dpop_bound_access_tokens``: the client's registration metadata
  (§5.2); false for every client registered before.
- ``dpop_proofs``: the replay cache of proof ``jti`` values (§11.1) when no
  Redis is configured, one unique hash per proof, purged once expired.

Revision ID: 0016_dpop
Revises: 0015_pushed_requests
Create Date: 2026-12-03 10:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_dpop"
down_revision = "0015_pushed_requests"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("tokens", sa.Column("dpop_jkt", sa.String(length=64), nullable=True))
    op.add_column("authorization_codes", sa.Column("dpop_jkt", sa.String(length=64), nullable=True))
    op.add_column(
        "clients",
        sa.Column(
            "dpop_bound_access_tokens", sa.Boolean(), nullable=False, server_default=sa.false()
        ),
    )
    op.create_table(
        "dpop_proofs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jti_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dpop_proofs")),
        sa.UniqueConstraint("jti_hash", name=op.f("uq_dpop_proofs_jti_hash")),
    )
    op.create_index(op.f("ix_dpop_proofs_expires_at"), "dpop_proofs", ["expires_at"])


def downgrade():
    op.drop_index(op.f("ix_dpop_proofs_expires_at"), table_name="dpop_proofs")
    op.drop_table("dpop_proofs")
    op.drop_column("clients", "dpop_bound_access_tokens")
    op.drop_column("authorization_codes", "dpop_jkt")
    op.drop_column("tokens", "dpop_jkt")
