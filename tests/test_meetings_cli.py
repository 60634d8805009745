"""`finsam meetings ...`: a meeting through the CLI, its --json output, exit codes and errors."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest

from tests import support
from tests.meeting_support import CHAIR, DIRECTOR, MEMBER, SECRETARY, recommended, under_beredning
from tests.support import World, email, one_line_error
from workflow.vocabulary import Role

# Every command here runs in the test förbund.
finsam = functools.partial(support.finsam, forbund="test")


def test_a_meeting_from_kallelse_to_anslag_through_the_cli(
    world: World, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ref = under_beredning(world)
    code, out, _ = finsam(
        capsys,
        db_url,
        "meetings",
        "recommend",
        ref,
        "--outcome",
        "bevilja",
        "--motivation",
        "Tydlig samverkansvinst",
        "--as",
        DIRECTOR,
        "--json",
    )
    assert code == 0 and json.loads(out)["case_state"] == "rekommenderad"
    code, out, _ = finsam(
        capsys,
        db_url,
        "meetings",
        "create",
        "--date",
        "2026-04-17 13:00",
        "--end",
        "2026-04-17 16:00",
        "--place",
        "Ale",
        "--as",
        SECRETARY,
        "--json",
    )
    assert code == 0
    meeting = json.loads(out)
    assert (meeting["place"], meeting["kallelse_due"]) == ("Ale", "2026-04-10T13:00:00+02:00")
    number = str(meeting["id"])
    code, out, _ = finsam(capsys, db_url, "meetings", "agenda", number, "--as", DIRECTOR, "--json")
    assert code == 0 and ref in [i["dnr"] for i in json.loads(out)["items"]]
    code, out, _ = finsam(
        capsys,
        db_url,
        "meetings",
        "protocol",
        number,
        "--justerare",
        MEMBER,
        "--as",
        SECRETARY,
        "--json",
    )
    items = json.loads(out)["items"]
    paragraph = next(i["paragraph"] for i in items if i["dnr"] == ref)
    code, out, _ = finsam(
        capsys,
        db_url,
        "meetings",
        "decide",
        number,
        str(paragraph),
        "--decision",
        "delvis_bifall",
        "--granted",
        "2027=500",
        "--granted",
        "2028=300",
        "--as",
        SECRETARY,
        "--json",
    )
    assert code == 0
    decided = next(i for i in json.loads(out)["items"] if i["dnr"] == ref)
    assert (decided["decision"], decided["granted"]) == (
        "delvis_bifall",
        {"2027": 500, "2028": 300},
    )
    code, out, _ = finsam(capsys, db_url, "meetings", "follow", number, "--as", SECRETARY)
    assert code == 0 and "Besluten följer rekommendationerna." in out
    for actor, command in [
        (SECRETARY, "send"),
        (CHAIR, "justera"),
        (MEMBER, "justera"),
        (SECRETARY, "anslag"),
    ]:
        code, out, err = finsam(capsys, db_url, "meetings", command, number, "--as", actor)
        assert code == 0, err
    assert "Anslaget" in out
    code, out, _ = finsam(capsys, db_url, "meetings", "list", "--json")
    assert [(m["id"], m["protocol"]["status"]) for m in json.loads(out)] == [
        (meeting["id"], "anslaget")
    ]
    code, out, _ = finsam(capsys, db_url, "meetings", "show", "2026-04-17")
    assert code == 0 and "Justerat" in out and "Ansökan om medel till insatsen" in out
    target = tmp_path / "protokoll.pdf"
    code, out, _ = finsam(
        capsys,
        db_url,
        "meetings",
        "export",
        number,
        "--paper",
        "protokoll",
        "--out",
        str(target),
        "--json",
    )
    assert code == 0 and json.loads(out)["bytes"] == target.stat().st_size
    assert target.read_bytes().startswith(b"%PDF")
    code, out, _ = finsam(capsys, db_url, "cases", "show", ref, "--json")
    assert json.loads(out)["state"] == "avtal"


def test_meeting_commands_exit_with_the_right_code_and_one_line(
    world: World, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ref = recommended(world)
    code, _, err = finsam(
        capsys,
        db_url,
        "meetings",
        "create",
        "--date",
        "17 april",
        "--place",
        "Ale",
        "--as",
        SECRETARY,
    )
    assert code == 2 and "ÅÅÅÅ-MM-DD TT:MM" in one_line_error(err)
    code, _, err = finsam(
        capsys,
        db_url,
        "meetings",
        "create",
        "--date",
        "2026-04-17 13:00",
        "--place",
        "Ale",
        "--as",
        email(Role.HANDLAGGARE),
    )
    assert code == 4 and "får inte kalla till möten" in one_line_error(err)
    code, _, err = finsam(capsys, db_url, "meetings", "show", "99")
    assert code == 3 and "inget möte nr 99" in one_line_error(err)
    code, out, _ = finsam(
        capsys,
        db_url,
        "meetings",
        "create",
        "--date",
        "2026-04-17 13:00",
        "--place",
        "Ale",
        "--as",
        SECRETARY,
        "--json",
    )
    number = str(json.loads(out)["id"])
    code, _, err = finsam(
        capsys,
        db_url,
        "meetings",
        "create",
        "--date",
        "2026-04-17 13:00",
        "--place",
        "Ale",
        "--as",
        SECRETARY,
    )
    assert code == 5 and "har redan ett möte" in one_line_error(err)
    code, out, _ = finsam(
        capsys, db_url, "meetings", "notice-sent", number, "--as", SECRETARY, "--json"
    )
    assert code == 0 and json.loads(out)["kallelse_sent_at"] is not None
    code, _, err = finsam(capsys, db_url, "meetings", "notice-sent", number, "--as", SECRETARY)
    assert code == 5 and "redan skickad" in one_line_error(err)
    code, _, err = finsam(
        capsys, db_url, "meetings", "decide", number, "1", "--decision", "bifall", "--as", SECRETARY
    )
    assert code == 2 and "inget protokoll" in one_line_error(err)
    finsam(capsys, db_url, "meetings", "agenda", number, "--as", DIRECTOR)
    code, _, err = finsam(
        capsys, db_url, "meetings", "protocol", number, "--as", SECRETARY, "--justerare", CHAIR
    )
    assert code == 2 and "ordföranden justerar redan" in one_line_error(err)
    code, out, _ = finsam(
        capsys,
        db_url,
        "meetings",
        "protocol",
        number,
        "--as",
        SECRETARY,
        "--justerare",
        MEMBER,
        "--json",
    )
    item = next(i for i in json.loads(out)["items"] if i["dnr"] == ref)
    code, _, err = finsam(
        capsys,
        db_url,
        "meetings",
        "decide",
        number,
        str(item["paragraph"]),
        "--decision",
        "godkänt",
        "--as",
        SECRETARY,
    )
    assert code == 2 and "okänt värde 'godkänt' för beslutstyp" in one_line_error(err)
    code, _, err = finsam(
        capsys,
        db_url,
        "meetings",
        "decide",
        number,
        str(item["paragraph"]),
        "--decision",
        "bifall",
        "--granted",
        "2027",
        "--as",
        SECRETARY,
    )
    assert code == 2 and "ÅR=TKR" in one_line_error(err)
    code, _, _ = finsam(
        capsys,
        db_url,
        "meetings",
        "decide",
        number,
        str(item["paragraph"]),
        "--decision",
        "avslag",
        "--expect-version",
        str(item["version"]),
        "--as",
        SECRETARY,
    )
    assert code == 0
    code, _, err = finsam(
        capsys,
        db_url,
        "meetings",
        "decide",
        number,
        str(item["paragraph"]),
        "--decision",
        "bifall",
        "--expect-version",
        str(item["version"]),
        "--as",
        SECRETARY,
    )
    assert code == 5 and "har ändrats" in one_line_error(err)
    code, _, err = finsam(capsys, db_url, "meetings", "send", number, "--as", SECRETARY)
    assert code == 2 and "saknar beslut" in one_line_error(err)
    code, _, err = finsam(capsys, db_url, "meetings", "justera", number, "--as", CHAIR)
    assert code == 4 and "inte skickat för justering" in one_line_error(err)
    code, _, err = finsam(
        capsys, db_url, "meetings", "reopen", number, "--reason", "fel", "--as", SECRETARY
    )
    assert code == 2 and "skickat för justering kan tas tillbaka" in one_line_error(err)
    code, _, err = finsam(
        capsys, db_url, "meetings", "amend", number, str(item["paragraph"]), "--as", SECRETARY
    )
    assert code == 2 and "inget att ändra" in one_line_error(err)
    code, _, err = finsam(
        capsys, db_url, "meetings", "export", number, "--paper", "utdrag", "--format", "html"
    )
    assert code == 2 and "--paragraph" in one_line_error(err)
    code, _, err = finsam(
        capsys,
        db_url,
        "meetings",
        "export",
        number,
        "--paper",
        "protokoll",
        "--out",
        "/nonexistent/x.pdf",
    )
    assert code == 2 and "finns inte" in one_line_error(err)
