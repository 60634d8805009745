"""The revisions a current schema has: every head of versions/.

Kept here, as data, so that checking the schema at start-up reads one table with plain SQL and
imports no Alembic. A new migration replaces its down_revision here with its own revision;
tests/test_startup.py compares this with Alembic's own heads, so the two cannot drift apart.
"""

HEADS: frozenset[str] = frozenset(
    {
        "0005_chain_head_trigger",
        "0006_board_rules",
        "0007_numbers_per_forbund",
        "0008_organisation",
        "0021_feeds",
        "0032_owner_insatser_index",
        "0023_audit_check_lease",
        "0025_scale_read_indexes",
    }
)
