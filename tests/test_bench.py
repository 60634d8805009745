"""The benchmarks still run and print their figures (what they measure is read, not asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_lifecycle_benchmark_drives_every_case_on_both_sides() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "lifecycle.py"), "--n", "4", "--block", "3"],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = result.stdout
    # Four cases of three person-fired steps each, on the engine and on plain sqlite3 alike;
    # all four through the board's meetings to avslutad.
    assert re.search(r"engine: +12 transitions in", out), out
    assert re.search(r"plain sqlite3: +12 steps in", out), out
    assert re.search(r"whole path: +4 of 4 cases idea -> avslutad in", out), out
    assert re.search(r"ratio engine/plain: \d+\.\d\d", out), out
    assert re.search(r"peak memory \(max RSS\): \d+ MiB", out), out
