"""list indexes: the case list's filters checked in an index in dnr order

Revision ID: 0025_webp95_list_indexes
Revises: 0023_state_since
Create Date: 2026-12-02

The case list (services/cases/views.py) shows a förbund's registered cases by dnr, a page at a
time, whatever the filter. Its only index in that order was (förbund, dnr), so a filter was
checked on each table row in dnr order until a page was full: a filter few cases match (a
state in a year, at 100 000 cases) read every row of the förbund, about 120 ms a page on
SQLite. These two indexes hold every column the list filters on (all but the text) after the
dnr, so a filter is checked on index entries and only a page's own rows are read from the
table; the second is led by the state, so that a state's cases are a range of it. On
PostgreSQL the dnr is ordered `COLLATE "C"`, as the list sorts it (bytewise, as SQLite does).

No column changes: nothing to fill.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0025_webp95_list_indexes"
down_revision: str | Sequence[str] | None = "0023_state_since"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As in the model at this revision (models/insats.py LIST_FILTER_COLUMNS).
FILTERS = [
    "state",
    "inriktning",
    "start_date",
    "end_date",
    "owner_party_id",
    "project_owner_id",
    "submitted_by_id",
]
BYTEWISE = {"dnr": 'COLLATE "C"'}  # PostgreSQL: the ops slot is where a column's collation goes


def upgrade() -> None:
    op.create_index(
        "ix_insats_list_dnr",
        "insats",
        ["forbund_id", "dnr", "id", *FILTERS],
        postgresql_ops=BYTEWISE,
    )
    op.create_index(
        "ix_insats_list_state",
        "insats",
        ["forbund_id", "state", "dnr", "id", *(c for c in FILTERS if c != "state")],
        postgresql_ops=BYTEWISE,
    )


def downgrade() -> None:
    op.drop_index("ix_insats_list_state", table_name="insats")
    op.drop_index("ix_insats_list_dnr", table_name="insats")
