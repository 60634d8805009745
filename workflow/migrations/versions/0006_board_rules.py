"""board rules: the outcome a closing § gives its insats

Revision ID: 0006_board_rules
Revises: 0002_meetings
Create Date: 2026-11-30

The board takes note of a slutrapport (or stops an insats) in a § of its protocol. The agenda
item carries the förbundschef's proposed outcome, the § the board's decided one:
implementerad, ej_implementerad or avbruten. Other §§ leave both empty.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006_board_rules"
down_revision: str | Sequence[str] | None = "0002_meetings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("agenda_item", "paragraph"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True)
            )


def downgrade() -> None:
    for table in ("paragraph", "agenda_item"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("outcome")
