"""Pages of a list, and keyset paging over an ordered tuple of columns.

Every list the service layer gives out is a `Page`: the items, and where the next page
starts (`next_after`, an opaque url-safe cursor; None on the last page). A cursor is the key
of the page's last row, not an offset, so a page costs the same wherever it is in the list and
a row added or removed between two pages neither repeats nor skips another.

A `Keyset` is the order of a list as a tuple of SQL expressions, ascending or descending
(the last one unique, so that the order is total). It builds the condition "after this key"
in a form both SQLite and PostgreSQL read the same way, with NULL in a key position handled
as a value of its own (the expressions before it decide where NULLs go, e.g. `dnr IS NULL`).

    keyset = Keyset("cases", (null_last, Insats.dnr, Insats.id))
    query = keyset.page(query, after, limit)        # ORDER BY, WHERE after, LIMIT limit + 1
    page = keyset.cut(rows, limit, key=lambda row: (...))   # the Page and its cursor
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, String, and_, false, literal, or_, tuple_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import Select
from sqlalchemy.sql.expression import FunctionElement

from workflow.errors import BadInput

T = TypeVar("T")
S = TypeVar("S", bound=Select[Any])

MAX_LIMIT = 500


class bytewise(FunctionElement[str]):
    """A text column compared and ordered by its bytes (code points), as SQLite does: on
    PostgreSQL `COLLATE "C"`, whatever the database's collation, so that a list comes in the
    same order on both and a cursor means the same row on both."""

    type = String()
    inherit_cache = True
    name = "bytewise"


@compiles(bytewise)
def _bytewise_default(element: bytewise, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(bytewise, "postgresql")
def _bytewise_postgresql(element: bytewise, compiler: Any, **kw: Any) -> str:
    return f'({compiler.process(element.clauses, **kw)} COLLATE "C")'


class unindexed(FunctionElement[Any]):
    """A column that SQLite must not look up by index for this condition (its unary `+`);
    elsewhere the column itself. SQLite keeps no statistics here, so of two indexed
    conditions it may walk the förbund's every row of one value (an owed report's status)
    rather than the few of the other (a person's insatser); this leaves it the other."""

    inherit_cache = True
    name = "unindexed"

    def __init__(self, column: Any) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(unindexed)
def _unindexed_default(element: unindexed, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(unindexed, "sqlite")
def _unindexed_sqlite(element: unindexed, compiler: Any, **kw: Any) -> str:
    return f"+{compiler.process(element.clauses, **kw)}"


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its items in order, and the cursor of the next page (None when
    this is the last)."""

    items: list[T]
    next_after: str | None


def check_limit(limit: int, maximum: int = MAX_LIMIT) -> int:
    """A page size people may ask for: 1 to `maximum`."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= maximum:
        raise BadInput(f"ogiltig sidstorlek {limit!r}; ange ett heltal från 1 till {maximum}")
    return limit


def decode_error(cursor: str) -> BadInput:
    shown = cursor if len(cursor) <= 40 else cursor[:37] + "..."
    return BadInput(f"ogiltig sidmarkör {shown!r}; börja om från första sidan (utan --after)")


def _encode_value(value: Any) -> Any:
    # Dates and times keep their type through the cursor, so that a comparison with a date
    # column binds a date, not a string.
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if value is None or isinstance(value, (bool, int, str)):
        return value
    raise TypeError(f"a key value must be None, bool, int, str, date or datetime: {value!r}")


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"t"}:
            return datetime.fromisoformat(value["t"])
        if set(value) == {"d"}:
            return date.fromisoformat(value["d"])
        raise ValueError("unknown tagged value")
    if value is None or isinstance(value, (bool, int, str)):
        return value
    raise ValueError("unknown value")


def encode_cursor(kind: str, key: Sequence[Any]) -> str:
    """The cursor of a row's key: url-safe base64 of [kind, values...], without padding."""
    raw = json.dumps([kind, *(_encode_value(v) for v in key)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii").rstrip("=")


def decode_cursor(kind: str, cursor: str, size: int) -> tuple[Any, ...]:
    """The key in a cursor of this kind with `size` values; BadInput for anything else (a
    cursor of another list, a mangled one)."""
    text = cursor.strip()
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, list) or len(data) != size + 1 or data[0] != kind:
            raise ValueError("not this kind of cursor")
        return tuple(_decode_value(v) for v in data[1:])
    except (ValueError, binascii.Error, UnicodeDecodeError, TypeError):
        raise decode_error(cursor) from None


@dataclass(frozen=True)
class Keyset:
    """The order of a list as SQL expressions (the last unique), for keyset paging.

    `descending` reverses the whole order (newest first, for a log)."""

    kind: str
    columns: tuple[ColumnElement[Any], ...]
    descending: bool = False

    def order_by(self) -> list[ColumnElement[Any]]:
        return [c.desc() if self.descending else c.asc() for c in self.columns]

    def after(self, key: Sequence[Any]) -> ColumnElement[bool]:
        """Rows after this key in the order: (c1 > k1) or (c1 = k1 and c2 > k2) or ...

        A None in the key means the row had NULL there: equal is IS NULL, and nothing is
        beyond NULL in that position (the columns before it place the NULLs). A key without
        NULLs is compared as a row value, `(c1, c2) > (k1, k2)`, which both databases answer
        by seeking in an index on those columns rather than scanning up to the cursor."""
        if all(value is not None for value in key):
            columns = tuple_(*self.columns)
            values = tuple_(
                *(literal(v, type_=c.type) for c, v in zip(self.columns, key, strict=True))
            )
            return columns < values if self.descending else columns > values
        terms: list[ColumnElement[bool]] = []
        equal: list[ColumnElement[bool]] = []
        for column, value in zip(self.columns, key, strict=True):
            if value is None:
                beyond: ColumnElement[bool] = false()
                same: ColumnElement[bool] = column.is_(None)
            else:
                beyond = column < value if self.descending else column > value
                same = column == value
            terms.append(and_(*equal, beyond) if equal else beyond)
            equal.append(same)
        return or_(*terms)

    def page(self, query: S, after: str | None, limit: int) -> S:
        """The query ordered, started after the cursor and cut at one row more than the page
        (that row says whether there is a next page)."""
        if after is not None:
            query = query.where(self.after(decode_cursor(self.kind, after, len(self.columns))))
        return query.order_by(*self.order_by()).limit(limit + 1)

    def cut(self, rows: Sequence[T], limit: int, key: Callable[[T], Sequence[Any]]) -> Page[T]:
        """The page of the rows a `page` query gave, and the cursor after its last row."""
        items = list(rows[:limit])
        if len(rows) <= limit or not items:
            return Page(items, None)
        return Page(items, encode_cursor(self.kind, key(items[-1])))
