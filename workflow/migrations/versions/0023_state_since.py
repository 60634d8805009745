"""state since: when each case entered its present state, kept on the case

Revision ID: 0023_state_since
Revises: 0022_policy_attachments
Create Date: 2026-12-02

"Att göra" (services/cases/todo.py) lists the cases that wait on a person by how long they
have waited in their state, longest first. Reading that from the audit trail would sort every
case of a state; a column on the case, set where the state changes (services/cases/fire.py)
and indexed with the förbund and the state, lets a page read only the rows it shows.

The backfill takes the same answer the start page used to compute: the latest audit event that
moved the case into its present state (or created it), else its creation time.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from workflow.models.types import UTCDateTime

revision: str = "0023_state_since"
down_revision: str | Sequence[str] | None = "0022_policy_attachments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL = """
UPDATE insats SET state_since = COALESCE(
    (SELECT MAX(e.at) FROM audit_event e
      WHERE e.subject_kind = 'insats' AND e.subject_id = insats.id
        AND e.to_state = insats.state
        AND (e.from_state IS NULL OR e.from_state <> e.to_state)),
    created_at)
"""


def upgrade() -> None:
    with op.batch_alter_table("insats") as batch:
        batch.add_column(sa.Column("state_since", UTCDateTime(), nullable=True))
    op.execute(BACKFILL)
    with op.batch_alter_table("insats") as batch:
        batch.alter_column("state_since", existing_type=UTCDateTime(), nullable=False)
        batch.create_index(
            "ix_insats_forbund_state_since", ["forbund_id", "state", "state_since", "id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("insats") as batch:
        batch.drop_index("ix_insats_forbund_state_since")
        batch.drop_column("state_since")
