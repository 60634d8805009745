"""A real SMTP server on loopback (aiosmtpd) that records what it accepts and can be told to
greet with 554 or 421, refuse a login with 535, answer 451/550, sit on DATA, or go away."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Mailbox:
    """The handler: accepted messages, and scripted answers to give instead of accepting."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.data_answers: list[str] = []  # next DATA answers, e.g. ["451 4.3.0 try later"]
        self.refuse_recipients: dict[str, str] = {}  # address -> RCPT answer, e.g. "550 ..."
        self.data_delay = 0.0  # seconds to sit on DATA before answering (a slow server)
        self.data_started = 0  # how many DATA commands have begun
        # Said instead of "220 ready", after which the server hangs up (e.g. "554 5.3.2 ...").
        self.greeting: str | None = None
        self.refuse_login = False  # answer AUTH with 535 (with SmtpServer(auth=True))
        self.connections = 0
        self.offered: list[str] = []  # Message-ID of every DATA begun, answered or not
        self.logins: list[str] = []

    def authenticate(self, server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        if self.refuse_login:
            return AuthResult(success=False, handled=False)
        self.logins.append(auth_data.login.decode())
        return AuthResult(success=True)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if address in self.refuse_recipients:
            return self.refuse_recipients[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.data_started += 1
        self.offered.append(str(message_from_bytes(envelope.content, policy=default)["Message-ID"]))
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        if self.data_answers:
            return self.data_answers.pop(0)
        message = message_from_bytes(envelope.content, policy=default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["X-Envelope-To"])]

    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.messages]


class _ScriptedSMTP(SMTP):
    """aiosmtpd's server, except that it can greet with a refusal and hang up."""

    async def _handle_client(self) -> None:
        mailbox: Mailbox = self.event_handler
        mailbox.connections += 1
        if mailbox.greeting is not None:
            await self.push(mailbox.greeting)
            assert self.transport is not None
            self.transport.close()
            return
        await super()._handle_client()


class _Controller(Controller):
    def factory(self) -> SMTP:
        return _ScriptedSMTP(self.handler, **self.SMTP_kwargs)


class SmtpServer:
    def __init__(self, auth: bool = False) -> None:
        self.port = free_port()
        self.mailbox = Mailbox()
        self.auth = auth
        self._controller: Controller | None = None

    def start(self) -> None:
        extra: dict[str, object] = {}
        if self.auth:
            # Loopback only: plain-text AUTH is what the test is about, not TLS.
            extra = {"authenticator": self.mailbox.authenticate, "auth_require_tls": False}
        self._controller = _Controller(self.mailbox, hostname="127.0.0.1", port=self.port, **extra)
        self._controller.start()
        self.mailbox.connections = 0

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def wait_for(self, count: int, timeout: float = 20.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.mailbox.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.mailbox.messages

    @property
    def settings(self) -> dict[str, object]:
        login = {"username": "finsam", "password": "hemligt"} if self.auth else {}
        return {
            "smtp_host": "127.0.0.1",
            "smtp_port": self.port,
            "security": "none",
            "from_address": "finsam@test.example",
            "from_name": "Samordningsförbundet test",
            "timeout_seconds": 5,
            **login,
        }


@contextmanager
def running_server(auth: bool = False) -> Iterator[SmtpServer]:
    server = SmtpServer(auth=auth)
    server.start()
    try:
        yield server
    finally:
        server.stop()
