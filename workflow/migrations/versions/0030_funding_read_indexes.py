"""funding read indexes: the sums of the budget lines, the approved reports, the review table

Revision ID: 0030_funding_read_indexes
Revises: 0029_unsigned_agreement_index
Create Date: 2026-12-03

Three pages still grew with the förbund (issue 15, bench/pages.py, 10 000 → 100 000 cases):

- The budget page's and the Uppföljning page's sums per year read every budget line of the
  förbund through the index on forbund_id and then the line itself. An index on the förbund's
  lines by year that holds the figures summed (granted, drawn from the reserve, utfall,
  prognos) and the insats makes those sums and counts a read of the index alone.
- The Uppföljning page's participant counts read the approved reports (the latest of each
  insats and year): through the index on status, every report of every förbund, and each
  page's reports of its insatser the same way. A partial index on the approved ones by insats
  and period end, with the counts, serves both from the index. The status is a column too:
  SQLite (3.40) does not count the partial index's WHERE column as held by the index.
- The review table (Granskning) sorted every open report of the förbund by due date and dnr
  for each page. An index by due date, with the columns its filters test, lets a page read
  the reports in due-date order and sort only those of the days it reaches by dnr (the dnr is
  the insats's and in no index of reports).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030_funding_read_indexes"
down_revision: str | Sequence[str] | None = "0029_unsigned_agreement_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_budget_line_forbund_year",
        "budget_line",
        [
            "forbund_id",
            "year",
            "insats_id",
            "granted_tkr",
            "reserve_drawn_tkr",
            "utfall_tkr",
            "prognos_tkr",
        ],
    )
    approved = sa.text("status = 'godkand'")
    op.create_index(
        "ix_report_approved",
        "report",
        [
            "forbund_id",
            "insats_id",
            "period_end",
            "id",
            "participants_women",
            "participants_men",
            "participants_other",
            "status",
        ],
        sqlite_where=approved,
        postgresql_where=approved,
    )
    op.create_index(
        "ix_report_forbund_due",
        "report",
        ["forbund_id", "due_on", "status", "kind", "insats_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_report_forbund_due", table_name="report")
    op.drop_index("ix_report_approved", table_name="report")
    op.drop_index("ix_budget_line_forbund_year", table_name="budget_line")
