"""The `finsam` command line as a user and a script meet it: output, exit codes, errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import Cli, freeze_wall_clock
from tests.web_support import DEMO_DAY
from workflow.cli.main import run
from workflow.settings import shipped_dir


@pytest.fixture
def cli(demo_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    """The command line on a copy of the demo (loaded once per run, on the demo's day, which
    numbers its newer cases 2026/...): the commands run on that day too, whenever the test runs."""
    # The demo holds two förbund; like the README's tour, these commands are about the first.
    monkeypatch.setenv("FINSAM_FORBUND", "akst")
    freeze_wall_clock(monkeypatch, DEMO_DAY)
    return Cli(demo_url, capsys)


def test_the_demo_lists_the_seed_insatser_in_swedish(cli: Cli) -> None:
    table = cli("cases", "list", "--state", "pagaende")
    assert table.splitlines()[0].split()[:3] == ["Dnr", "Titel", "Tillstånd"]
    assert "2012/011-01  Utgångspunkten" in table and "Pågående" in table
    listed = cli.json("cases", "list")
    assert {c["title"] for c in listed} >= {"Utgångspunkten", "Ale Teamet", "Föreningspool Tjörn"}
    assert {c["state"] for c in listed} >= {
        "ide",
        "inkommen",
        "under_beredning",
        "pa_dagordning",
        "pagaende",
    }
    again = cli("demo")
    assert "finns redan" in again


def test_submit_then_fire_from_the_command_line(cli: Cli, tmp_path: Path) -> None:
    idea = tmp_path / "ide.yaml"
    idea.write_text(
        "title: Arbetsträning i Ale\n"
        "parties: [Ale kommun, Arbetsförmedlingen]\n"
        "owner_party: Ale kommun\n"
        "start: 2027-01-01\nend: 2027-12-31\n"
        "budget: {2027: 250}\n",
        encoding="utf-8",
    )
    submitted = cli.json("cases", "submit", "--file", str(idea), "--as", "handlaggare@akst.example")
    ref = submitted["ref"]  # type: ignore[index]
    assert ref.startswith("ide-")
    fired = cli.json(
        "cases",
        "fire",
        ref,
        "registrera",
        "--as",
        "sekreterare@akst.example",
        "--set",
        "malgrupp=Unga vuxna",
        "--comment",
        "Inkom via e-post",
    )
    assert fired["state"] == "inkommen" and fired["dnr"].endswith("-01")  # type: ignore[index]
    shown = cli.json("cases", "show", fired["dnr"])  # type: ignore[index]
    assert [e["trigger"] for e in shown["history"]] == ["skapa", "registrera"]  # type: ignore[index]
    assert shown["history"][1]["comment"] == "Inkom via e-post"  # type: ignore[index]
    assert [e["step_label"] for e in shown["history"]] == [  # type: ignore[index]
        "Idé inlämnad",
        "Registrera ansökan (ger diarienummer)",
    ]
    actions = cli.json("cases", "actions", fired["dnr"], "--as", "chef@akst.example")  # type: ignore[index]
    steps = {s["trigger"]: s for s in actions["steps"]}  # type: ignore[index]
    # The application lacks its goals: the step is there, not yet possible, and says why.
    beredning = steps["starta_beredning"]
    assert beredning["allowed"] is False and beredning["label"] == "Lägg på beredning"
    assert "mål saknas; ange mål (--set mal=…)" in beredning["reasons"]
    assert steps["begar_komplettering"]["needs_comment"] is True


def test_people_read_labels_not_ids(cli: Cli, tmp_path: Path) -> None:
    shown = cli("cases", "show", "2012/011-01")
    history = shown.split("Händelser", 1)[1]
    for label in ("Idé inlämnad", "Registrera ansökan (ger diarienummer)", "Lägg på beredning"):
        assert label in history
    for trigger in ("skapa", "registrera ", "starta_beredning", "satt_pa_dagordning"):
        assert trigger not in history
    assert "individinriktad" in shown and "Pågående" in shown
    idea = tmp_path / "ide.yaml"
    idea.write_text("title: Ny idé\n", encoding="utf-8")
    said = cli("cases", "submit", "--file", str(idea), "--as", "handlaggare@akst.example")
    # Submitted, not registered: registration (and its diarienummer) comes later.
    assert said.startswith("Idén är inlämnad som ide-") and "registrerad" not in said
    moved = cli("cases", "fire", "2026/001-01", "starta_beredning", "--as", "chef@akst.example")
    assert "”Lägg på beredning” utfört; tillstånd nu ”Under beredning”" in moved
    actions = cli("cases", "actions", "2026/001-01", "--as", "ledamot.fk@akst.example")
    # Nothing for this person here, and the table says who can.
    assert "det får: förbundschef, sekreterare" in actions and "Inget av stegen är ditt" in actions


def test_exit_codes_and_one_line_errors(cli: Cli) -> None:
    cli("cases", "show", "1999/999", code=3)
    assert "inget ärende '1999/999'" in cli.error
    # A step that exists, but not from the case's state: a conflict with the case (5).
    cli("cases", "fire", "2026/001-01", "bifall", "--as", "sekreterare@akst.example", code=5)
    assert "går inte från tillståndet ”Inkommen”" in cli.error and "kan här" in cli.error
    # A step the person's roles never take: not permitted (4), never called a wrong state.
    cli("cases", "fire", "2026/001-01", "bifall", "--as", "handlaggare@akst.example", code=4)
    assert "får inte ta steget" in cli.error and "det får: sekreterare" in cli.error
    assert "tillståndet" not in cli.error
    # A step the lifecycle does not know: bad input (2).
    cli("cases", "fire", "2026/001-01", "flyga", "--as", "chef@akst.example", code=2)
    assert "okänt steg 'flyga'" in cli.error
    # Conditions that do not hold: each one's Swedish sentence, no condition names (6).
    friskvard = next(
        c["ref"] for c in cli.json("cases", "list") if c["title"].startswith("Friskvård")
    )  # type: ignore[union-attr, index]
    cli("cases", "fire", friskvard, "registrera", "--as", "sekreterare@akst.example", code=6)
    assert "insatsägare saknas" in cli.error and "--set owner_party" in cli.error
    assert "owner_party_among_parties" not in cli.error and "two_parties" not in cli.error
    cli(
        "cases",
        "fire",
        "2026/001-01",
        "starta_beredning",
        "--as",
        "chef@akst.example",
        "--expect-version",
        "1",
        code=5,
    )
    assert "har ändrats" in cli.error
    cli("cases", "fire", "2026/001-01", "registrera", "--as", "ingen@akst.example", code=3)
    cli("cases", "list", "--state", "flygande", code=2)
    cli(
        "cases",
        "fire",
        "2026/001-01",
        "begar_komplettering",
        "--as",
        "chef@akst.example",
        "--set",
        "budget",
        code=2,
    )
    cli(
        "cases",
        "fire",
        "2026/001-01",
        "begar_komplettering",
        "--as",
        "chef@akst.example",
        "--comment",
        "Kontakta 19121212-1212 om detta",
        code=2,
    )
    assert "personnummer" in cli.error
    cli("cases", "frobnicate", code=2)


def test_a_mail_server_that_does_not_answer_is_not_a_broken_audit_chain(
    sqlite_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Exit 1 meant both; now 1 is the audit chain (test_audit.py) and 7 the mail server."""
    from tests.smtp_support import free_port

    monkeypatch.setenv("FINSAM_MAIL__SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("FINSAM_MAIL__SMTP_PORT", str(free_port()))  # nobody listens there
    monkeypatch.setenv("FINSAM_MAIL__SECURITY", "none")
    monkeypatch.setenv("FINSAM_MAIL__TIMEOUT_SECONDS", "2")
    nobody = Cli(sqlite_url, capsys)
    nobody("mail", "test", "--to", "chef@akst.example", code=7)


def test_a_refused_step_writes_nothing(cli: Cli) -> None:
    before = cli.json("cases", "show", "2026/001-01")
    cli(
        "cases",
        "fire",
        "2026/001-01",
        "starta_beredning",
        "--as",
        "chef@akst.example",
        "--set",
        "budget.2027=-5",
        code=2,
    )
    cli(
        "cases",
        "fire",
        "2026/001-01",
        "starta_beredning",
        "--as",
        "chef@akst.example",
        "--set",
        "followup_plan=",
        code=6,
    )
    assert cli.json("cases", "show", "2026/001-01") == before


def test_an_uninitialised_or_unreachable_database_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = Cli(f"sqlite:///{tmp_path / 'tom.db'}", capsys)
    empty("cases", "list", code=2)
    assert "finsam init" in empty.error
    missing = Cli(f"sqlite:///{tmp_path / 'finns-inte' / 'x.db'}", capsys)
    missing("init", code=2)
    assert "finns-inte" in missing.error and "--db" in missing.error
    blocked = tmp_path / "en-fil"
    blocked.write_text("")
    under_file = Cli(f"sqlite:///{blocked / 'x.db'}", capsys)
    under_file("init", code=2)


def test_the_lifecycle_is_shown_from_the_same_data(cli: Cli) -> None:
    diagram = cli("lifecycle", "show", "--format", "mermaid")
    assert diagram.startswith("stateDiagram-v2")
    assert "ide --> inkommen : registrera" in diagram
    data = cli.json("lifecycle", "show", "--name", "styrdokument")
    assert data["initial"] == "utkast"  # type: ignore[index]
    table = cli("lifecycle", "show")
    assert "minst två parter (kommunerna räknas som en)" in table


def broken_deployment(tmp_path: Path, old: str, new: str) -> Path:
    deployment = tmp_path / "deployment"
    shutil.copytree(shipped_dir("states"), deployment / "states")
    path = deployment / "states" / "insats.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return deployment


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        (
            "conditions: [comment_given]",
            "conditions: [kaffe_serverat]",
            "okänt villkor 'kaffe_serverat'",
        ),
        ("    to: avtal\n", "    to: avtalat\n", "okänt tillstånd 'avtalat'"),
        (
            "  - trigger: arkivera",
            "  - trigger: arkivera_inte\n    from: arkiverad\n    to: arkiverad\n"
            "    roles: [admin]\n  - trigger: arkivera",
            "final",
        ),
        ("roles: [admin, forbundschef]", "roles: [vaktmastare]", "okänd roll 'vaktmastare'"),
        ("states:\n", "states:\n  glomd: {label: Glömd}\n", "states.glomd: kan inte nås"),
        (
            "relations: {projektagare: [project_owner]}",
            "relations: {projektagare: [grannen]}",
            "okänd relation 'grannen'",
        ),
        (
            "relations: {projektagare: [project_owner]}",
            "relations: {admin: [project_owner]}",
            "relations.admin: rollen finns inte bland övergångens roller",
        ),
    ],
)
def test_a_broken_definition_stops_start_up_naming_file_and_key(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    sqlite_url: str,
    old: str,
    new: str,
    named: str,
) -> None:
    deployment = broken_deployment(tmp_path, old, new)
    result = run(["--db", sqlite_url, "--config", str(deployment), "cases", "list"])
    err = capsys.readouterr().err
    assert result == 2
    assert err.count("\n") == 1 and "insats.yaml" in err and named in err, err


def test_a_deployment_uses_its_own_lifecycle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sqlite_url: str
) -> None:
    deployment = broken_deployment(
        tmp_path, "label: Lägg på beredning", "label: Till beredningsgruppen"
    )
    assert (
        run(["--db", sqlite_url, "--config", str(deployment), "lifecycle", "show", "--json"]) == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert "Till beredningsgruppen" in {t["label"] for t in data["transitions"]}


def test_the_installed_command_exits_with_codes_and_no_traceback(
    tmp_path: Path, sqlite_url: str
) -> None:
    deployment = broken_deployment(tmp_path, "conditions: [comment_given]", "conditions: [okand]")
    broken = subprocess.run(
        [
            sys.executable,
            "-m",
            "workflow",
            "--db",
            sqlite_url,
            "--config",
            str(deployment),
            "cases",
            "list",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (
        broken.returncode == 2
        and broken.stderr.count("\n") == 1
        and "Traceback" not in broken.stderr
    )
    missing = subprocess.run(
        [sys.executable, "-m", "workflow", "--db", sqlite_url, "cases", "show", "2020/001"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 3 and missing.stderr.startswith("fel: ")
