"""A row of text fields as CSV (';', QUOTE_MINIMAL, CRLF), fast for the rows that need no
quoting: the downloads and the Uppföljning export write hundreds of thousands of them.

Most rows hold no character a field must be quoted for: those are simply joined. A row that
does goes through the csv writer, which knows the rules. (The csv writer looks at each
character it writes: a fifth of the Uppföljning export's CPU at 100 000 cases, spent on rows
it left as they were.) tests/test_uppfoljning_paths.py holds the two ways equal.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence

DELIMITER = ";"


class CsvRow:
    """Turns rows of text fields into CSV lines, one row at a time."""

    def __init__(self) -> None:
        self._writer = csv.writer(self, delimiter=DELIMITER, lineterminator="\r\n")
        self._last = ""

    def write(self, text: str) -> int:  # the writer's file: keeps what it wrote last
        self._last = text
        return len(text)

    def text(self, fields: Sequence[str]) -> str:
        """The row as CSV, without its line end."""
        joined = DELIMITER.join(fields)
        # What the CSV format quotes in a field besides the delimiter (csv.QUOTE_MINIMAL).
        # Three searches for one character each (memchr) rather than one regular expression
        # of a character class, which tests each character against the class: 9 % of the
        # Uppföljning export's instructions at 100 000 cases.
        if (
            joined.count(DELIMITER) == len(fields) - 1
            and '"' not in joined
            and "\r" not in joined
            and "\n" not in joined
        ):
            return joined
        self._writer.writerow(fields)
        return self._last[: -len("\r\n")]

    def line(self, fields: Sequence[str]) -> str:
        """The row as a CSV line, CRLF at its end."""
        return self.text(fields) + "\r\n"
