"""Lists of cases a page at a time: every case once and in order, filters in SQL, a viewer's
own cases only, and a clear error for a cursor that is not one."""

from __future__ import annotations

import json

import pytest

from tests.support import TravelClock, World, build_world, email, finsam
from workflow.app import App
from workflow.errors import BadInput
from workflow.services import cases
from workflow.services.cases import CaseFilter
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
