"""start pages: indexes for the cases waiting on a person and a person's own cases

Revision ID: 0014_start_pages
Revises: 0013_oidc
Create Date: 2026-12-02

The start page ("Att göra", services/cases/todo.py) asks, per förbund, for the cases in the
states where the person's roles have a step, oldest first, and for the insatser a person owns
or the ideas they submitted. At 100 000 cases each of those read every case of the förbund
(about 120-130 ms a page); these indexes let them read only what they show.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014_start_pages"
down_revision: str | Sequence[str] | None = "0013_oidc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_insats_forbund_state", "insats", ["forbund_id", "state", "id"])
    op.create_index("ix_insats_project_owner", "insats", ["project_owner_id"])
    op.create_index("ix_insats_submitted_by", "insats", ["submitted_by_id"])


def downgrade() -> None:
    op.drop_index("ix_insats_submitted_by", table_name="insats")
    op.drop_index("ix_insats_project_owner", table_name="insats")
    op.drop_index("ix_insats_forbund_state", table_name="insats")
