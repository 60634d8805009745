"""Run one command in a child process and read what it cost: CPU seconds and peak memory.

Shared by bench/startup.py and bench/scale.py. The figures come from the kernel's account of
that one child (os.wait4), so a busy machine slows the clock but not the CPU seconds much.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Cost:
    cpu: float  # user + system seconds of the child
    rss_mib: float  # its peak resident memory
    returncode: int
    out_bytes: int
    err: str
    timed_out: bool = False

    def line(self) -> str:
        return f"{self.cpu:6.2f} s CPU  {self.rss_mib:6.0f} MiB"


# What any `finsam` command pays before it does anything: the floor bench/startup.py and
# bench/scale.py read their figures against, measured in the same run.
FLOOR = [sys.executable, "-c", "import sqlalchemy, sqlmodel, click"]


def finsam_command() -> list[str]:
    """`finsam` as installed beside this Python (the console script), else `python -m workflow`."""
    script = Path(sys.executable).with_name("finsam")
    if script.exists():
        return [str(script)]
    found = shutil.which("finsam")
    return [found] if found else [sys.executable, "-m", "workflow"]


def run(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float | None = None,
) -> Cost:
    """Run argv to its end (or kill it after `timeout` seconds); its stdout is counted and
    dropped, its stderr kept for messages."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=dict(env) if env is not None else None,
            cwd=cwd,
        )
        stopped = threading.Event()

        def stop() -> None:
            stopped.set()
            child.kill()

        timer = threading.Timer(timeout, stop) if timeout else None
        if timer is not None:
            timer.start()
        try:
            _pid, status, usage = os.wait4(child.pid, 0)
        finally:
            if timer is not None:
                timer.cancel()
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0, os.SEEK_END)
        err.seek(0)
        return Cost(
            cpu=usage.ru_utime + usage.ru_stime,
            rss_mib=usage.ru_maxrss / 1024,  # KiB on Linux
            returncode=child.returncode,
            out_bytes=out.tell(),
            err=err.read().decode("utf-8", "replace"),
            timed_out=stopped.is_set(),
        )


def best_of(
    argv: Sequence[str],
    repeat: int,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float | None = None,
) -> Cost:
    """The cheapest of `repeat` runs (the least disturbed by whatever else the machine does);
    stops at the first run that fails."""
    best: Cost | None = None
    for _ in range(max(1, repeat)):
        cost = run(argv, env=env, cwd=cwd, timeout=timeout)
        if cost.returncode != 0:
            return cost
        if best is None or cost.cpu < best.cpu:
            best = cost
    assert best is not None
    return best
