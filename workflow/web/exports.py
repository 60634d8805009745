"""A list of cases as CSV or XLSX: Swedish headers, one row per case, streamed.

    csv_chunks(rows)            -> str chunks of a CSV file (BOM, ';', CRLF)
    write_xlsx(rows, target)    -> an XLSX workbook written row by row into a binary file

Both take the cases as an iterator of rows of values (services/cases/exports.py iter_rows),
so the memory is that of one batch of cases whatever the number exported. Values a
spreadsheet would read as a formula are written as text: a title typed as "=HYPERLINK(...)"
stays a title.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from workflow.csv_row import CsvRow
from workflow.services.cases.exports import COLUMNS, Value

HEADERS = COLUMNS

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# -- CSV ------------------------------------------------------------------------------------

# Excel with Swedish settings opens a CSV file by double-click correctly only when the list
# separator is ';' (',' is the decimal comma there; workflow/csv_row.py writes ';') and the
# file starts with a UTF-8 byte order mark (without it Excel reads the file as Windows-1252
# and å, ä, ö break).
CSV_BOM = "\ufeff"
_CSV_BATCH = 500


def _csv_text(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        # A leading apostrophe makes a spreadsheet show the text, not compute it (OWASP's
        # advice against formula injection through exported files).
        return "'" + value if value.startswith(_FORMULA_START) else value
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def csv_chunks(rows: Iterable[Sequence[Value]], headers: Sequence[str] = HEADERS) -> Iterator[str]:
    """The CSV file in pieces: the BOM and header line, then a few hundred rows at a time."""
    row = CsvRow()
    batch = [CSV_BOM + row.line(headers)]
    for values in rows:
        batch.append(row.line([_csv_text(value) for value in values]))
        if len(batch) >= _CSV_BATCH:
            yield "".join(batch)
            batch.clear()
    yield "".join(batch)


# -- XLSX -----------------------------------------------------------------------------------

_WIDTHS = [14, 50, 22, 20, 24, 50, 30, 12, 12, 12, 26, 20, 16, 18]


def write_xlsx(
    rows: Iterable[Sequence[Value]],
    target: BinaryIO,
    *,
    sheet: str = "Ärenden",
    headers: Sequence[str] = HEADERS,
    widths: Sequence[int] = _WIDTHS,
) -> None:
    """The rows as a workbook of one sheet (openpyxl's write-only mode: rows go to disk as
    they come), a bold header row kept in view, dates as dates."""
    book = Workbook(write_only=True)
    worksheet = book.create_sheet(sheet)
    for index, width in enumerate(widths):
        worksheet.column_dimensions[chr(ord("A") + index)].width = width
    worksheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for text in headers:
        cell = WriteOnlyCell(worksheet, value=text)
        cell.font = bold
        header.append(cell)
    worksheet.append(header)
    cells = _Cells(worksheet)
    for values in rows:
        worksheet.append([cells.of(index, value) for index, value in enumerate(values)])
    book.save(target)


def file_chunks(handle: BinaryIO, size: int = 64 * 1024) -> Iterator[bytes]:
    """A finished workbook's temporary file, sent a piece at a time and closed once sent."""
    try:
        handle.seek(0)
        while chunk := handle.read(size):
            yield chunk
    finally:
        handle.close()


class _Cells:
    """The cells of a row that need more than a value (a date's format, a text that starts
    with '='): one per column, made once and given each row's value. (openpyxl writes a
    row's cells as it is appended, so the next row may reuse them; a new styled cell per
    value was a third of the workbook's CPU.)"""

    def __init__(self, worksheet: object) -> None:
        self._worksheet = worksheet
        self._dates: dict[int, WriteOnlyCell] = {}
        self._times: dict[int, WriteOnlyCell] = {}
        self._texts: dict[int, WriteOnlyCell] = {}

    def _made(self, cells: dict[int, WriteOnlyCell], index: int, value: Value) -> WriteOnlyCell:
        cell = cells.get(index)
        if cell is None:
            cell = cells[index] = WriteOnlyCell(self._worksheet, value=value)
            if cells is self._times:
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif cells is self._dates:
                cell.number_format = "yyyy-mm-dd"
        else:
            cell.value = value
        if cells is self._texts:
            # openpyxl stores a string starting with '=' as a formula; this one is text.
            cell.data_type = "s"
        return cell

    def of(self, index: int, value: Value) -> WriteOnlyCell | Value:
        if isinstance(value, str):
            return self._made(self._texts, index, value) if value.startswith("=") else value
        if isinstance(value, datetime):
            return self._made(self._times, index, value)
        if isinstance(value, date):
            return self._made(self._dates, index, value)
        return value


# -- any table (the funding pages' lists) ---------------------------------------------------


def table_csv(headers: list[str], rows: Iterable[Sequence[Value]]) -> str:
    """A table as the case list's CSV: BOM, ';', CRLF, formulas written as text."""
    return "".join(csv_chunks(rows, headers))


def table_xlsx(headers: list[str], rows: Iterable[Sequence[Value]], *, sheet: str) -> bytes:
    """A table as a one-sheet workbook: bold header kept in view, dates as dates."""
    target = io.BytesIO()
    write_xlsx(rows, target, sheet=sheet, headers=headers, widths=())
    return target.getvalue()
