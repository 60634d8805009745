"""Lists of cases a page at a time: every case once and in order, filters in SQL, a viewer's
own cases only, and a clear error for a cursor that is not one."""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlmodel import select

from tests.support import (
    TravelClock,
    World,
    build_world,
    email,
    finsam,
    query_plan,
    sent_statements,
)
from workflow.app import App
from workflow.errors import BadInput
from workflow.models import Insats, InsatsParty, Party, Person
from workflow.services import cases
from workflow.services.cases import CaseFilter, text_search
from workflow.services.cases.records import INSATS_TABLE
from workflow.services.organisation.forbund import resolve_forbund
from workflow.services.organisation.people import add_person
from workflow.vocabulary import Role

OTHER_HANDLAGGARE = "annan.handlaggare@test.example"
OTHER_OWNER = "annan.agare@test.example"


def _world(app: App, clock: TravelClock) -> tuple[World, list[str], list[str]]:
    """Four registered cases and three ideas; one idea by another handläggare, one case owned
    by another projektägare, one structural, one with Ale kommun as a party."""
    world = build_world(app, clock)
    with app.db.transaction() as session:
        forbund = resolve_forbund(session, "test")
        add_person(session, forbund, name="Annan", email=OTHER_HANDLAGGARE, roles=["handlaggare"])
        add_person(session, forbund, name="Ägare", email=OTHER_OWNER, roles=["projektagare"])
    year = clock.now.year + 1
    registered = []
    for n in range(4):
        values: dict[str, object] = {"title": f"Registrerad insats {n}"}
        if n == 1:
            values["inriktning"] = "struktur"
        if n == 2:
            values["parties"] = ["Ale kommun", "Försäkringskassan"]
            values["owner_party"] = "Ale kommun"
        if n == 3:
            values["project_owner"] = OTHER_OWNER
            values["start"] = f"{year + 3}-01-01"
            values["end"] = f"{year + 3}-12-31"
        ref = world.idea(**values)
        registered.append(world.fire(ref, "registrera", Role.SEKRETERARE).ref)
    ideas = [world.idea(title=f"Idé nummer {n}") for n in range(2)]
    other = cases.submit_idea(
        app,
        actor_email=OTHER_HANDLAGGARE,
        values={"title": "Annans idé", "parties": ["Ale kommun", "Arbetsförmedlingen"]},
        forbund="test",
    )
    ideas.append(other.ref)
    return world, registered, ideas


def _all_pages(app: App, limit: int, filters: CaseFilter | None = None) -> list[str]:
    filters = filters or CaseFilter()
    refs: list[str] = []
    after = None
    while True:
        page = cases.list_cases(app, forbund="test", filters=filters, after=after, limit=limit)
        assert len(page.items) <= limit
        refs.extend(view.ref for view in page.items)
        if page.next_after is None:
            return refs
        assert page.items, "a page with a cursor after it has rows"
        after = page.next_after


def test_paging_through_every_case_gives_each_once_in_order(app: App, clock: TravelClock) -> None:
    _, registered, ideas = _world(app, clock)
    expected = sorted(registered) + ideas  # registered by dnr, then ideas in the order given
    for limit in (1, 2, 3, 7, 50):
        assert _all_pages(app, limit) == expected, limit
    assert [v.ref for v in cases.iter_cases(app, forbund="test", batch=2)] == expected
    assert cases.count_cases(app, forbund="test") == len(expected)
    last = cases.list_cases(app, forbund="test", limit=len(expected))
    assert last.next_after is None
    first = cases.list_cases(app, forbund="test", limit=2)
    assert first.items[0].parties == ["Försäkringskassan", "Kungälvs kommun"]
    assert first.items[0].owner_party == "Kungälvs kommun"
    assert first.items[0].project_owner == email(Role.PROJEKTAGARE)


def test_a_case_added_between_two_pages_is_neither_repeated_nor_skipping_another(
    app: App, clock: TravelClock
) -> None:
    world, registered, ideas = _world(app, clock)
    first = cases.list_cases(app, forbund="test", limit=5)
    late = world.idea(title="Sen idé")
    rest = cases.list_cases(app, forbund="test", after=first.next_after, limit=50)
    assert [v.ref for v in first.items + rest.items] == sorted(registered) + ideas + [late]


def test_filters_combine_in_the_list_and_its_count(app: App, clock: TravelClock) -> None:
    _, registered, ideas = _world(app, clock)
    year = clock.now.year + 1

    def refs(**given: object) -> list[str]:
        filters = CaseFilter(**given)  # type: ignore[arg-type]
        found = _all_pages(app, 2, filters)
        assert cases.count_cases(app, forbund="test", filters=filters) == len(found)
        return found

    assert refs(state="ide") == ideas
    assert refs(states=("ide", "inkommen")) == sorted(registered) + ideas
    assert refs(state="inkommen", inriktning="struktur") == [registered[1]]
    assert refs(party="Ale kommun") == [registered[2], ideas[2]]
    assert refs(party="Ale kommun", state="inkommen") == [registered[2]]
    assert refs(text="REGISTRERAD insats 2") == [registered[2]]
    assert refs(text=registered[0]) == [registered[0]]
    assert refs(text="100%") == []
    assert refs(text="insats_") == []  # `_` and `%` are themselves, not wildcards
    assert refs(text="DÉ") == ideas  # too short for a trigram: checked on each case
    # Letters beyond ASCII fold too, on SQLite as on PostgreSQL.
    assert refs(text="IDÉ NUMMER 1") == [ideas[1]]
    assert refs(text="annans IDÉ") == [ideas[2]]
    assert refs(project_owner_email=OTHER_OWNER) == [registered[3]]
    # Ideas of the test world have their period next year and the year after; case 3 later.
    assert refs(year=year, state="inkommen") == sorted(registered[:3])
    assert refs(year=year + 3) == [registered[3]]
    assert refs(year=year - 1) == []


def test_a_viewer_sees_only_the_cases_they_may_see(app: App, clock: TravelClock) -> None:
    _, registered, ideas = _world(app, clock)

    def seen(viewer: str, **given: object) -> list[str]:
        filters = CaseFilter(viewer_email=viewer, **given)  # type: ignore[arg-type]
        found = _all_pages(app, 2, filters)
        assert cases.count_cases(app, forbund="test", filters=filters) == len(found)
        return found

    everything = sorted(registered) + ideas
    assert seen(email(Role.SEKRETERARE)) == everything
    # The handläggare who submitted all but one sees what they submitted, the other theirs.
    assert seen(email(Role.HANDLAGGARE)) == everything[:-1]
    assert seen(OTHER_HANDLAGGARE) == [ideas[2]]
    assert seen(OTHER_HANDLAGGARE, state="inkommen") == []
    assert seen(OTHER_OWNER) == [registered[3]]


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ({"state": "flygande"}, ["okänt tillstånd 'flygande'", "pagaende"]),
        ({"states": ("ide", "flygande")}, ["okänt tillstånd 'flygande'"]),
        ({"inriktning": "allt"}, ["okänd inriktning 'allt'", "individ, struktur"]),
        ({"party": "Okänd part"}, ["okänd part 'Okänd part'", "Ale kommun"]),
        ({"project_owner_email": "ingen@test.example"}, ["ingen person"]),
    ],
)
def test_an_unknown_filter_value_is_bad_input_naming_the_known(
    app: App, clock: TravelClock, given: dict[str, object], words: list[str]
) -> None:
    build_world(app, clock)
    with pytest.raises(BadInput) as raised:
        cases.list_cases(app, forbund="test", filters=CaseFilter(**given))  # type: ignore[arg-type]
    assert all(word in str(raised.value) for word in words), str(raised.value)


def test_a_cursor_that_is_not_one_is_a_clear_error(app: App, clock: TravelClock) -> None:
    _world(app, clock)
    good = cases.list_cases(app, forbund="test", limit=2).next_after
    assert good is not None
    for bad in ["xyz", good[:-3] + "!!!", "W10", "WyJtZWV0aW5ncyIsMV0"]:
        with pytest.raises(BadInput) as raised:
            cases.list_cases(app, forbund="test", after=bad)
        message = str(raised.value)
        assert "ogiltig sidmarkör" in message and "första sidan" in message, message
    for limit in (0, 501):
        with pytest.raises(BadInput, match="sidstorlek"):
            cases.list_cases(app, forbund="test", limit=limit)


def test_cases_list_on_the_command_line_pages_and_streams(
    app: App, clock: TravelClock, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _, registered, ideas = _world(app, clock)
    everything = sorted(registered) + ideas
    code, out, err = finsam(capsys, db_url, "cases", "list", "--limit", "3", forbund="test")
    assert code == 0 and registered[0] in out.splitlines()[2]
    assert len(out.splitlines()) == 2 + 3
    assert err.startswith("Fler ärenden: ") and " --limit 3 --after " in err
    cursor = err.split("--after ")[1].strip()
    code, out, err = finsam(
        capsys, db_url, "cases", "list", "--limit", "3", "--after", cursor, "--json", forbund="test"
    )
    assert code == 0 and [c["ref"] for c in json.loads(out)] == everything[3:6]
    code, out, err = finsam(
        capsys, db_url, "cases", "list", "--limit", "2", "--all", "--json", forbund="test"
    )
    assert code == 0 and err == ""
    assert [c["ref"] for c in json.loads(out)] == everything
    code, out, err = finsam(
        capsys, db_url, "cases", "list", "--state", "ide", "--json", forbund="test"
    )
    assert [c["ref"] for c in json.loads(out)] == ideas and err == ""
    code, out, err = finsam(capsys, db_url, "cases", "list", "--after", "xyz", forbund="test")
    assert code == 2 and "ogiltig sidmarkör" in err
    code, out, err = finsam(
        capsys, db_url, "cases", "list", "--state", "pagaende", "--json", forbund="test"
    )
    assert json.loads(out) == []


# -- filtered lists a page at a time --------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    """A case as the filters read it (CaseFilter's documented meaning, in Python)."""

    id: int
    dnr: str | None
    title: str
    state: str
    inriktning: str
    start: date | None
    end: date | None
    owner_party: str
    parties: frozenset[str]
    project_owner: str

    def matches(self, given: dict[str, Any]) -> bool:
        year = given.get("year")
        text = (given.get("text") or "").casefold()
        return (
            given.get("state") in (None, self.state)
            and (not given.get("states") or self.state in given["states"])
            and given.get("inriktning") in (None, self.inriktning)
            and (
                year is None
                or (
                    self.start is not None
                    and self.start <= date(year, 12, 31)
                    and (self.end is None or self.end >= date(year, 1, 1))
                )
            )
            and (given.get("party") is None or given["party"] in self.parties | {self.owner_party})
            and (not text or text in self.title.casefold() or text in (self.dnr or "").casefold())
            and given.get("project_owner_email") in (None, self.project_owner)
        )


_STATES = ["inkommen", "under_beredning", "pagaende", "avslutad_avslag"]


def _many(app: App, clock: TravelClock) -> list[_Row]:
    """36 registered cases and 6 ideas written straight into the tables (the list reads, it
    does not care how they came): four states and ideas, both inriktningar, two party mixes
    and an owner party outside its parties, two projektägare, periods over four years (some
    open-ended, some without a period), and dnrs neither in id order nor of one length
    (2025/1000 sorts before 2025/997)."""
    build_world(app, clock)
    now = clock()
    rows: list[_Row] = []
    dnrs = [f"{2025 + k // 9}/{997 + k % 9}" for k in range(36)]
    random.Random(95).shuffle(dnrs)
    with app.db.transaction() as session:
        forbund = resolve_forbund(session, "test")
        party = {
            p.name: p.id for p in session.exec(select(Party).where(Party.forbund_id == forbund.id))
        }
        person = {
            p.email: p.id
            for p in session.exec(select(Person).where(Person.forbund_id == forbund.id))
        }
        other = add_person(
            session, forbund, name="Ägare", email=OTHER_OWNER, roles=["projektagare"]
        )
        session.flush()
        person[OTHER_OWNER] = other.id
        for n in range(42):
            idea = n >= 36
            start_year = 2025 + (n // 3) % 4
            start = None if n % 11 == 5 else date(start_year, 3, 1)
            end = None if start is None or n % 7 == 3 else date(start_year + n % 2, 10, 31)
            names = (
                ["Ale kommun", "Arbetsförmedlingen"] if n % 4 == 1 else
                ["Kungälvs kommun", "Försäkringskassan"]
            )  # fmt: skip
            owner = "Ale kommun" if n % 4 == 1 or n % 10 == 6 else "Kungälvs kommun"
            project_owner = OTHER_OWNER if n % 5 == 2 else email(Role.PROJEKTAGARE)
            case = Insats(
                forbund_id=forbund.id,  # type: ignore[arg-type]
                number=n + 1,
                dnr=None if idea else dnrs[n],
                title=f"Insats {n} {'Lucka i stödet' if n % 6 == 0 else 'Arbete'}",
                inriktning="struktur" if n % 3 == 0 else "individ",
                start_date=start,
                end_date=end,
                owner_party_id=party[owner],
                project_owner_id=person[project_owner],
                state="ide" if idea else _STATES[n % len(_STATES)],
                budget_requested={},
                state_since=now,
                created_at=now,
                updated_at=now,
            )
            session.add(case)
            session.flush()
            for name in names:
                session.add(InsatsParty(insats_id=case.id, party_id=party[name]))  # type: ignore[arg-type]
            rows.append(
                _Row(
                    case.id,  # type: ignore[arg-type]
                    case.dnr,
                    case.title,
                    case.state,
                    case.inriktning,
                    start,
                    end,
                    owner,
                    frozenset(names),
                    project_owner,
                )
            )
    return rows


def _expected(rows: list[_Row], given: dict[str, Any]) -> list[int]:
    """The list order: registered cases by dnr (code points, as both databases sort it),
    then ideas by id."""
    found = [row for row in rows if row.matches(given)]
    registered = sorted((r for r in found if r.dnr is not None), key=lambda r: r.dnr or "")
    ideas = sorted((r for r in found if r.dnr is None), key=lambda r: r.id)
    return [row.id for row in registered + ideas]


def _pages(app: App, filters: CaseFilter, limit: int) -> list[int]:
    ids: list[int] = []
    after = None
    while True:
        page = cases.list_cases(app, forbund="test", filters=filters, after=after, limit=limit)
        assert 0 < len(page.items) <= limit or (not page.items and after is None)
        ids.extend(view.id for view in page.items)
        if page.next_after is None:
            return ids
        after = page.next_after


@pytest.mark.parametrize("few", [2000, 1])  # the text's cases by id, or checked in dnr order
def test_every_filter_combination_pages_through_each_matching_case_once_in_order(
    app: App, clock: TravelClock, monkeypatch: pytest.MonkeyPatch, few: int
) -> None:
    monkeypatch.setattr(text_search, "FEW", few)
    rows = _many(app, clock)
    choices: dict[str, list[Any]] = {
        "state": [None, "inkommen", "pagaende", "ide"],
        "year": [None, 2026, 2028],
        "inriktning": [None, "struktur"],
        "party": [None, "Ale kommun"],
        # A text the trigram index serves, one in other letter case across words, one too
        # short for a trigram (checked on the rows the other filters leave).
        "text": [None, "lucka", "A I STÖ", "lu"],
    }
    combinations = [
        {k: v for k, v in zip(choices, values, strict=True) if v is not None}
        for values in itertools.product(*choices.values())
    ]
    combinations += [
        {"states": ("inkommen", "avslutad_avslag"), "year": 2027},
        {"states": ("under_beredning", "ide"), "party": "Ale kommun"},
        {"project_owner_email": OTHER_OWNER, "year": 2025},
        {"project_owner_email": OTHER_OWNER, "state": "inkommen", "text": "2026/"},
        {"text": "2026/99"},  # in the dnr only
        {"text": "insats 1", "year": 2026},
        {"text": "zzz"},
    ]
    nonempty = 0
    for given in combinations:
        filters = CaseFilter(**given)
        expected = _expected(rows, given)
        nonempty += bool(expected)
        assert _pages(app, filters, 2) == expected, given
        assert cases.count_cases(app, forbund="test", filters=filters) == len(expected), given
    assert nonempty > len(combinations) // 2  # the filters are not trivially empty
    given = {"year": 2026, "inriktning": "individ"}
    for limit in (1, 3, 50):
        assert _pages(app, CaseFilter(**given), limit) == _expected(rows, given), limit


def _list_queries(app: App, filters: CaseFilter, after: str | None) -> list[tuple[str, Any]]:
    """The statements (with their parameters) that read a page of cases from the table."""
    with sent_statements(app, "SELECT insats.id") as seen:
        cases.list_cases(app, forbund="test", filters=filters, after=after, limit=2)
    return [(statement, parameters) for statement, parameters in seen if "ORDER BY" in statement]


@pytest.mark.parametrize(
    ("given", "index"),
    [
        ({"state": "inkommen", "year": 2026}, "ix_insats_list_state"),
        ({"year": 2027}, "ix_insats_list_dnr"),
        ({"inriktning": "individ", "party": "Ale kommun"}, "ix_insats_list_dnr"),
    ],
)
def test_a_filtered_page_finds_its_cases_in_an_index_in_list_order(
    app: App, clock: TravelClock, given: dict[str, Any], index: str
) -> None:
    """The filter is checked on the list index's entries in dnr order (models/insats.py),
    not on table rows, so a filter few cases match does not read every row of the förbund
    (bench/web.py); nothing is sorted, on the first page or after a cursor."""
    rows = _many(app, clock)
    assert len(_expected(rows, given)) > 2
    filters = CaseFilter(**given)
    second = cases.list_cases(app, forbund="test", filters=filters, limit=2).next_after
    for after in (None, second):
        queries = _list_queries(app, filters, after)
        assert queries
        registered = query_plan(app, *queries[0])
        assert f"COVERING INDEX {index}" in registered or (
            f"Index Only Scan using {index}" in registered
        ), registered
        for statement, parameters in queries:  # and the ideas after them, by id
            plan = query_plan(app, statement, parameters)
            assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan
            assert "SCAN insats" not in plan and "Seq Scan" not in plan, plan


@pytest.mark.parametrize(
    "given",
    [{"text": "LUCKA i"}, {"text": "lucka", "state": "inkommen"}, {"text": "2026/99"}],
)
@pytest.mark.parametrize("few", [2000, 1])
def test_a_text_is_found_in_the_trigram_index(
    app: App, clock: TravelClock, monkeypatch: pytest.MonkeyPatch, given: dict[str, Any], few: int
) -> None:
    """A text of three letters or more is looked up in the text search's index
    (services/cases/text_search.py), not checked on every case of the förbund. On SQLite
    the index's cases are read by id when they are few, else the list index in dnr order
    is checked against them. PostgreSQL's planner rightly reads a table of a few rows in
    order instead, whatever it is told, so there the text's own condition is planned with
    table and ordered index scans off: its trigram indexes serve it (at 100 000 cases the
    planner chooses them for a rare text by itself, bench/web.py)."""
    monkeypatch.setattr(text_search, "FEW", few)
    rows = _many(app, clock)
    expected = _expected(rows, given)
    assert len(expected) > 2
    filters = CaseFilter(**given)
    if app.db.engine.dialect.name == "postgresql":
        with app.db.engine.connect() as connection:
            condition = text_search.text_condition(connection, given["text"])
        query = select(INSATS_TABLE.c.id).where(condition)
        statement = str(query.compile(app.db.engine, compile_kwargs={"literal_binds": True}))
        avoid = ("enable_seqscan", "enable_indexscan", "enable_indexonlyscan")
        plan = query_plan(app, statement, {}, avoid=avoid)
        assert "ix_insats_title_trgm" in plan and "ix_insats_dnr_trgm" in plan, plan
        return
    assert _pages(app, filters, 2) == expected
    second = cases.list_cases(app, forbund="test", filters=filters, limit=2).next_after
    for after in (None, second):
        queries = _list_queries(app, filters, after)
        assert queries
        for statement, parameters in queries:
            plan = query_plan(app, statement, parameters)
            # Many: the index's cases are a subquery; few: their ids, found by the query
            # before (below), read by id or, on a table without statistics, checked on the
            # list index's entries.
            assert ("VIRTUAL TABLE INDEX" in plan) == (few == 1), plan
            assert "SCAN insats\n" not in plan + "\n", plan
    with sent_statements(app) as sent:
        cases.count_cases(app, forbund="test", filters=filters)
    seen = [(statement, parameters) for statement, parameters in sent if "MATCH" in statement]
    assert seen
    for statement, parameters in seen:
        assert "VIRTUAL TABLE INDEX" in query_plan(app, statement, parameters)


def test_the_text_index_follows_every_change_of_a_dnr_or_title(
    app: App, clock: TravelClock
) -> None:
    """Written by triggers (0026_textsearch_index), whoever writes the case: here a plain
    UPDATE, as an import or the sqlite3 shell would."""
    rows = _many(app, clock)
    first = rows[0].id
    with app.db.transaction() as session:
        case = session.get(Insats, first)
        assert case is not None
        case.title = "Ny rubrik om ÄLDREOMSORG"
        case.dnr = "2031/1"
    found = cases.list_cases(app, forbund="test", filters=CaseFilter(text="äldreomsorg"))
    assert [v.id for v in found.items] == [first]
    assert cases.list_cases(app, forbund="test", filters=CaseFilter(text="2031/")).items
    old_title = CaseFilter(text=rows[0].title)
    shown = cases.list_cases(app, forbund="test", filters=old_title).items
    assert first not in [v.id for v in shown]
