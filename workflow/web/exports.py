"""A list of cases as CSV or XLSX: Swedish headers, one row per case, streamed.

    csv_chunks(views)            -> str chunks of a CSV file (BOM, ';', CRLF)
    write_xlsx(views, target)    -> an XLSX workbook written row by row into a binary file

Both take the cases as an iterator (services/cases/views.py iter_cases), so the memory is
that of one page of cases whatever the number exported. Values a spreadsheet would read as a
formula are written as text: a title typed as "=HYPERLINK(...)" stays a title.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from workflow.services.cases.views import CaseView

Value = str | int | date | datetime | None


def _budget_text(view: CaseView) -> str:
    return "; ".join(f"{year}: {amount}" for year, amount in view.budget_requested.items())


# (header, value) per column, in order. Times are already local (CaseView).
COLUMNS: list[tuple[str, Callable[[CaseView], Value]]] = [
    ("Diarienummer", lambda v: v.ref),
    ("Titel", lambda v: v.title),
    ("Tillstånd", lambda v: v.state_label),
    ("Inriktning", lambda v: v.inriktning_label),
    ("Insatsägare", lambda v: v.owner_party),
    ("Parter", lambda v: ", ".join(v.parties)),
    ("Projektägare", lambda v: v.project_owner),
    ("Startdatum", lambda v: v.start),
    ("Slutdatum", lambda v: v.end),
    ("Sökt budget totalt (tkr)", lambda v: sum(v.budget_requested.values())),
    ("Sökt budget per år (tkr)", _budget_text),
    ("Rekommendation", lambda v: v.recommendation_label),
    ("Beslutsparagraf", lambda v: v.decision_paragraph),
    ("Senast ändrad", lambda v: v.updated_at.replace(tzinfo=None, microsecond=0)),
]
HEADERS = [header for header, _ in COLUMNS]

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def row_of(view: CaseView) -> list[Value]:
    return [value(view) for _, value in COLUMNS]


# -- CSV ------------------------------------------------------------------------------------

# Excel with Swedish settings opens a CSV file by double-click correctly only when the list
# separator is ';' (',' is the decimal comma there) and the file starts with a UTF-8 byte order
# mark (without it Excel reads the file as Windows-1252 and å, ä, ö break).
CSV_BOM = "\ufeff"
CSV_DELIMITER = ";"
_CSV_BATCH = 200


def _csv_text(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    # A leading apostrophe makes a spreadsheet show the text, not compute it (OWASP's advice
    # against formula injection through exported files).
    return "'" + value if value.startswith(_FORMULA_START) else value


def csv_chunks(views: Iterable[CaseView]) -> Iterator[str]:
    """The CSV file in pieces: the BOM and header line, then a few hundred rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    buffer.write(CSV_BOM)
    writer.writerow(HEADERS)
    for count, view in enumerate(views, start=1):
        writer.writerow([_csv_text(value) for value in row_of(view)])
        if count % _CSV_BATCH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


# -- XLSX -----------------------------------------------------------------------------------

_WIDTHS = [14, 50, 22, 20, 24, 50, 30, 12, 12, 12, 26, 20, 16, 18]


def write_xlsx(views: Iterable[CaseView], target: BinaryIO, *, sheet: str = "Ärenden") -> None:
    """The cases as a workbook of one sheet (openpyxl's write-only mode: rows go to disk as
    they come), a bold header row kept in view, dates as dates."""
    book = Workbook(write_only=True)
    worksheet = book.create_sheet(sheet)
    for index, width in enumerate(_WIDTHS):
        worksheet.column_dimensions[chr(ord("A") + index)].width = width
    worksheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for text in HEADERS:
        cell = WriteOnlyCell(worksheet, value=text)
        cell.font = bold
        header.append(cell)
    worksheet.append(header)
    for view in views:
        worksheet.append([_xlsx_cell(worksheet, value) for value in row_of(view)])
    book.save(target)


def _xlsx_cell(worksheet: object, value: Value) -> WriteOnlyCell | Value:
    if isinstance(value, datetime):
        cell = WriteOnlyCell(worksheet, value=value)
        cell.number_format = "yyyy-mm-dd hh:mm"
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(worksheet, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    if isinstance(value, str) and value.startswith("="):
        # openpyxl stores a string starting with '=' as a formula; this one is text.
        cell = WriteOnlyCell(worksheet, value=value)
        cell.data_type = "s"
        return cell
    return value


# -- any table (the funding pages' lists) ---------------------------------------------------


def table_csv(headers: list[str], rows: Iterable[list[Value]]) -> str:
    """A table as the case list's CSV: BOM, ';', CRLF, formulas written as text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    buffer.write(CSV_BOM)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_csv_text(value) for value in row])
    return buffer.getvalue()


def table_xlsx(headers: list[str], rows: Iterable[list[Value]], *, sheet: str) -> bytes:
    """A table as a one-sheet workbook: bold header kept in view, dates as dates."""
    target = io.BytesIO()
    book = Workbook(write_only=True)
    worksheet = book.create_sheet(sheet)
    worksheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for text in headers:
        cell = WriteOnlyCell(worksheet, value=text)
        cell.font = bold
        header.append(cell)
    worksheet.append(header)
    for row in rows:
        worksheet.append([_xlsx_cell(worksheet, value) for value in row])
    book.save(target)
    return target.getvalue()
