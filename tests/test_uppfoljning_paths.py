"""The Uppföljning Finsam export and page as they grow: the export streams the same CSV the
csv module would write, whatever the fields hold; the page comes a page at a time with totals
of every row, and the file behind its link is the whole export."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import update

from tests.funding_world import CHEF
from tests.support import TravelClock
from tests.test_read_paths import _grown
from tests.web_support import ClientFactory
from workflow.app import App
from workflow.csv_row import CsvRow
from workflow.errors import BadInput
from workflow.models import Insats
from workflow.services.funding import uppfoljning
from workflow.vocabulary import Role

TRICKY = {
    "2026/001": {"title": "Semi;kolon", "syfte": 'Ett "citat" i syftet'},
    "2026/002": {"title": "Rad\r\nbrytning", "malgrupp": "Unga\nvuxna"},
    "2026/003": {"title": "Åtgärd för äldre", "syfte": "Inget att citera, bara å ä ö"},
}


def _csv(rows: list[list[Any]]) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
    return out.getvalue()


@given(st.lists(st.text(), min_size=2, max_size=6))
def test_a_row_is_written_as_the_csv_module_writes_it(fields: list[str]) -> None:
    assert CsvRow().text(fields) + "\r\n" == _csv([fields])


def test_the_export_quotes_what_the_csv_format_quotes_and_reads_back_the_same(
    app: App, clock: TravelClock
) -> None:
    _grown(app, clock, 4)
    with app.db.transaction() as session:
        for dnr, values in TRICKY.items():
            session.execute(update(Insats).where(Insats.dnr == dnr).values(**values))
    text = uppfoljning.export_csv(app, forbund="test")
    rows = uppfoljning.export_rows(app, forbund="test")
    assert text == _csv([uppfoljning.COLUMNS, *rows])
    read = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert [r[4] for r in read[1:]] == [
        "Semi;kolon",
        "Rad\r\nbrytning",
        "Åtgärd för äldre",
        "Insats 4",
    ]
    assert read[2][10] == "Unga\nvuxna" and read[1][5] == 'Ett "citat" i syftet'
    assert [r[1] for r in read[1:]] == ["2026/001", "2026/002", "2026/003", "2026/004"]


def test_the_page_comes_a_page_at_a_time_with_totals_of_every_row(
    app: App, clock: TravelClock
) -> None:
    _grown(app, clock, 7)
    everything = uppfoljning.export_rows(app, forbund="test")
    pages, after = [], None
    while True:
        page = uppfoljning.overview(app, viewer_email=CHEF, forbund="test", after=after, limit=3)
        pages.append(page.rows)
        after = page.next_after
        if after is None:
            break
    assert [len(rows) for rows in pages] == [3, 3, 1]
    assert [row for rows in pages for row in rows] == everything
    # The totals are the whole year's, on every page: seven insatser, their approved counts.
    women = sum(row[uppfoljning.COLUMNS.index("Deltagare kvinnor")] for row in everything)
    assert page.totals == {2027: {"insatser": 7, "kvinnor": women, "man": women + 7, "ovriga": 0}}
    assert uppfoljning.overview(app, viewer_email=CHEF, forbund="test", year=2030).rows == []


def test_a_bad_cursor_or_page_size_is_one_line_that_says_what_to_do(
    app: App, clock: TravelClock
) -> None:
    _grown(app, clock, 2)
    with pytest.raises(BadInput, match="sidmarkör") as bad:
        uppfoljning.overview(app, viewer_email=CHEF, forbund="test", after="inte-en-markör")
    assert "\n" not in str(bad.value)
    with pytest.raises(BadInput, match="sidstorlek"):
        uppfoljning.overview(app, viewer_email=CHEF, forbund="test", limit=0)


def test_the_page_links_on_to_the_next_rows_and_the_file_holds_them_all(
    client_as: ClientFactory, demo_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(uppfoljning, "PAGE_LIMIT", 2)
    chef = client_as(Role.FORBUNDSCHEF)
    everything = uppfoljning.export_rows(demo_app, forbund="akst")
    seen: list[str] = []
    url: str | None = "/ekonomi/uppfoljning"
    while url is not None:
        page = chef.get(url)
        assert page.status_code == 200
        table = re.search(r'<table id="uf-rader">(.*?)</table>', page.text, flags=re.S)
        assert table is not None
        seen += re.findall(r"<tr>\s*<td>([^<]*)</td>", table.group(1))
        found = re.search(r'<a href="([^"]+)" rel="next">Nästa sida</a>', page.text)
        url = found.group(1).replace("&amp;", "&") if found else None
        if url is not None:
            assert "Första sidan" in chef.get(url).text
    assert seen == [row[1] for row in everything] and len(everything) > 2
    # The file is the whole export, streamed, with the BOM Excel reads UTF-8 by.
    whole = chef.get("/ekonomi/uppfoljning.csv")
    assert whole.headers["content-type"].startswith("text/csv")
    assert whole.text == "\ufeff" + uppfoljning.export_csv(demo_app, forbund="akst")
    assert chef.get("/ekonomi/uppfoljning?efter=trasig").status_code == 400
