"""the audit chain head follows its newest event, by trigger

Revision ID: 0005_chain_head_trigger
Revises: 0001_core
Create Date: 2026-11-24

Appending used to update the audit_chain row from Python after inserting each event. The
database now does it as part of the insert: no writer can append without moving the head,
and each change makes one statement less (bench/lifecycle.py).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005_chain_head_trigger"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOVE_HEAD = (
    "UPDATE audit_chain SET seq = NEW.seq, head_hash = NEW.hash WHERE forbund_id = NEW.forbund_id"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION audit_event_moves_chain_head() RETURNS trigger AS $$
            BEGIN
                {MOVE_HEAD};
                RETURN NULL;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER audit_event_moves_chain_head AFTER INSERT ON audit_event "
            "FOR EACH ROW EXECUTE FUNCTION audit_event_moves_chain_head()"
        )
    else:
        op.execute(
            "CREATE TRIGGER audit_event_moves_chain_head AFTER INSERT ON audit_event "
            f"BEGIN {MOVE_HEAD}; END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_moves_chain_head ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_moves_chain_head()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_event_moves_chain_head")
