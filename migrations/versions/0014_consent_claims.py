"""Claim-level consent: claims asked for only through the OIDC ``claims`` parameter.

A claim asked for in the ``claims`` request parameter (OIDC Core §5.5) whose
scope the request did not ask for is offered on the consent screen as an item
of its own; the member's answer is kept per claim:

- ``consents.granted_claims``: the claims granted one by one (not their whole
  scope); ``consents.declined_claims``: those unticked, not asked again unless
  ``prompt=consent``;
- ``consent_records.granted_claims`` / ``declined_claims``: the same, as evidence
  of each decision.

Existing rows hold no claim-level answer: both lists start empty.

Revision ID: 0014_consent_claims
Revises: 0013_grant_narrowing
Create Date: 2026-12-03 11:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_consent_claims"
down_revision = "0013_grant_narrowing"
branch_labels = None
depends_on = None

TABLES = ("consents", "consent_records")
COLUMNS = ("granted_claims", "declined_claims")


def upgrade():
    # Plain ADD COLUMN (no table rebuild): consent_records keeps its append-only trigger.
    for table in TABLES:
        for column in COLUMNS:
            op.add_column(
                table,
                sa.Column(column, sa.JSON(), server_default=sa.text("'[]'"), nullable=False),
            )


def downgrade():
    for table in TABLES:
        for column in reversed(COLUMNS):
            op.drop_column(table, column)
