"""The built wheel, installed into a fresh virtual environment, runs from any directory."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_wheel_installs_and_runs_the_demo_from_an_empty_directory(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = dist.glob("finsam_workflow-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    # The data folders a förbund edits travel inside the wheel.
    assert "workflow/_data/states/insats.yaml" in names
    assert "workflow/_data/config/finsam.toml" in names
    assert any(n.startswith("workflow/_data/notifications/") for n in names)
    assert any(n.startswith("workflow/migrations/versions/") for n in names)
    # The web's own files: no CDN, so htmx and the stylesheet ship with the code.
    for name in ("static/htmx.min.js", "static/finsam.css", "templates/_layout.html.j2"):
        assert f"workflow/web/{name}" in names, name

    environment = tmp_path / "venv"
    venv.create(environment, with_pip=True)
    bin_dir = environment / ("Scripts" if sys.platform == "win32" else "bin")
    subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", str(wheel)],
        check=True,
        capture_output=True,
        timeout=900,
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    finsam = str(bin_dir / "finsam")
    for command in (["init"], ["demo"], ["--forbund", "akst", "cases", "list"]):
        done = subprocess.run(
            [finsam, *command], cwd=empty, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr
    assert "Utgångspunkten" in done.stdout
    assert (empty / "finsam.db").is_file()
