"""bench/web.py still builds, serves and prints every figure (read, not asserted: no timing)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import _postgres_problem

ROOT = Path(__file__).resolve().parent.parent
FIGURES = [
    "startsida",
    "ärendelista, första sidan",
    "ärendelista, djup sida (after)",
    "filtrerad lista",
    "ärendesida",
    "steg",
]


# That the bench runs, on SQLite; on PostgreSQL too under `pytest -m full` (its figures there
# are taken by hand, README "Benchmarks").
@pytest.mark.parametrize(
    "kind", ["sqlite", pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.full])]
)
def test_the_web_benchmark_prints_each_page_beside_its_bare_route(kind: str) -> None:
    if kind == "postgresql" and (problem := _postgres_problem()):
        pytest.skip(problem)
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "web.py"), "--cases", "130", "--requests", "3",
         "--db", kind],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    out = result.stdout
    assert re.search(rf"{kind}: 130 ärenden, byggda på [\d.]+ s; 3 anrop per mätning", out), out
    for name in FIGURES:
        line = next((row for row in out.splitlines() if row.strip().startswith(name)), None)
        assert line is not None, f"{name} saknas:\n{out}"
        # The bare route is always measured: three figures in ms; the page's, or why not.
        assert len(re.findall(r"\d+\.\d\d", line)) >= 3, line
    start = next(row for row in out.splitlines() if row.strip().startswith("startsida"))
    assert re.search(r"\d+\.\d\d$", start), start  # the start page is on every branch: a ratio
