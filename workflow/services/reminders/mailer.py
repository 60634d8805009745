"""Turning an outbox row into an e-mail and handing it to the SMTP server (aiosmtplib).

Headers never take raw text: the subject is one line already (reminder_rules.one_line) and
EmailMessage with the SMTP policy refuses CR/LF in any header value; names are encoded, not
pasted. The Message-ID comes from the outbox row, so a retry is recognisably the same message.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ssl
from collections.abc import Coroutine
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Any, Literal

import aiosmtplib

from workflow.models import OutboxMessage
from workflow.reminder_rules import one_line
from workflow.settings import MailSettings

Result = Literal["delivered", "relay_down", "deferred", "unknown", "failed"]


@dataclass(frozen=True)
class Outcome:
    """What came of handing one message to the relay.

    delivered: 250 after DATA.
    relay_down: the relay itself failed before the message was offered (connection refused,
        greeting or login refused, TLS, timeout) or answered 421 (closing) at any point; `cause`
        is a key of relay.CAUSES. Says nothing about the message: it waits, no attempt counted.
    deferred: a 4xx answer about this message or a recipient; retried later.
    unknown: the connection broke or timed out after the message was offered; it may have
        arrived. Retried later with the same Message-ID.
    failed: a 5xx answer about this message (MAIL, RCPT, DATA); `cause` names which
        (outbox.FAILURE_CAUSES).
    """

    result: Result
    detail: str = ""
    cause: str | None = None

    @property
    def unreachable(self) -> bool:
        return self.result == "relay_down"


def _address(name: str | None, email: str) -> Address:
    local_part, _, domain = email.strip().rpartition("@")
    return Address(display_name=one_line(name or ""), username=local_part, domain=domain)


def build_message(row: OutboxMessage, settings: MailSettings) -> EmailMessage:
    message = EmailMessage(policy=SMTP)
    message["From"] = _address(settings.from_name, settings.from_address)
    message["To"] = _address(row.to_name, row.to_address)
    message["Subject"] = one_line(row.subject)
    message["Message-ID"] = row.message_id
    # The date the message was written, so every retry is byte-for-byte the same message.
    message["Date"] = format_datetime(row.created_at)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(row.text_body)
    message.add_alternative(row.html_body, subtype="html")
    return message


def _detail(code: int, text: str) -> str:
    return one_line(f"{code} {text}")[:400]


def _error(exc: BaseException) -> str:
    return one_line(f"{exc.__class__.__name__}: {exc}")[:400]


def _answer(code: int, text: str, cause: str) -> Outcome:
    """An answer to MAIL, RCPT or DATA: about this message, unless the relay is closing."""
    if code == 421:
        return Outcome("relay_down", _detail(code, text), "service")
    if code >= 500:
        return Outcome("failed", _detail(code, text), cause)
    return Outcome("deferred", _detail(code, text))


def _client(settings: MailSettings) -> aiosmtplib.SMTP:
    return aiosmtplib.SMTP(
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.username,
        password=settings.password.get_secret_value() if settings.password else None,
        use_tls=settings.security == "tls",
        start_tls=settings.security == "starttls",
        timeout=settings.timeout_seconds,
    )


async def _connect(client: aiosmtplib.SMTP) -> Outcome | None:
    """Connect, greet, TLS and log in; an Outcome only when the relay failed."""
    try:
        await client.connect()
    except aiosmtplib.SMTPAuthenticationError as exc:
        return Outcome("relay_down", _detail(exc.code, exc.message), "auth")
    except aiosmtplib.SMTPResponseException as exc:
        # 554/421 greeting, HELO refused, STARTTLS refused ...
        cause = "service" if exc.code == 421 else "greeting"
        return Outcome("relay_down", _detail(exc.code, exc.message), cause)
    except (TimeoutError, aiosmtplib.SMTPTimeoutError) as exc:
        return Outcome("relay_down", _error(exc), "timeout")
    except ssl.SSLError as exc:
        return Outcome("relay_down", _error(exc), "tls")
    except (aiosmtplib.SMTPException, OSError) as exc:
        text = str(exc).lower()
        cause = "tls" if "tls" in text or "ssl" in text else "refused"
        return Outcome("relay_down", _error(exc), cause)
    return None


async def _send(message: EmailMessage, settings: MailSettings) -> Outcome:
    if not settings.smtp_host:
        return Outcome("relay_down", "ingen SMTP-server inställd", "refused")
    client = _client(settings)
    failed = await _connect(client)
    if failed is not None:
        return failed
    try:
        await client.send_message(message)
    except aiosmtplib.SMTPRecipientsRefused as exc:
        worst = max(exc.recipients, key=lambda r: r.code)
        return _answer(worst.code, worst.message, "recipient")
    except aiosmtplib.SMTPSenderRefused as exc:
        return _answer(exc.code, exc.message, "sender")
    except aiosmtplib.SMTPResponseException as exc:
        return _answer(exc.code, exc.message, "content")
    except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
        # The message was offered and no answer came: it may have arrived. The retry carries
        # the same Message-ID, so a receiver can tell the copies are one message.
        return Outcome("unknown", _error(exc))
    finally:
        await _quit(client)
    return Outcome("delivered")


async def _quit(client: aiosmtplib.SMTP) -> None:
    # The message's fate is settled by now; a QUIT that fails changes nothing.
    try:
        if client.is_connected:
            await client.quit()
    except (TimeoutError, aiosmtplib.SMTPException, OSError):
        client.close()


def _run(work: Coroutine[Any, Any, Outcome]) -> Outcome:
    """Run one SMTP exchange to its end from plain code. A thread that already runs an event
    loop (a caller inside async code) cannot start another, so the exchange gets a thread of
    its own there."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(work)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work).result()


def send(message: EmailMessage, settings: MailSettings) -> Outcome:
    return _run(_send(message, settings))


def send_test(settings: MailSettings, to_address: str, now_text: str) -> Outcome:
    """`finsam mail test`: one message straight to the server, to check the settings."""
    from email.utils import make_msgid

    from workflow.errors import BadInput

    address = to_address.strip()
    if "@" not in address or one_line(address) != address or " " in address:
        raise BadInput(f"{to_address!r} är ingen e-postadress")
    if not settings.smtp_host:
        raise BadInput(
            "ingen SMTP-server är inställd; ange smtp_host under [mail] i config/finsam.toml "
            "eller FINSAM_MAIL__SMTP_HOST"
        )
    message = EmailMessage(policy=SMTP)
    message["From"] = _address(settings.from_name, settings.from_address)
    message["To"] = _address(None, address)
    message["Subject"] = "Testmeddelande från finsam-workflow"
    message["Message-ID"] = make_msgid(
        idstring="finsam-test", domain=settings.from_address.rpartition("@")[2]
    )
    message.set_content(
        f"Det här är ett testmeddelande, skickat {now_text}. E-postinställningarna fungerar."
    )
    return send(message, settings)
