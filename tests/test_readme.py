"""The README is a test: every `finsam` command it shows runs, in order, on a fresh database.

What the runner reads (README.md says the same, under "Tests"):
  - every ```sh block, tour and sections alike, line by line (a trailing backslash continues a
    line); only commands starting with `finsam` run, `export NAME=VALUE` lines set the
    environment of the commands after them, and `NAME=VALUE finsam ...` sets it for one;
  - a command that is meant to fail ends with a comment `# → avslutas med N`: its exit code
    must be N; any other command must exit 0;
  - a command that runs until it is stopped (`finsam scheduler`) ends with
    `# → körs tills den stoppas` and is not run;
  - a fenced block right after `<!-- file: NAME -->` is written to NAME in the working folder
    before anything runs (the idea file of the tour).

The commands run in process (tests/support.py's `finsam`), in a folder of their own, on a
fresh SQLite file, with a mail server on loopback for the mail commands and the clock at the
day the README's numbers are from (the demo dates its newer cases from "today").
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.smtp_support import SmtpServer, running_server
from tests.support import finsam

README = Path(__file__).resolve().parents[1] / "README.md"
# The day the README's examples are from: the demo numbers its newer cases in this year.
README_DAY = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

_FENCE = re.compile(r"^```(\w*)\s*$")
_FILE = re.compile(r"^<!--\s*file:\s*(\S+)\s*-->\s*$")
_EXPECT = re.compile(r"#\s*→\s*avslutas med (\d+)")
_LONG_RUNNING = re.compile(r"#\s*→\s*körs tills den stoppas")
_ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=")


@dataclass
class Command:
    section: str
    line: int
    text: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    expect: int = 0
    long_running: bool = False
    exports: dict[str, str] = field(default_factory=dict)


def _logical_lines(block: list[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """Lines with their continuations (trailing backslash) joined, numbered by the first."""
    pending: list[str] = []
    start = 0
    for number, line in block:
        if not pending:
            start = number
        if line.rstrip().endswith("\\"):
            pending.append(line.rstrip()[:-1])
            continue
        pending.append(line)
        yield start, " ".join(part.strip() for part in pending)
        pending = []
    if pending:
        yield start, " ".join(part.strip() for part in pending)


def _commands_of(section: str, number: int, line: str) -> list[Command]:
    words = shlex.split(line, comments=True)
    if not words:
        return []
    if words[0] == "export":
        exports = dict(word.split("=", 1) for word in words[1:] if "=" in word)
        return [Command(section, number, line, [], exports=exports)]
    env: dict[str, str] = {}
    while words and _ASSIGNMENT.match(words[0]):
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    if not words or words[0] != "finsam":
        return []  # not a finsam command (the venv set-up, a benchmark)
    expect = _EXPECT.search(line)
    return [
        Command(
            section,
            number,
            line.strip(),
            words[1:],
            env,
            int(expect.group(1)) if expect else 0,
            bool(_LONG_RUNNING.search(line)),
        )
    ]


def read_readme(text: str) -> tuple[list[Command], dict[str, str]]:
    """The README's commands in order, and the files its marked blocks hold."""
    commands: list[Command] = []
    files: dict[str, str] = {}
    section = "(början)"
    lines = text.splitlines()
    index = 0
    file_name: str | None = None
    while index < len(lines):
        line = lines[index]
        if line.startswith("#") and not line.startswith("#!"):
            section = line.lstrip("#").strip()
        marked = _FILE.match(line)
        if marked:
            file_name = marked.group(1)
        fence = _FENCE.match(line)
        if fence is None:
            index += 1
            continue
        block: list[tuple[int, str]] = []
        index += 1
        while index < len(lines) and not lines[index].startswith("```"):
            block.append((index + 1, lines[index]))
            index += 1
        index += 1  # the closing fence
        if file_name is not None:
            files[file_name] = "\n".join(text for _, text in block) + "\n"
            file_name = None
        elif fence.group(1) == "sh":
            for number, logical in _logical_lines(block):
                commands.extend(_commands_of(section, number, logical))
    return commands, files


def test_the_reader_finds_commands_markers_and_files() -> None:
    text = "\n".join(
        [
            "## Turen",
            "<!-- file: ide.yaml -->",
            "```yaml",
            "title: X",
            "```",
            "```sh",
            "export FINSAM_FORBUND=akst",
            "python3 -m venv .venv",
            "finsam cases list --state pagaende   # comment with 'quotes'",
            "finsam cases fire ide-1 bifall \\",
            '    --as chef@akst.example --comment "Två ord"   # → avslutas med 4',
            "FINSAM_MAIL__SMTP_HOST=localhost finsam mail test --to a@b.example",
            "finsam scheduler                    # → körs tills den stoppas",
            "```",
        ]
    )
    commands, files = read_readme(text)
    assert files == {"ide.yaml": "title: X\n"}
    assert commands[0].exports == {"FINSAM_FORBUND": "akst"}
    runnable = commands[1:]
    assert [c.argv[:2] for c in runnable] == [
        ["cases", "list"],
        ["cases", "fire"],
        ["mail", "test"],
        ["scheduler"],
    ]
    assert runnable[1].argv[-2:] == ["--comment", "Två ord"] and runnable[1].expect == 4
    assert runnable[1].line == 10 and runnable[1].section == "Turen"
    assert runnable[2].env == {"FINSAM_MAIL__SMTP_HOST": "localhost"}
    assert runnable[3].long_running and not runnable[0].long_running


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with running_server() as server:
        yield server


class _FrozenDatetime(datetime):
    """workflow.clock's system clock reads the README's day (only that module sees this)."""

    @classmethod
    def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
        return README_DAY if tz is None else README_DAY.astimezone(tz)


# Sections another change is rewriting now (issue 9, HELPERS.md): their failures are listed,
# and the test is an expected failure until they pass; then this entry must go (a section
# listed here that passes fails the test).
PENDING: dict[str, str] = {}


@pytest.mark.slow
def test_every_command_of_the_readme_exits_as_the_readme_shows(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    smtp: SmtpServer,
) -> None:
    commands, files = read_readme(README.read_text(encoding="utf-8"))
    assert len([c for c in commands if c.argv]) > 40, "the README's commands were not found"
    monkeypatch.chdir(tmp_path)
    for name, content in files.items():
        (tmp_path / name).write_text(content, encoding="utf-8")
    for name in ("FINSAM_FORBUND", "FINSAM_CONFIG_DIR", "FINSAM_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    database = f"sqlite:///{tmp_path / 'finsam.db'}"
    # The README names no port: the mail commands reach this real server on loopback.
    monkeypatch.setenv("FINSAM_MAIL__SMTP_PORT", str(smtp.port))
    monkeypatch.setattr("workflow.clock.datetime", _FrozenDatetime)
    failures: dict[str, list[str]] = {}
    for command in commands:
        for name, value in command.exports.items():
            monkeypatch.setenv(name, value)
        if not command.argv or command.long_running:
            continue
        with monkeypatch.context() as scoped:
            for name, value in command.env.items():
                scoped.setenv(name, value)
            code, out, err = finsam(capsys, database, *command.argv)
        if code != command.expect:
            shown = (err.strip() or out.strip())[:300]
            failures.setdefault(command.section, []).append(
                f"README.md:{command.line}: {command.text}\n"
                f"    exit {code}, README visar {command.expect}: {shown}"
            )
    unexpected = {section: found for section, found in failures.items() if section not in PENDING}
    assert not unexpected, "\n".join(line for found in unexpected.values() for line in found)
    passing = sorted(set(PENDING) - set(failures))
    assert not passing, f"these README sections pass now: remove them from PENDING: {passing}"
    if failures:
        pytest.xfail(
            "; ".join(
                f"{section} ({PENDING[section]}): {len(found)} kommandon"
                for section, found in failures.items()
            )
        )
