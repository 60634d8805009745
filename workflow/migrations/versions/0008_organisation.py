"""organisation: deactivated people, and organ members' party, ersättare order and mandate

Revision ID: 0008_organisation
Revises: 0002_meetings
Create Date: 2026-12-01

A förbund is now set up with commands or a YAML file instead of a script: a person who leaves
is deactivated (the row stays, for the history), and an uppdrag in an organ records the party
the member represents, the order of the ersättare and the mandate period.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import workflow.models.types

revision: str = "0008_organisation"
down_revision: str | Sequence[str] | None = "0002_meetings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "deactivated_at", workflow.models.types.UTCDateTime(timezone=True), nullable=True
            )
        )
    with op.batch_alter_table("organ_member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("party_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("position", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("mandate_from", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("mandate_to", sa.Date(), nullable=True))
        batch_op.create_foreign_key("fk_organ_member_party_id_party", "party", ["party_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("organ_member", schema=None) as batch_op:
        batch_op.drop_constraint("fk_organ_member_party_id_party", type_="foreignkey")
        batch_op.drop_column("mandate_to")
        batch_op.drop_column("mandate_from")
        batch_op.drop_column("position")
        batch_op.drop_column("party_id")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("deactivated_at")
