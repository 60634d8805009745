"""Turning an outbox row into an e-mail and handing it to the SMTP server (aiosmtplib).

Headers never take raw text: the subject is one line already (reminder_rules.one_line) and
EmailMessage with the SMTP policy refuses CR/LF in any header value; names are encoded, not
pasted. The Message-ID comes from the outbox row, so a retry is recognisably the same message.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Literal

import aiosmtplib

from workflow.models import OutboxMessage
from workflow.reminder_rules import one_line
from workflow.settings import MailSettings


@dataclass(frozen=True)
class Outcome:
    """delivered; retry (timeout, refused connection, 4xx); or failed for good (5xx)."""

    result: Literal["delivered", "retry", "failed"]
    detail: str = ""
    # Nobody answered at all (refused, unreachable): the server is down, not this message.
    unreachable: bool = False


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


def _code_outcome(code: int, text: str) -> Outcome:
    detail = one_line(f"{code} {text}")[:400]
    return Outcome("failed" if code >= 500 else "retry", detail)


async def _send(message: EmailMessage, settings: MailSettings) -> Outcome:
    if not settings.smtp_host:
        return Outcome("retry", "ingen SMTP-server inställd", True)
    try:
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.username,
            password=settings.password.get_secret_value() if settings.password else None,
            use_tls=settings.security == "tls",
            start_tls=settings.security == "starttls",
            timeout=settings.timeout_seconds,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        worst = max(exc.recipients, key=lambda r: r.code)
        return _code_outcome(worst.code, worst.message)
    except aiosmtplib.SMTPResponseException as exc:
        return _code_outcome(exc.code, exc.message)
    except (aiosmtplib.SMTPConnectError, ConnectionRefusedError) as exc:
        return Outcome("retry", one_line(f"{exc.__class__.__name__}: {exc}")[:400], True)
    except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
        # Timeout, refused or dropped connection: the outcome is unknown or transient; the
        # retry carries the same Message-ID so a receiver can tell it is the same message.
        return Outcome("retry", one_line(f"{exc.__class__.__name__}: {exc}")[:400])
    return Outcome("delivered")


def send(message: EmailMessage, settings: MailSettings) -> Outcome:
    return asyncio.run(_send(message, settings))


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
