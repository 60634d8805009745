"""Tests in a real browser: the app on uvicorn in a thread, Debian's headless Chromium.

    @pytest.mark.browser
    def test_x(live_server: str, page: Page) -> None:
        page.goto(f"{live_server}/logga-in")
        log_in(page, demo_login(Role.HANDLAGGARE).email)
        assert_accessible(page)              # axe-core, WCAG 2.1 A and AA: zero violations

`live_server` serves `demo_app` (the demo on both databases, tests/web_support.py) on
127.0.0.1 and a free port. Playwright drives /usr/bin/chromium (never `playwright install`:
it downloads a browser). `page` fails the test on any error in the browser's console, so a
script or style the Content-Security-Policy blocks is a failure, not a silent one.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, ConsoleMessage, Page, Response, sync_playwright

from workflow.app import App
from workflow.services.demo.logins import DEMO_PASSWORD
from workflow.web.app import create_web_app

CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

_AXE = Axe()


class LiveServer:
    """uvicorn serving an App in a thread, on a socket bound before it starts (no race)."""

    def __init__(self, app: App) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_web_app(app), log_level="warning", lifespan="off", server_header=False
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.socket.close()


@pytest.fixture
def live_server(demo_app: App) -> Iterator[str]:
    """The demo served on 127.0.0.1; the base URL (no trailing slash)."""
    with LiveServer(demo_app) as server:
        yield server.url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("chromium saknas; installera Debian-paketen i .ci/apt-packages.txt")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_FLAGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) and page; console errors fail the test."""
    context = browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm")
    tab = context.new_page()
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # A page answered 401/404 on purpose logs "Failed to load resource" too: a failed
        # file the page needs is caught below, by its response, instead.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    def on_response(response: Response) -> None:
        if response.request.resource_type != "document" and response.status >= 400:
            errors.append(f"{response.status} {response.url}")

    tab.on("console", on_console)
    tab.on("response", on_response)
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert not errors, f"fel i webbläsarens konsol: {errors}"


def assert_accessible(page: Page) -> None:
    """axe-core on the page as it is now, WCAG 2.0/2.1 A and AA: zero violations."""
    results = _AXE.run(
        page,
        options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]},
    )
    assert results.violations_count == 0, f"{page.url}:\n{results.generate_report()}"


def log_in(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    """Fill in and send the login form on the current page (a pointer user's way)."""
    page.get_by_label("E-postadress").fill(email)
    page.get_by_label("Lösenord").fill(password)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_load_state()
