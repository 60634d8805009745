"""The förbundschef's funding pages: the reports table and review, payments, agreements, the
budget frame (seed 004's "Finansiell ram"), Uppföljning Finsam and closure; who reaches them."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook

from tests.web_support import ClientFactory
from workflow.app import App
from workflow.vocabulary import Role

PAGES = [
    "/granskning/rapporter",
    "/ekonomi/utbetalningar",
    "/ekonomi/avtal",
    "/ekonomi/budget",
    "/ekonomi/uppfoljning",
    "/ekonomi/avslut",
]


def _cells(html: str, label: str) -> list[str]:
    """The amounts of the budget table's row `label`."""
    row = re.search(r'<tr data-row="' + re.escape(label) + r'">(.*?)</tr>', html, flags=re.S)
    assert row, f"no row {label!r}"
    return [
        re.sub(r"<[^>]+>", "", c).strip()
        for c in re.findall(r"<td>(.*?)</td>", row.group(1), flags=re.S)
    ]


def test_smoke(client_as: ClientFactory, demo_app: App) -> None:
    chef = client_as(Role.FORBUNDSCHEF)
    for path in PAGES:
        page = chef.get(path)
        assert page.status_code == 200, (path, page.text[-3000:])
        open(f"/tmp/chef/{path.strip('/').replace('/', '_')}.html", "w").write(page.text)
