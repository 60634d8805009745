"""Onboarding a förbund without code: `finsam forbund import`, parties, people and organs from
the command line, every change in the förbund's audit chain, deactivated people refused."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlmodel import col, select

from tests.meeting_support import board_meeting
from tests.support import Cli, World, email
from workflow.app import App
from workflow.models import AuditEvent, Forbund
from workflow.services import cases, demo
from workflow.services.board import meetings
from workflow.services.cases import audit
from workflow.services.demo import norra_vastmanland
from workflow.services.demo.insatser import load_akst
from workflow.services.funding import budget
from workflow.services.organisation import forbund_file, forbund_import, organs, people
from workflow.services.organisation.edits import INSTALLATION
from workflow.services.organisation.forbund import resolve_forbund
from workflow.services.organisation.organs import find_organ, members
from workflow.services.reminders import planner

NV_FILE = norra_vastmanland.FILE
ADMIN = "admin@nv.example"
CHEF = "samordnare@nv.example"
SEKRETERARE = "sekreterare@nv.example"
NV = ("--forbund", "nv")

IDEA = {
    "title": "Grundutbildning i lösningsfokuserat arbetssätt",
    "inriktning": "struktur",
    "malgrupp": "Arbetsledare och professionella hos parterna",
    "syfte": "Ett gemensamt lösningsfokuserat arbetssätt",
    "mal": "Alla arbetsledare har gått utbildningen under 2011",
    "start": "2011-01-01",
    "end": "2011-12-31",
    "owner_party": "Fagersta kommun",
    "parties": ["Fagersta kommun", "Försäkringskassan", "Arbetsförmedlingen"],
    "budget": {2011: 150},
    "followup_plan": "Följs i SUS; slutrapport efter utbildningsåret",
}


@pytest.fixture
def cli(db_url: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(db_url, capsys)


def _events(app: App, slug: str) -> list[AuditEvent]:
    with app.db.reading() as session:
        forbund = session.exec(select(Forbund).where(Forbund.slug == slug)).one()
        return list(
            session.exec(
                select(AuditEvent)
                .where(AuditEvent.forbund_id == forbund.id)
                .order_by(col(AuditEvent.seq))
            )
        )


def _slugs(app: App) -> list[str]:
    with app.db.reading() as session:
        return sorted(f.slug for f in session.exec(select(Forbund)))


def _first_forbunds_lists(cli: Cli) -> dict[str, Any]:
    return {
        what: cli.json("--forbund", "akst", what, "list")
        for what in ("cases", "people", "meetings", "parties", "organs")
    }


def test_norra_vastmanland_set_up_from_yaml_through_the_cli_reports_its_2011_budget(
    app: App, cli: Cli, tmp_path: Path
) -> None:
    """A second förbund from a YAML file and the command line alone: its frame of 7 000 tkr
    and its grant of 150 tkr for 2011, and the first förbund's lists as they were."""
    load_akst(app)
    before = _first_forbunds_lists(cli)

    created = cli("forbund", "import", str(NV_FILE))
    assert "Norra Västmanlands Samordningsförbund (nv) är skapat" in created
    cli(*NV, "budget", "frame", "--year", "2011", "--total", "7000", "--adopted", "2010-11-15",
        "--as", CHEF)  # fmt: skip
    idea = tmp_path / "ide.yaml"
    idea.write_text(yaml.safe_dump(IDEA, allow_unicode=True), encoding="utf-8")
    ref = cli.json(*NV, "cases", "submit", "--file", str(idea), "--as", "handlaggare@nv.example")
    ref = cli.json(*NV, "cases", "fire", ref["ref"], "registrera", "--as", SEKRETERARE)["ref"]
    cli(*NV, "cases", "fire", ref, "starta_beredning", "--as", CHEF)
    cli(*NV, "meetings", "recommend", ref, "--outcome", "bevilja",
        "--motivation", "Ett gemensamt arbetssätt hos alla parter", "--as", CHEF)  # fmt: skip
    meeting = cli.json(*NV, "meetings", "create", "--date", "2010-12-10 13:00",
                       "--end", "2010-12-10 15:00", "--place", "Fagersta",
                       "--as", SEKRETERARE)  # fmt: skip
    number = str(meeting["id"])
    cli(*NV, "meetings", "agenda", number, "--as", CHEF)
    cli(*NV, "meetings", "notice-sent", number, "--as", SEKRETERARE)
    cli(*NV, "meetings", "protocol", number, "--justerare", "ledamot.fk@nv.example",
        "--as", SEKRETERARE)  # fmt: skip
    cli(*NV, "meetings", "follow", number, "--as", SEKRETERARE)
    cli(*NV, "meetings", "send", number, "--as", SEKRETERARE)
    cli(*NV, "meetings", "justera", number, "--as", "ordforande@nv.example")
    cli(*NV, "meetings", "justera", number, "--as", "ledamot.fk@nv.example")

    report = cli.json(*NV, "budget", "report", "--year", "2011")
    rows = {r["label"]: r["values"] for r in report["rows"]}
    assert rows["Finansiell ram"] == {"2011": 7000}
    assert rows["- Grundutbildning i lösningsfokuserat arbetssätt"] == {"2011": 150}
    assert rows["Total summa"] == {"2011": 150}
    table = cli(*NV, "budget", "report", "--year", "2011")
    assert "Grundutbildning i lösningsfokuserat arbetssätt" in table
    assert _first_forbunds_lists(cli) == before
    verified = cli("audit", "verify")
    assert "akst: kedjan är hel" in verified and "nv: kedjan är hel" in verified


def test_importing_a_file_twice_changes_nothing_and_a_change_in_it_is_one_event_each(
    app: App, cli: Cli, tmp_path: Path
) -> None:
    cli("forbund", "import", str(NV_FILE))
    chain = len(_events(app, "nv"))
    again = cli("forbund", "import", str(NV_FILE), "--as", ADMIN)
    assert again.startswith("Inget att ändra: förbundet nv stämmer med")
    assert len(_events(app, "nv")) == chain

    exported = tmp_path / "nv.yaml"
    cli("forbund", "export", "nv", "--out", str(exported))
    assert "Inget att ändra" in cli("forbund", "import", str(exported), "--as", ADMIN)
    assert len(_events(app, "nv")) == chain

    # The file in version control changes: a new party, a renamed person with a new role, an
    # ersättare gone from the board, and a person who has left.
    data = yaml.safe_load(exported.read_text(encoding="utf-8"))
    data["parties"].append({"name": "Sala kommun", "kind": "kommun"})
    handlaggare = next(p for p in data["people"] if p["email"] == "handlaggare@nv.example")
    handlaggare["name"] = "Sara Öberg Lind"
    handlaggare["roles"] = ["handlaggare", "projektagare"]
    projektagare = next(p for p in data["people"] if p["email"] == "projektagare@nv.example")
    projektagare["active"] = False
    board = data["organs"][0]
    board["members"] = [m for m in board["members"] if m["email"] != "ersattare.af@nv.example"]
    exported.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    changed = cli.json("forbund", "import", str(exported), "--as", ADMIN)
    assert not changed["created"] and changed["actor"] == ADMIN
    assert len(changed["changes"]) == 5, changed["changes"]
    new_events = _events(app, "nv")[chain:]
    assert len(new_events) == 5
    assert {e.actor_email for e in new_events} == {ADMIN}
    assert {e.trigger for e in new_events} == {
        "lagg_till_part",
        "andra_person",
        "andra_roller",
        "avaktivera",
        "ta_bort_ledamot",
    }
    assert "Inget att ändra" in cli("forbund", "import", str(exported), "--as", ADMIN)
    board_now = organs.get_organ(app, organ="styrelse", forbund="nv")
    assert "ersattare.af@nv.example" not in {m.email for m in board_now.members}
    assert any(
        "Arbetsförmedlingen har 1 ordinarie men 0 ersättare" in w for w in board_now.warnings
    )


def test_every_change_of_the_organisation_is_in_the_chain_and_names_who_acted(
    app: App, cli: Cli
) -> None:
    cli("forbund", "create", "--slug", "nv", "--name", "Norra Västmanlands Samordningsförbund",
        "--orgnr", "222000-1016", "--admin-email", ADMIN, "--admin-name", "Kansliet")  # fmt: skip
    cli(*NV, "parties", "add", "--kind", "forsakringskassan", "--name", "Försäkringskassan",
        "--as", ADMIN)  # fmt: skip
    cli(*NV, "parties", "add", "--kind", "region", "--name", "Landstinget Västmanland",
        "--as", ADMIN)  # fmt: skip
    cli(*NV, "parties", "rename", "Landstinget Västmanland", "--to", "Region Västmanland",
        "--as", ADMIN)  # fmt: skip
    cli(*NV, "forbund", "update", "--dnr-pattern", "NV {year}/{seq:03d}", "--as", ADMIN)
    cli(*NV, "people", "add", "--email", "ledamot.fk@nv.example", "--name", "Kerstin Berg",
        "--role", "styrelse_ledamot", "--party", "Försäkringskassan", "--as", ADMIN)  # fmt: skip
    cli(*NV, "people", "add", "--email", "ersattare@nv.example", "--name", "Olle Nyström",
        "--role", "styrelse_ersattare", "--as", ADMIN)  # fmt: skip
    cli(*NV, "people", "roles", "ledamot.fk@nv.example", "--add", "styrelse_ordforande",
        "--as", ADMIN)  # fmt: skip
    cli(*NV, "people", "update", "ersattare@nv.example", "--party", "Försäkringskassan",
        "--as", ADMIN)  # fmt: skip
    cli(*NV, "organs", "create", "--kind", "styrelse", "--as", ADMIN)
    cli(*NV, "organs", "member", "styrelse", "ledamot.fk@nv.example", "--role", "ordforande",
        "--elected", "2022", "--as", ADMIN)  # fmt: skip
    cli(*NV, "organs", "member", "styrelse", "ersattare@nv.example", "--role", "ersattare",
        "--elected", "2022", "--as", ADMIN)  # fmt: skip
    cli(*NV, "organs", "remove", "styrelse", "ersattare@nv.example", "--as", ADMIN)
    cli(*NV, "people", "deactivate", "ersattare@nv.example", "--as", ADMIN)

    events = _events(app, "nv")
    triggers = [e.trigger for e in events]
    assert triggers == [
        "skapa_forbund",
        "lagg_till_person",
        "lagg_till_part",
        "lagg_till_part",
        "andra_part",
        "andra_forbund",
        "lagg_till_person",
        "lagg_till_person",
        "andra_roller",
        "andra_person",
        "skapa_organ",
        "lagg_till_ledamot",
        "lagg_till_ledamot",
        "ta_bort_ledamot",
        "avaktivera",
    ]
    # Founding is the installation's, for the operator who ran the command; the rest the admin's.
    assert [e.actor_email for e in events[:2]] == [INSTALLATION, INSTALLATION]
    assert events[0].data["operator"] and events[0].data["channel"] == "cli"
    assert {e.actor_email for e in events[2:]} == {ADMIN}
    assert events[4].data["before"]["name"] == "Landstinget Västmanland"
    history = cli(*NV, "forbund", "history")
    assert "part Landstinget Västmanland heter nu Region Västmanland" in history
    assert "person Olle Nyström <ersattare@nv.example> inaktiverad" in history
    with app.db.reading() as session:
        assert all(r.ok for r in audit.verify(session))
    shown = cli("forbund", "show", "nv")
    # The board term of the 2022 election: 1 April 2023 to 31 March 2027.
    assert "2023-04-01 – 2027-03-31" in shown
    assert "Försäkringskassan har 1 ordinarie men 0 ersättare" in shown


def test_a_deactivated_person_is_refused_with_one_line_and_can_be_reactivated(
    app: App, cli: Cli, tmp_path: Path
) -> None:
    cli("forbund", "import", str(NV_FILE))
    idea = tmp_path / "ide.yaml"
    idea.write_text(yaml.safe_dump(IDEA, allow_unicode=True), encoding="utf-8")
    submit = (*NV, "cases", "submit", "--file", str(idea), "--as", "handlaggare@nv.example")
    ref = cli.json(*submit)["ref"]
    done = cli(*NV, "people", "deactivate", "handlaggare@nv.example", "--as", ADMIN)
    assert "inaktiverad" in done
    assert not people.get_person(app, email="handlaggare@nv.example", forbund="nv").active

    cli(*submit, code=4)
    assert "handlaggare@nv.example är inaktiverad i förbundet nv" in cli.error
    cli(*NV, "cases", "actions", ref, "--as", "handlaggare@nv.example", code=4)
    cli(*NV, "cases", "fire", ref, "ta_tillbaka", "--as", "handlaggare@nv.example", code=4)
    assert cases.get_case(app, ref=ref, forbund="nv").state == "ide"  # nothing was written
    person_id = people.get_person(app, email="handlaggare@nv.example", forbund="nv").id
    assert not people.is_active(app, person_id)
    listed = cli(*NV, "people", "list")
    assert "inaktiverad" in next(line for line in listed.splitlines() if "Sara Öberg" in line)

    cli(*NV, "people", "activate", "handlaggare@nv.example", "--as", ADMIN)
    assert people.is_active(app, person_id)
    cli(*submit)

    # The förbundschef runs the set-up beside the administrator (manage_organisation) ...
    cli(*NV, "people", "deactivate", "handlaggare@nv.example", "--as", CHEF)
    cli(*NV, "people", "activate", "handlaggare@nv.example", "--as", CHEF)
    # ... and the last person who may, once the other is gone, can neither go nor give up the role.
    cli(*NV, "people", "deactivate", CHEF, "--as", ADMIN)
    cli(*NV, "people", "deactivate", ADMIN, "--as", ADMIN, code=2)
    assert "utan aktiv person som får ändra" in cli.error
    cli(*NV, "people", "roles", ADMIN, "--remove", "admin", "--as", ADMIN, code=2)
    # Someone without the right may not change people at all.
    cli(*NV, "people", "deactivate", ADMIN, "--as", "sekreterare@nv.example", code=4)


BROKEN = [
    ("roles: [projektagare]", "roles: [projektgare]", "(projektagare@nv.example).roles[0]"),
    ("{name: Norbergs kommun, kind: kommun}", "{name: Norbergs kommun, kind: kommune}",
     "parties[4] (Norbergs kommun).kind"),
    ("orgnr: 222000-1016", "orgnr: 222000-1017", "forbund.orgnr"),
    ("{email: beredning.af@nv.example, role: ledamot}",
     "{email: beredning.ab@nv.example, role: ledamot}",
     "(beredning.ab@nv.example).email"),
    ("    mandate: {elected: 2006}", "    mandat: {elected: 2006}", "organs[0].mandat"),
    ("role: ersattare, order: 6", "role: ledamot, order: 6", "(ersattare.af@nv.example).order"),
    ("{email: handlaggare@nv.example, name: Sara Öberg",
     "{email: projektagare@nv.example, name: Sara Öberg", "(projektagare@nv.example).email"),
    ("parties:\n", "parties:\n  - {name: [\n", "rad "),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "key"), BROKEN)
def test_a_broken_file_names_the_file_and_the_key_and_writes_nothing(
    app: App, cli: Cli, tmp_path: Path, old: str, new: str, key: str
) -> None:
    text = NV_FILE.read_text(encoding="utf-8")
    assert old in text
    broken = tmp_path / "trasig.yaml"
    broken.write_text(text.replace(old, new, 1), encoding="utf-8")
    cli("forbund", "import", str(broken), code=2)
    assert cli.error.startswith(f"fel: {broken}: ") and key in cli.error
    assert _slugs(app) == []


def test_a_change_that_fails_half_way_through_a_file_leaves_the_forbund_as_it_was(
    app: App, cli: Cli, tmp_path: Path
) -> None:
    cli("forbund", "import", str(NV_FILE))
    chain = len(_events(app, "nv"))
    exported = forbund_file.export_forbund(app, "nv")
    # Parties and people change first; the board's kind cannot, so the whole import fails.
    broken = tmp_path / "nv.yaml"
    broken.write_text(
        exported.replace("Karin Ljung", "Karin Ljung Berg").replace(
            "kind: styrelse", "kind: presidium"
        ),
        encoding="utf-8",
    )
    cli("forbund", "import", str(broken), "--as", ADMIN, code=2)
    assert "organs[0] (Styrelsen).kind" in cli.error
    assert len(_events(app, "nv")) == chain
    assert people.get_person(app, email=CHEF, forbund="nv").name == "Karin Ljung"
    cli("forbund", "import", str(NV_FILE), code=2)  # exists: who updates it must say so
    assert "ange --as" in cli.error


def test_the_board_warns_of_a_lapsed_mandate_and_a_seat_without_ersattare(app: App) -> None:
    forbund_import.import_file(app, NV_FILE, actor_email=None, operator="test")
    # The board elected in 2006 sat from 1 April 2007 to 31 March 2011.
    assert organs.warnings(app, "nv", on=date(2011, 3, 31)) == []
    lapsed = organs.warnings(app, "nv", on=date(2011, 4, 1))
    assert lapsed == [
        "Styrelsen: mandatet gick ut 2011-03-31 för Göran Ek, Inger Backe, Anders Vik och 9 till"
    ]
    organs.remove_member(app, actor_email=ADMIN, organ="Styrelsen",
                         email="ersattare.norberg@nv.example", forbund="nv")  # fmt: skip
    people.deactivate_person(app, actor_email=ADMIN, email="ledamot.fk@nv.example", forbund="nv")
    found = organs.warnings(app, "nv", on=date(2010, 12, 1))
    assert "Styrelsen: Norbergs kommun har 1 ordinarie men 0 ersättare" in " | ".join(found)
    assert any("Kerstin Berg är inaktiverad men står kvar som ledamot" in w for w in found)
    # The meetings no longer call a deactivated member.
    with app.db.reading() as session:
        board = find_organ(session, resolve_forbund(session, "nv"), "styrelse")
        assert "ledamot.fk@nv.example" not in {p.email for p, _ in members(session, board)}


def test_a_board_set_up_under_its_own_name_is_the_one_its_meetings_use(
    app: App, world: World
) -> None:
    organs.create_organ(app, actor_email="admin@test.example", kind="styrelse",
                        name="Förbundsstyrelsen", forbund="test")  # fmt: skip
    organs.set_member(app, actor_email="admin@test.example", organ="Förbundsstyrelsen",
                      email="styrelse_ordforande@test.example", role="ordforande",
                      forbund="test")  # fmt: skip
    meeting = meetings.create_meeting(
        app, actor_email="sekreterare@test.example", starts="2026-04-01 13:00", place="Ale",
        forbund="test",
    )  # fmt: skip
    assert meeting.organ == "Förbundsstyrelsen"
    assert [a.name for a in meeting.attendance] == ["Test styrelse_ordforande"]


def test_the_demo_sets_up_norra_vastmanland_from_its_file_with_the_2011_grant(
    app: App, tmp_path: Path
) -> None:
    result = demo.load_demo(app)
    [second] = result.also
    assert (second.forbund, second.created, second.cases) == ("nv", True, 1)
    [insats] = cases.list_cases(app, forbund="nv").items
    assert (insats.title, insats.state) == (norra_vastmanland.TITLE, "pagaende")
    [year] = budget.figures(app, years=[2011], forbund="nv")
    assert (year.frame_tkr, [i.granted_tkr for i in year.insatser]) == (7000, [150])
    assert year.struktur_tkr == 150
    # The förbund in the database is the shipped file: importing it again changes nothing.
    report = forbund_import.import_file(app, NV_FILE, actor_email=ADMIN, operator="test")
    assert report.changes == []
    events = _events(app, "nv")
    assert events[0].trigger == "skapa_forbund" and events[0].actor_email == INSTALLATION
    assert events[0].data["channel"] == "demo"
    assert _events(app, "akst")[0].trigger == "skapa_forbund"
    # The first förbund's board was made from people's roles; its export round-trips too.
    akst = tmp_path / "akst.yaml"
    akst.write_text(forbund_file.export_forbund(app, "akst"), encoding="utf-8")
    again = forbund_import.import_file(app, akst, actor_email="admin@akst.example", operator="t")
    assert again.changes == []
    assert not demo.load_demo(app).also[0].created


def test_a_deactivated_person_is_no_longer_called_or_reminded(world: World) -> None:
    people.deactivate_person(
        world.app,
        actor_email=email("admin"),
        email=email("styrelse_ersattare"),
        forbund="test",
    )
    meeting = board_meeting(world, "2026-04-20 13:00")
    assert "Test styrelse_ersattare" not in {a.name for a in meeting.attendance}
    [kallelse] = [
        r
        for r in planner.list_reminders(world.app, forbund="test", limit=500).items
        if r.rule == "meeting_kallelse"
    ]
    assert email("styrelse_ersattare") not in kallelse.recipients
    assert email("styrelse_ledamot") in kallelse.recipients
