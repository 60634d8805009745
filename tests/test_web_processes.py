"""Several `finsam serve` processes on one PostgreSQL database behave as one site.

Two real processes (the installed `finsam` command) serve the same schema: a login made
through one is valid on the other, a logout through the other ends it for both, and failed
logins count across both.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from workflow.services.demo.logins import DEMO_PASSWORD, demo_login
from workflow.vocabulary import Role
from workflow.web.deps import ANONYMOUS_COOKIE, SESSION_COOKIE

pytestmark = pytest.mark.postgres

FINSAM = Path(sys.executable).with_name("finsam")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def pg_demo_url(postgres_schema: str, request: pytest.FixtureRequest) -> str:
    from tests.conftest import _schema_url, _truncate_all
    from tests.web_support import _copy_postgres

    url = _schema_url(postgres_schema)
    _truncate_all(url)
    _copy_postgres(request.getfixturevalue("demo_postgres_template"), url)
    return url


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Served:
    def __init__(self, url: str, log: Path) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {**os.environ, "FINSAM_DATABASE_URL": url}
        self.process = subprocess.Popen(
            [str(FINSAM), "serve", "--port", str(self.port)],
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            env=env,
        )

    def wait(self) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"finsam serve ended: {self.log.read_text()}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"finsam serve did not answer: {self.log.read_text()}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def two_servers(pg_demo_url: str, tmp_path: Path) -> Iterator[tuple[Served, Served]]:
    first = Served(pg_demo_url, tmp_path / "first.log")
    second = Served(pg_demo_url, tmp_path / "second.log")
    try:
        first.wait()
        second.wait()
        yield first, second
    finally:
        first.stop()
        second.stop()


class Browser:
    """Cookies by hand: the session cookie is Secure, and httpx keeps Secure cookies for
    https only, while a browser sends them to loopback over http (the demo's case)."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def request(self, method: str, url: str, **kwargs: object) -> httpx.Response:
        header = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        answer = httpx.request(
            method,
            url,
            headers={"Cookie": header} if header else {},
            timeout=30,
            **kwargs,  # type: ignore[arg-type]
        )
        for raw in answer.headers.get_list("set-cookie"):
            name, _, rest = raw.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in raw or not value.strip('"'):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return answer

    def token(self, url: str) -> str:
        found = _CSRF.search(self.request("GET", url).text)
        assert found
        return found.group(1)

    def login(self, base: str, email: str, password: str) -> httpx.Response:
        token = self.token(f"{base}/logga-in")
        return self.request(
            "POST",
            f"{base}/logga-in",
            data={"email": email, "password": password, "csrf_token": token},
        )


def test_two_processes_share_sessions_and_the_throttle(two_servers: tuple[Served, Served]) -> None:
    first, second = two_servers
    banner = first.log.read_text()
    assert f"http://127.0.0.1:{first.port}/" in banner
    assert "handlaggare@akst.example" in banner and DEMO_PASSWORD in banner

    person = Browser()
    answer = person.login(first.base, demo_login(Role.HANDLAGGARE).email, DEMO_PASSWORD)
    assert answer.status_code == 303 and SESSION_COOKIE in person.cookies
    assert ANONYMOUS_COOKIE in person.cookies
    on_second = person.request("GET", f"{second.base}/")
    assert on_second.status_code == 200 and "Sofia Persson" in on_second.text
    # Logged out through the second: the first no longer knows the session either.
    token = person.token(f"{second.base}/")
    out = person.request("POST", f"{second.base}/logga-ut", data={"csrf_token": token})
    assert out.status_code == 303
    person.cookies[SESSION_COOKIE] = "x"  # whatever the browser still sends
    assert person.request("GET", f"{first.base}/").status_code == 303

    guesser = Browser()
    email = demo_login(Role.SEKRETERARE).email
    for server in (first, second, first, second, first):
        assert guesser.login(server.base, email, "gissning").status_code == 401
    refused = guesser.login(second.base, email, DEMO_PASSWORD)
    assert refused.status_code == 429 and "För många misslyckade inloggningar" in refused.text
