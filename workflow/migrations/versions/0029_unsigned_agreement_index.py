"""unsigned agreement index: the avtal still missing a signature

Revision ID: 0029_unsigned_agreement_index
Revises: 0028_audit_trail_indexes
Create Date: 2026-12-03

The Avtal page's list of avtal not yet signed by both (status utkast) walked the förbund's open
insatser by dnr and looked up each one's avtal until it had a page of unsigned ones (issue 15:
23 ms a request at 10 000 cases, 103 ms at 100 000, where no avtal waited for a signature and
the walk went through all 39 000 open insatser). An avtal is unsigned for the weeks between
drawing it up and signing it, so there are a handful at a time whatever the number of cases:
a partial index on them lets the list read those and sort them by dnr. Partial, as the owed
reports' (0025): on every avtal it would draw the signed list, most of the open insatser, off
its walk by dnr and make it read and sort every signed avtal.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029_unsigned_agreement_index"
down_revision: str | Sequence[str] | None = "0028_audit_trail_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    unsigned = sa.text("status = 'utkast'")
    op.create_index(
        "ix_agreement_unsigned",
        "agreement",
        ["forbund_id", "insats_id"],
        sqlite_where=unsigned,
        postgresql_where=unsigned,
    )


def downgrade() -> None:
    op.drop_index("ix_agreement_unsigned", table_name="agreement")
