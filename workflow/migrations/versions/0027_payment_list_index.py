"""payment list index: the förbund's payments newest first

Revision ID: 0027_payment_list_index
Revises: 0026_textsearch_index
Create Date: 2026-12-03

The Utbetalningar page lists a förbund's payments newest first, a page at a time (issue 15,
services/funding/payments.py PAYMENT_ORDER: the day asked for, then the number). With only
the index on forbund_id, each page sorted every payment of the förbund (22 000 at 100 000
cases); an index in the list's order lets a page start at its cursor and read only its rows.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0027_payment_list_index"
down_revision: str | Sequence[str] | None = "0026_textsearch_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_payment_forbund_requested", "payment", ["forbund_id", "requested_on", "id"])


def downgrade() -> None:
    op.drop_index("ix_payment_forbund_requested", table_name="payment")
