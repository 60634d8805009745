"""`finsam reminders`, `outbox`, `mail test` and `policies` as a user and a script meet them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from tests.smtp_support import SmtpServer, running_server
from tests.support import Cli, freeze_wall_clock
from tests.web_support import DEMO_DAY
from workflow.clock import STOCKHOLM

TODAY = datetime(2026, 12, 1, 10, 0, tzinfo=STOCKHOLM)
assert TODAY == DEMO_DAY  # the day the demo template is loaded on


# The embedded default: these are about the commands, not the database.
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def cli(demo_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    """The commands on a copy of the demo (loaded once per run on its day, DEMO_DAY = TODAY)."""
    # The demo holds two förbund; like the README's tour, these commands are about the first.
    monkeypatch.setenv("FINSAM_FORBUND", "akst")
    # A working-day morning after the send hour, whenever the test runs.
    freeze_wall_clock(monkeypatch, TODAY)
    return Cli(demo_url, capsys)


def _overdue_policy(cli: Cli) -> None:
    """A policy whose deadline passed ten days ago: its 'overdue' reminder is due now."""
    today = TODAY.date()
    cli(
        "policies",
        "register",
        "--kind",
        "policy",
        "--title",
        "Policy som löpt ut",
        "--decided-on",
        "2020-01-15",
        "--renew-by",
        (today - timedelta(days=10)).isoformat(),
        "--as",
        "chef@akst.example",
    )


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with running_server() as server:
        yield server


def test_the_policy_register_shows_the_overdue_lsg_policy_everywhere_it_is_listed(cli: Cli) -> None:
    table = cli("policies", "list")
    [line] = [row for row in table.splitlines() if "LSG Örnsköldsvik" in row]
    assert "FÖRSENAD" in line and "2022-12-31" in line
    listed = cli.json("policies", "list", "--overdue")
    assert [d["title"] for d in listed] == ["Policydokument 2019–2022, LSG Örnsköldsvik"]
    ref = listed[0]["ref"]
    assert "FÖRSENAD" in cli("policies", "show", ref)
    assert cli.json("policies", "show", ref)["overdue"] is True


def test_registering_and_renewing_a_document_through_the_command_line(cli: Cli) -> None:
    made = cli.json(
        "policies",
        "register",
        "--kind",
        "policy",
        "--title",
        "Policy för arkivering",
        "--decided-on",
        "2023-05-10",
        "--decided-by",
        "Styrelsen",
        "--owner",
        "sekreterare@akst.example",
        "--as",
        "chef@akst.example",
    )
    assert made["renew_by"] == "2027-12-31" and made["state"] == "faststalld"
    renewed = cli.json(
        "policies", "renew", made["ref"], "--comment", "Styrelsen § 12", "--as", "chef@akst.example"
    )
    assert renewed["decided_on"] > "2023-05-10" and renewed["renew_by"] > made["renew_by"]
    cli(
        "policies",
        "register",
        "--kind",
        "policy",
        "--title",
        "Policy för arkivering",
        "--decided-on",
        "2023-05-10",
        "--as",
        "chef@akst.example",
        code=5,
    )
    assert "finns redan" in cli.error
    cli(
        "policies",
        "renew",
        made["ref"],
        "--comment",
        "x",
        "--as",
        "handlaggare@akst.example",
        code=4,
    )
    cli("policies", "show", "sd-999", code=3)
    assert "finsam policies list" in cli.error


def test_the_reminder_list_shows_what_goes_out_when_and_to_whom(cli: Cli) -> None:
    listed = cli.json("reminders", "list")
    assert listed and all(
        r["status"] in {"pending", "sent", "cancelled", "skipped"} for r in listed
    )
    cutoff = max(r["send_on"] for r in listed)
    earlier = cli.json("reminders", "list", "--due-before", cutoff)
    assert len(earlier) < len(listed) and all(r["send_on"] < cutoff for r in earlier)
    table = cli("reminders", "list")
    assert table.splitlines()[0].split()[:3] == ["Skickas", "Regel", "När"]
    # Steps read as when they go out, not as the rule file's keys (fore_21, kallelse ...).
    assert " dagar före " in table and "fore_21" not in table
    cli("reminders", "list", "--due-before", "i morgon", code=2)


def test_without_smtp_settings_the_outbox_keeps_the_messages_and_says_so(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    _overdue_policy(cli)
    summary = cli.json("scheduler", "--once")
    assert summary["sent"] == 0 and summary["waiting"] is True
    waiting = cli.json("outbox", "list")
    assert "Försenad förnyelse: Policy som löpt ut" in {
        m["subject"].split(" (")[0] for m in waiting
    }
    assert {m["status"] for m in waiting} == {"pending"}
    assert "Ingen SMTP-server är inställd" in cli("outbox", "list")
    assert cli.json("outbox", "list", "--failed") == []


def test_mail_test_sends_one_message_to_the_configured_server(
    cli: Cli, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in smtp.settings.items():
        monkeypatch.setenv(f"FINSAM_MAIL__{key.upper()}", str(value))
    done = cli.json("mail", "test", "--to", "chef@akst.example")
    assert done["result"] == "delivered"
    [message] = smtp.mailbox.messages
    assert message["Subject"] == "Testmeddelande från finsam-workflow"
    cli("mail", "test", "--to", "chef@akst.example\r\nBcc: x@evil.example", code=2)
    assert "ingen e-postadress" in cli.error and len(smtp.mailbox.messages) == 1


def test_mail_test_without_a_server_says_how_to_set_one(cli: Cli) -> None:
    cli("mail", "test", "--to", "chef@akst.example", code=2)
    assert "smtp_host" in cli.error


def test_the_scheduler_once_delivers_the_demo_backlog_to_the_server(
    cli: Cli, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in smtp.settings.items():
        monkeypatch.setenv(f"FINSAM_MAIL__{key.upper()}", str(value))
    _overdue_policy(cli)
    first = cli.json("scheduler", "--once")
    # What this sweep wrote, and the demo's waiting utdrag of its justerade protocols.
    assert first["sent"] == len(smtp.mailbox.messages) >= first["messages"] >= 2
    again = cli.json("scheduler", "--once")
    assert again["sent"] == 0 and len(smtp.mailbox.messages) == first["sent"]
    # Both demo förbund's mail went out; each förbund's outbox lists its own.
    sent = [
        *cli.json("--forbund", "akst", "outbox", "list", "--status", "sent", "--all"),
        *cli.json("--forbund", "nv", "outbox", "list", "--status", "sent", "--all"),
    ]
    assert {m["message_id"] for m in sent} == set(smtp.mailbox.message_ids())
