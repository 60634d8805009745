"""The case list's free text: found anywhere in a case's dnr or title, in any case of letters
(å ä ö é and every other letter fold, on SQLite as on PostgreSQL), `%` and `_` as themselves.

A substring is not a range of any B-tree index; both databases index the text's three-letter
pieces instead (0026_textsearch_index): on SQLite an FTS5 table with the trigram tokenizer,
kept by triggers, on PostgreSQL pg_trgm's GIN indexes on lower(dnr) and lower(title). The
condition is always the one the list has had (lower(dnr) or lower(title) LIKE the text), so
the results do not depend on the index; on SQLite the trigram index narrows it to the rows
that hold every piece of the text, which PostgreSQL's planner does on its own.

A text of fewer than three letters has no trigram: it is checked on every case the other
filters leave (a scan of the förbund's cases when there are none).
"""

from __future__ import annotations

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    column,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
)

from workflow.services.cases.records import INSATS_TABLE

TRIGRAM = 3
FEW = 2000  # found cases read by id (text_condition)
FTS_TABLE = "insats_text"  # as 0026_textsearch_index creates it

_INSATS = INSATS_TABLE
_FTS = table(FTS_TABLE, column("rowid"))


def like_pattern(text: str) -> str:
    """`text` anywhere, as a LIKE pattern with escape character `\\`: `%`, `_` and `\\` as
    themselves (the case list and the diarium search alike)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _phrase(text: str) -> str:
    """The text as one FTS5 phrase: every character literal, a double quote doubled."""
    return '"' + text.replace('"', '""') + '"'


def text_condition(
    connection: Connection, text: str, *, in_list_order: bool = True
) -> ColumnElement[bool]:
    """Cases whose dnr or title holds `text` (already stripped, not empty).

    On SQLite, with a trigram in the text: the index's cases first (one query). Up to FEW of
    them, the condition names their ids, and the page reads those rows by id and sorts them
    (a few microseconds each); more, and the page reads the list index in dnr order, each
    entry checked against the index's cases (`id + 0`: not by id), until the page is full.
    Left to itself with statistics, SQLite reads every found row by id and sorts them all,
    about 45 ms for a text in a quarter of 100 000 cases (bench/web.py). A count
    (`in_list_order=False`) reads the found rows by id, as it must check each of them."""
    pattern = func.lower(literal(like_pattern(text)))
    # The title first: most texts are found there, and SQLite's lower() is a Python call.
    found = or_(
        func.lower(_INSATS.c.title).like(pattern, escape="\\"),
        func.lower(_INSATS.c.dnr).like(pattern, escape="\\"),
    )
    # The tokenizer folds letters itself; Python's lower() first, as the triggers store it
    # (workflow/db.py), so that the pieces are those of the stored text.
    folded = text.lower()
    if connection.dialect.name != "sqlite" or len(folded) < TRIGRAM:
        return found
    pieces = select(_FTS.c.rowid).where(literal_column(FTS_TABLE).op("MATCH")(_phrase(folded)))
    ids = list(connection.execute(pieces.limit(FEW + 1)).scalars())
    if len(ids) <= FEW:
        return and_(_INSATS.c.id.in_(ids), found)
    return and_((_INSATS.c.id + 0 if in_list_order else _INSATS.c.id).in_(pieces), found)
