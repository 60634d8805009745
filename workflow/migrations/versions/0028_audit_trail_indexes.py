"""audit trail indexes: the log's kind and actor filters, and the kinds it offers

Revision ID: 0028_audit_trail_indexes
Revises: 0027_payment_list_index
Create Date: 2026-12-03

The log (/logg) is read newest first by the chain's position (seq). Filtered on a kind of
subject or on who acted, a page walked the förbund's events backwards from the newest until it
had found a page of that kind or person: for a kind or person with few events, all of them
(590 000 events in the issue-15 bench: about 250 ms a page, growing with the years of audit).
With an index led by the förbund and the kind, or the actor, a page starts at the newest event
of that kind or person and reads only the page. The list of kinds the filter offers reads the
first entry of each kind in the first of these (a jump from kind to kind, not a scan).

The index on subject_id alone becomes one on (subject_id, subject_kind, forbund_id): SQLite,
without statistics, takes the index matching the most columns of a condition, and the new
(forbund_id, subject_kind, ...) index matches two columns of "this förbund's events of this
subject" where the subject_id index matched one, so the diarium's registration dates read every
event of the kind for each row (0.5 s a diarium page at 10 000 cases) until the subject's index
matched all three.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0028_audit_trail_indexes"
down_revision: str | Sequence[str] | None = "0027_payment_list_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_audit_event_subject_id", table_name="audit_event")
    op.create_index(
        "ix_audit_event_subject", "audit_event", ["subject_id", "subject_kind", "forbund_id"]
    )
    op.create_index("ix_audit_event_kind_seq", "audit_event", ["forbund_id", "subject_kind", "seq"])
    op.create_index("ix_audit_event_actor_seq", "audit_event", ["forbund_id", "actor_email", "seq"])


def downgrade() -> None:
    op.drop_index("ix_audit_event_subject", table_name="audit_event")
    op.create_index("ix_audit_event_subject_id", "audit_event", ["subject_id"])
    op.drop_index("ix_audit_event_actor_seq", table_name="audit_event")
    op.drop_index("ix_audit_event_kind_seq", table_name="audit_event")
