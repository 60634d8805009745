"""A real SMTP server on loopback (aiosmtpd) that records what it accepts and can be told to
answer 451/550 or to go away for a while."""

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

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if address in self.refuse_recipients:
            return self.refuse_recipients[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.data_started += 1
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


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.mailbox = Mailbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

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
        return {
            "smtp_host": "127.0.0.1",
            "smtp_port": self.port,
            "security": "none",
            "from_address": "finsam@test.example",
            "from_name": "Samordningsförbundet test",
            "timeout_seconds": 5,
        }


@contextmanager
def running_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
