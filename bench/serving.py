"""uvicorn in a child process of its own, for the page benchmarks (bench/web.py, bench/pages.py).

A server sharing the client's process (a thread) would share its GIL and measure the switching
between them; in a child of its own, its CPU is its own too (`cpu()`, from /proc). The parent
binds the socket and passes it down, so there is no race for the port: the child is the
script given, run as `script --serve URL --fd FD`, which serves on that socket.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


class Server:
    """`script --serve url --fd N` in a child process, until the block ends."""

    def __init__(self, script: str, url: str) -> None:
        self.script = script
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(128)
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        self.database_url = url
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        fd = self.socket.fileno()
        self.process = subprocess.Popen(
            [sys.executable, self.script, "--serve", self.database_url, "--fd", str(fd)],
            pass_fds=[fd],
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("uvicorn startade inte")
            time.sleep(0.1)

    def cpu(self) -> float:
        """The server process's CPU seconds so far (user + system)."""
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def __exit__(self, *_exc: object) -> None:
        assert self.process is not None
        self.process.terminate()
        self.process.wait(timeout=20)
        self.socket.close()
