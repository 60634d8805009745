"""The benchmarks still run and print their figures (what they measure is read, not asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def bench(script: str, *args: str, timeout: float = 300) -> str:
    """What bench/<script> prints, run to its end (a failure fails the test)."""
    return subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=timeout,
    ).stdout


def test_the_lifecycle_benchmark_drives_every_case_on_both_sides() -> None:
    out = bench("lifecycle.py", "--n", "4", "--block", "3")
    # Four cases of three person-fired steps each, on the engine and on plain sqlite3 alike;
    # all four through the board's meetings to avslutad.
    assert re.search(r"engine: +12 transitions in", out), out
    assert re.search(r"plain sqlite3: +12 steps in", out), out
    assert re.search(r"whole path: +4 of 4 cases idea -> avslutad in", out), out
    assert re.search(r"ratio engine/plain: \d+\.\d\d", out), out
    assert re.search(r"peak memory \(max RSS\): \d+ MiB", out), out


@pytest.fixture(scope="module")
def scale_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """bench/scale.py at a tiny size (its databases kept, for the start-up bench below)."""
    folder = tmp_path_factory.mktemp("scale")
    out = bench(
        "scale.py", "--sizes", "200", "600", "--keep", str(folder), "--timeout", "300", timeout=900
    )
    return out, folder


@pytest.mark.slow
def test_the_scale_benchmark_builds_both_sizes_and_measures_every_command(
    scale_run: tuple[str, Path],
) -> None:
    out, _ = scale_run
    assert re.search(r"built 200 cases, \d+ audit events", out), out
    assert re.search(r"built 600 cases, \d+ audit events", out), out
    for label in (
        "cases list --state pagaende --json",
        "reminders list",
        "budget report --year 2013",
        "audit verify",
        "--help",
        "uppfoljning export",
        "reports overdue",
        "cases show",
        "reminders plan",
    ):
        # A figure at each size, a growth factor, the cost above the floor and what it
        # wrote: every command ran to its end.
        figures = (
            rf"{re.escape(label)} +\d+\.\d\d s \d+ MiB +\d+\.\d\d s \d+ MiB +\d+\.\d"
            r" +(\d+\.\d\d s|below) +\d+ (B|kB|MB)$"
        )
        assert re.search(figures, out, re.MULTILINE), (label, out)
    # The floor every figure is read against, measured at each size.
    for size in (200, 600):
        floor = rf"{size} floor \(import sqlalchemy, sqlmodel, click\) +\d+\.\d\d s \d+ MiB"
        assert re.search(floor, out), out
    assert "less the floor (its cheapest run at any size" in out


@pytest.mark.slow
def test_the_startup_benchmark_prints_each_figure_and_the_ratio(
    scale_run: tuple[str, Path],
) -> None:
    _, folder = scale_run
    out = bench("startup.py", "--repeat", "1", "--db", f"sqlite:///{folder / 'cases-200.db'}")
    assert re.search(r"floor \(import sqlalchemy, sqlmodel, click\): +\d+\.\d\d s CPU", out), out
    for name in ("--help", "--version", "cases show"):
        assert re.search(rf"finsam {re.escape(name)} +\d+\.\d\d s CPU .* ratio to floor", out), out
    assert "database libraries imported by finsam --help: -" in out
    assert re.search(r"ratio cases show/floor: \d+\.\d\d", out), out


@pytest.mark.slow
def test_the_pages_benchmark_serves_each_size_and_prints_every_page_asked_for(
    scale_run: tuple[str, Path],
) -> None:
    _, folder = scale_run
    out = bench(
        "pages.py",
        *("--requests", "1", "--db", str(folder / "cases-200.db"), str(folder / "cases-600.db")),
        *("--only", "/arenden", "/ekonomi/budget", "/granskning"),
    )
    # Each page at each size (as the förbundschef, who may see them all), then the growth.
    for page in ("/arenden", "/ekonomi/budget", "/granskning/rapporter"):
        row = rf"{re.escape(page)} \(forbundschef\) +(\d+\.\d ms +\d+\.\d KB +){{2}}(\d+\.\d|-)"
        assert re.search(row, out), (page, out)
    assert "/arenden.csv" not in out  # the downloads only with --downloads
