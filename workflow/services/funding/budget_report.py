"""The budget report in the shape of the förbund's "Finansiell ram" table (seed 004), for one
or more years: rows of (label, amount per year), written as a table, CSV or XLSX."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from typing import Any

from workflow.app import App
from workflow.services.funding.budget import (
    NamedInsatser,
    YearFigures,
    figures,
    named_figures,
)
from workflow.services.funding.support import parse_year

# Row kinds: how a row is drawn (headings bold, totals framed) and whether it carries amounts.
HEADING = "rubrik"
LINE = "rad"
TOTAL = "summa"
RESULT = "resultat"


@dataclass(slots=True)
class Row:
    label: str
    kind: str
    values: dict[int, int | None]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class BudgetReport:
    years: list[int]
    rows: list[Row]
    figures: list[YearFigures]
    # How many insatser the table sums in one row "- Övriga N insatser" (build's `insatser`).
    others: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "years": self.years,
            "rows": [r.to_json() for r in self.rows],
            "figures": [f.to_json() for f in self.figures],
        }


def _keys(figs: list[YearFigures], section: str) -> list[tuple[str, str]]:
    """(group, label) of a section's items in the order of the first year that has them."""
    keys: list[tuple[str, str]] = []
    for fig in figs:
        for item in fig.items:
            key = (item["group"], item["label"])
            if item["section"] == section and key not in keys:
                keys.append(key)
    return keys


def _item(fig: YearFigures, section: str, group: str, label: str) -> int:
    return sum(
        i["tkr"]
        for i in fig.items
        if i["section"] == section and i["group"] == group and i["label"] == label
    )


# The insatser the budget page names in the table (the XLSX names them all).
PAGE_INSATSER = 100


def _every_insats(figs: list[YearFigures]) -> NamedInsatser:
    """Each insats once, in the order the years first list them; its grant per year summed in
    one pass over the years' lines (not once per insats: thousands of insatser)."""
    titles: dict[tuple[str, str], None] = {}
    granted: dict[int, dict[str, int]] = {f.year: {} for f in figs}
    for fig in figs:
        per_ref = granted[fig.year]
        get = per_ref.get
        for amount in fig.insatser:
            ref = amount.ref
            titles[ref, amount.title] = None  # a key keeps the place it was first given
            per_ref[ref] = get(ref, 0) + amount.granted_tkr
    return NamedInsatser(list(titles), granted, 0, {})


def build(
    app: App, *, years: list[Any], forbund: str | None = None, insatser: int | None = None
) -> BudgetReport:
    """Seed 004's table for the years. `insatser`: at most so many insatser by name (the page
    shows the table; a förbund's thousands of insatser would make it megabytes), the rest in
    one row "- Övriga N insatser" with their sums, and only those lines read (named_figures);
    without it, every insats (the CLI, XLSX). A year asked for twice is one column: summed
    over the years' lines, it would count each grant twice."""
    years = list(dict.fromkeys(parse_year(year) for year in years))
    if insatser is None:
        figs = figures(app, years=years, forbund=forbund)
        named = _every_insats(figs)
    else:
        figs, named = named_figures(app, years=years, limit=insatser, forbund=forbund)
    order = [f.year for f in figs]

    def per_year(get: Any) -> dict[int, int | None]:
        return {f.year: get(f) for f in figs}

    rows = [
        Row("Finansiell ram", LINE, per_year(lambda f: f.frame_tkr)),
        Row("Överskott från föregående år", LINE, per_year(lambda f: f.surplus_in_tkr)),
        Row("Insatser", HEADING, {}),
    ]
    # A row per insats (thousands): its values read straight from the sums, no call per year.
    titles = named.titles
    sums = [(year, named.granted[year].get) for year in dict.fromkeys(order)]
    if len(sums) == 1:  # the usual report, of one year: a dict display, not a comprehension
        [(year, get)] = sums
        rows.extend(Row("- " + title, LINE, {year: get(ref, 0)}) for ref, title in titles)
    else:
        rows.extend(
            Row("- " + title, LINE, {year: get(ref, 0) for year, get in sums})
            for ref, title in titles
        )
    if named.others:
        rows.append(Row(f"- Övriga {named.others} insatser", LINE, dict(named.others_tkr)))
    for group, label in _keys(figs, "insatser"):
        rows.append(
            Row(
                f"- {label}",
                LINE,
                per_year(lambda f, g=group, lab=label: _item(f, "insatser", g, lab)),
            )
        )
    for group, label in _keys(figs, "reserv"):
        # A frame keeps at most one such line; grants made after adoption have drawn on it.
        rows.append(
            Row(
                f"- {label}",
                LINE,
                per_year(
                    lambda f, g=group, lab=label: (
                        f.reserve_left_tkr
                        if any(i["section"] == "reserv" and i["label"] == lab for i in f.items)
                        else 0
                    )
                ),
            )
        )
    for group, label in _keys(figs, "utvardering") or [("", "Utvärdering")]:
        rows.append(
            Row(
                label, LINE, per_year(lambda f, g=group, lab=label: _item(f, "utvardering", g, lab))
            )
        )
    rows.append(Row("Adm. inkl. styrelse", HEADING, {}))
    current_group: str | None = None
    for group, label in _keys(figs, "administration"):
        if group and group != current_group:
            rows.append(Row(group, HEADING, {}))
        current_group = group
        rows.append(
            Row(
                f"- {label}" if group else label,
                LINE,
                per_year(lambda f, g=group, lab=label: _item(f, "administration", g, lab)),
            )
        )
    rows += [
        Row("Total summa", TOTAL, per_year(lambda f: f.costs_tkr)),
        Row("Över-/underskott +/-", RESULT, per_year(lambda f: f.result_tkr)),
        Row("Total budget (ram + överskott)", TOTAL, per_year(lambda f: f.available_tkr)),
        Row("Kvar för nya insatser", TOTAL, per_year(lambda f: f.room_for_new_tkr)),
        Row("Parternas bidrag", HEADING, {}),
    ]
    labels: list[str] = []
    for fig in figs:
        for share in fig.contributions:
            if share["label"] not in labels:
                labels.append(share["label"])
    for label in labels:
        rows.append(
            Row(
                f"- {label}",
                LINE,
                per_year(
                    lambda f, lab=label: sum(c["tkr"] for c in f.contributions if c["label"] == lab)
                ),
            )
        )
    rows += [
        Row("Fördelning av insatskostnader", HEADING, {}),
        Row("- individinriktade insatser (tkr)", LINE, per_year(lambda f: f.individ_tkr)),
        Row("- strukturövergripande insatser (tkr)", LINE, per_year(lambda f: f.struktur_tkr)),
        Row("- andel individinriktat (%)", LINE, per_year(lambda f: f.individ_percent)),
        Row(
            "- nationellt mönster, andel individinriktat (%)",
            LINE,
            per_year(lambda f: f.national_individ_percent),
        ),
    ]
    return BudgetReport(order, rows, figs, named.others)


def signed(value: int | None, kind: str) -> str:
    if value is None:
        return ""
    if kind == RESULT:
        return f"+ {value}" if value >= 0 else f"- {-value}"
    return str(value)


def table_lines(report: BudgetReport) -> list[str]:
    """A plain text table; the heading row names the years like the seed does. A row per
    insats (thousands): the table is built a column at a time, each cell formatted once and
    padded by C-level calls, with no list per row."""
    years = report.years
    rows = report.rows
    headers = ["", *(f"År {y} (tkr)" for y in years)]
    labels = [row.label for row in rows]
    columns = [[signed(row.values.get(y), row.kind) for row in rows] for y in years]
    widths = [max([len(headers[0]), *map(len, labels)])]
    widths += [
        max([len(header), *map(len, cells)])
        for header, cells in zip(headers[1:], columns, strict=True)
    ]
    label_width, *value_widths = widths
    lines = ["  ".join([headers[0].ljust(label_width), *map(str.rjust, headers[1:], value_widths)])]
    padded = [
        [label.ljust(label_width) for label in labels],
        *(
            [cell.rjust(width) for cell in cells]
            for cells, width in zip(columns, value_widths, strict=True)
        ),
    ]
    body = ["  ".join(cells).rstrip() for cells in zip(*padded, strict=True)]
    # The rule goes above the totals, which start at "Total summa".
    rule = "  ".join("-" * w for w in widths)
    start = 0
    for index, row in enumerate(rows):
        if row.label == "Total summa" and row.kind in (TOTAL, RESULT):
            lines += body[start:index]
            lines.append(rule)
            start = index
    lines += body[start:]
    for fig in report.figures:
        for warning in fig.warnings:
            lines.append(f"VARNING: {warning}")
    return lines


def to_csv(report: BudgetReport) -> str:
    """Semicolon-separated, as Swedish spreadsheets expect; amounts as plain integers."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Rad", "Typ", *(str(y) for y in report.years)])
    for row in report.rows:
        writer.writerow(
            [
                row.label,
                row.kind,
                *("" if row.values.get(y) is None else row.values[y] for y in report.years),
            ]
        )
    return out.getvalue()


def to_xlsx(report: BudgetReport) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Border, Font, Side

    book = Workbook()
    sheet = book.active
    sheet.title = "Finansiell ram"
    years = "".join(f" samt {y}" if i else str(y) for i, y in enumerate(report.years))
    sheet.append([f"FINANSIELL RAM FÖR {years}"])
    sheet["A1"].font = Font(bold=True, size=12)
    sheet.append(["", *(f"År {y} (tkr)" for y in report.years)])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    thin = Side(style="thin")
    width = len(report.years) + 1
    # The row's own cells by number: asking the sheet for its last row (max_row) counts every
    # cell, which made a table of a few thousand insatser quadratic (seconds at 10 000 cases).
    for number, row in enumerate(report.rows, start=3):
        sheet.append([row.label, *(row.values.get(y) for y in report.years)])
        cells = [sheet.cell(row=number, column=column) for column in range(1, width + 1)]
        if row.kind == HEADING:
            cells[0].font = Font(bold=True)
        if row.kind in {TOTAL, RESULT}:
            for cell in cells:
                cell.font = Font(bold=True)
                cell.border = Border(top=thin)
        if row.kind == RESULT:
            for cell in cells[1:]:
                cell.number_format = "+0;-0;0"
    sheet.column_dimensions["A"].width = 52
    for index in range(len(report.years)):
        sheet.column_dimensions[chr(ord("B") + index)].width = 16
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
