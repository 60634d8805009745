"""`finsam` starts with what the command needs: no database library for --help or --version,
no Alembic outside `init`, a schema check that reads one table with plain SQL, and a command
that reads a case without the web, mail, document or login libraries."""

from __future__ import annotations

import importlib.metadata
import sqlite3
import subprocess
import sys
from pathlib import Path

import click
import pytest

from workflow.cli.main import COMMANDS, cli, load_command, run
from workflow.migrations.heads import HEADS
from workflow.settings import PACKAGE_DIR

DATABASE_LIBRARIES = {"sqlalchemy", "sqlmodel", "alembic", "psycopg"}
# What a command that only reads a case has no use for, each a noticeable part of a start-up:
# the web application, the scheduler and mail, documents, logins, the calendars, migrations,
# the lifecycle machine (built by the first step fired) and a settings library.
NOT_FOR_READING = {
    "fastapi",
    "starlette",
    "uvicorn",
    "jinja2",
    "python_multipart",
    "apscheduler",
    "aiosmtplib",
    "weasyprint",
    "openpyxl",
    "argon2",
    "authlib",
    "httpx",
    "holidays",
    "icalendar",
    "alembic",
    "transitions",
    "pydantic_settings",
}


def imported_by(*argv: str, ours: bool = False) -> tuple[set[str], str]:
    """The top-level packages `finsam ARGV` leaves imported, run as a fresh process (with
    `ours`, the modules of workflow instead); and its output."""
    names = "sys.modules" if ours else "{m.split('.')[0] for m in sys.modules}"
    code = (
        "import sys, runpy\n"
        f"sys.argv = ['finsam', *{list(argv)!r}]\n"
        "try:\n"
        "    runpy.run_module('workflow', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print('MODULES', ' '.join(sorted({names})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    out, _, modules = result.stdout.rpartition("MODULES ")
    return set(modules.split()), out


@pytest.mark.parametrize("option", ["--help", "--version"])
def test_help_and_version_import_no_database_library(option: str) -> None:
    modules, out = imported_by(option)
    assert modules & DATABASE_LIBRARIES == set(), out
    if option == "--version":
        assert out.strip() == f"finsam {importlib.metadata.version('finsam-workflow')}"
    else:
        for name in COMMANDS:
            assert f"\n  {name} " in out, name


def test_the_help_lists_each_command_with_its_own_short_help() -> None:
    context = click.Context(cli, info_name="finsam")
    for width in (45, 60, 200):
        for name, (module, attr, short) in COMMANDS.items():
            command = load_command(name)
            assert command.name == name and command.callback is not None
            assert command.callback.__module__ == f"workflow.cli.{module}", attr
            assert command.get_short_help_str(width) == click.Command(
                name, help=short
            ).get_short_help_str(width), name
    assert cli.list_commands(context) == sorted(COMMANDS)
    assert cli.get_command(context, "nosuch") is None


def test_the_expected_heads_are_alembics_own() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(PACKAGE_DIR / "migrations"))
    assert set(ScriptDirectory.from_config(config).get_heads()) == HEADS


def test_a_command_on_a_current_database_imports_no_alembic(sqlite_url: str) -> None:
    modules, out = imported_by("--db", sqlite_url, "forbund", "list")
    assert "alembic" not in modules, out
    assert "sqlalchemy" in modules  # it did open the database


@pytest.mark.parametrize(
    "command",
    [
        ("cases", "show", "2012/011-01"),
        ("cases", "show", "2012/011-01", "--json"),
        ("cases", "list"),
    ],
)
def test_reading_cases_imports_no_web_mail_document_or_login_library(
    demo_url: str, command: tuple[str, ...]
) -> None:
    modules, out = imported_by("--db", demo_url, "--forbund", "akst", *command)
    assert "Utgångspunkten" in out  # it did read the demo's case
    assert modules & NOT_FOR_READING == set(), out


# Listing reminders reads and checks the rules at start-up, but renders no template (no
# jinja2: only what plans, sends or sweeps renders them) and plans nothing: no holiday
# calendars (planning's working days), no outbox, mailer or SMTP library.
@pytest.mark.parametrize(
    ("command", "expected", "unneeded"),
    [
        (("reminders", "list"), "Skickas", NOT_FOR_READING),
        (("reminders", "list", "--json"), '"rule_label"', NOT_FOR_READING),
        (("reminders", "rules"), "Utgår från", NOT_FOR_READING),
        # Reading reports needs neither the reminder planner (only the writes replan) nor the
        # board's meetings, so not its rules' templates either.
        (("reports", "overdue"), "delårsrapport", NOT_FOR_READING),
        (("reports", "list"), "delårsrapport", NOT_FOR_READING),
    ],
)
def test_listing_reminders_and_reports_imports_no_calendar_mail_web_or_document_library(
    demo_url: str, command: tuple[str, ...], expected: str, unneeded: set[str]
) -> None:
    modules, out = imported_by("--db", demo_url, "--forbund", "akst", *command)
    assert expected in out  # it did read the demo's reminders or reports
    assert modules & unneeded == set(), out


# What only a write needs, of our own modules: the audit chain and what opens a change (with
# the people service), and the reminder preferences (the sweep's) and writers.
WRITES_ONLY = {
    "workflow.services.cases.audit",
    "workflow.services.cases.change",
    "workflow.services.organisation.people",
    "workflow.services.reminders.preferences",
    "workflow.services.reminders.outbox",
    "workflow.services.reminders.digests",
}


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (("budget", "report", "--year", "2013"), "Finansiell ram"),
        (("budget", "report", "--year", "2013", "--format", "csv"), "Rad;Typ;2013"),
        (("reminders", "list"), "Skickas"),
    ],
)
def test_the_budget_report_and_listing_reminders_import_nothing_only_a_write_needs(
    demo_url: str, command: tuple[str, ...], expected: str
) -> None:
    modules, out = imported_by("--db", demo_url, "--forbund", "akst", *command, ours=True)
    assert expected in out  # it did read the demo's budget or reminders
    assert modules & WRITES_ONLY == set(), out
    assert {"jinja2", "openpyxl"} & {m.split(".")[0] for m in modules} == set(), out


def test_the_schema_is_checked_on_both_databases(db_url: str) -> None:
    assert run(["--db", db_url, "forbund", "list"]) == 0


def test_an_uninitialised_or_older_database_is_refused_with_the_way_out(
    tmp_path: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = f"sqlite:///{tmp_path / 'tom.db'}"
    assert run(["--db", empty, "forbund", "list"]) == 2
    assert "databasen är inte initierad; kör 'finsam init' först" in capsys.readouterr().err

    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as connection:
        connection.execute("DELETE FROM alembic_version")
        connection.execute("INSERT INTO alembic_version VALUES ('0001_core')")
    connection.close()
    assert run(["--db", sqlite_url, "forbund", "list"]) == 2
    assert "äldre schema; kör 'finsam init'" in capsys.readouterr().err
