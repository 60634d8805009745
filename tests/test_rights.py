"""Rights per case and per förbund: who sees a case, who may act on it, which förbund a
command is about, and numbers counted per förbund (issue 9, "Rights per case, per förbund")."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, select, text

from tests.support import World, build_world, email
from workflow.app import App
from workflow.db import MIGRATIONS_DIR
from workflow.errors import BadInput, NotFound
from workflow.services import cases
from workflow.services.board import meetings, views
from workflow.services.cases.records import INSATS_TABLE
from workflow.services.cases.rights import Scope, scopes_clause
from workflow.services.funding import reports
from workflow.services.organisation.forbund import resolve_forbund
from workflow.services.organisation.people import Actor, add_person, find_actor
from workflow.settings import load_settings
from workflow.vocabulary import Role

OWNER = email(Role.PROJEKTAGARE)
OTHER_OWNER = "projektagare2@test.example"


def _second_owner(world: World) -> None:
    with world.app.db.transaction() as session:
        add_person(
            session,
            resolve_forbund(session, world.slug),
            name="Annan projektägare",
            email=OTHER_OWNER,
            roles=[Role.PROJEKTAGARE.value],
        )


def _actor(world: World, who: str) -> Actor:
    with world.app.db.reading() as session:
        return find_actor(session, resolve_forbund(session, world.slug), who)


def test_a_project_owner_sees_only_the_insatser_they_own(world: World) -> None:
    _second_owner(world)
    mine = world.idea(title="Min insats")
    theirs = world.idea(title="Någon annans insats", project_owner=OTHER_OWNER)
    shown = cases.get_case(world.app, ref=mine, forbund=world.slug, viewer_email=OWNER)
    assert shown.title == "Min insats"
    with pytest.raises(NotFound) as hidden:
        cases.get_case(world.app, ref=theirs, forbund=world.slug, viewer_email=OWNER)
    with pytest.raises(NotFound) as missing:
        cases.get_case(world.app, ref="ide-999", forbund=world.slug, viewer_email=OWNER)
    # Never tell a hidden case from a missing one: the same words, only the ref differs.
    assert str(hidden.value).replace(theirs, "X") == str(missing.value).replace("ide-999", "X")
    with pytest.raises(NotFound):
        cases.steps_for(world.app, ref=theirs, actor_email=OWNER, forbund=world.slug)
    # The kansli, the board and the beredningsgrupp see every case of the förbund.
    for role in (Role.SEKRETERARE, Role.STYRELSE_LEDAMOT, Role.BEREDNINGSGRUPP):
        seen = cases.get_case(world.app, ref=theirs, forbund=world.slug, viewer_email=email(role))
        assert seen.title == "Någon annans insats"


def test_visible_and_actionable_scopes_filter_as_the_per_case_rule_does(world: World) -> None:
    _second_owner(world)
    refs = [world.idea(), world.idea(project_owner=OTHER_OWNER)]
    refs.append(world.fire(world.idea(), "registrera", Role.SEKRETERARE).ref)
    owner = _actor(world, OWNER)
    chef = _actor(world, email(Role.FORBUNDSCHEF))
    handlaggare = _actor(world, email(Role.HANDLAGGARE))
    assert cases.visible_scopes(world.app, chef) is None
    owner_scopes = cases.visible_scopes(world.app, owner)
    assert owner_scopes == [
        Scope(None, submitted_by_id=owner.id),
        Scope(None, project_owner_id=owner.id),
    ]
    acting = cases.actionable_scopes(world.app, owner)
    # A projektägare acts where the lifecycle lets them, and only on their own cases.
    assert all(s.project_owner_id == owner.id or s.submitted_by_id == owner.id for s in acting)
    assert any(s.states is not None and "pagaende" in s.states for s in acting)
    with world.app.db.reading() as session:
        rows = session.connection().execute(select(INSATS_TABLE)).all()
        for person in (owner, chef, handlaggare):
            for scopes in (
                cases.visible_scopes(world.app, person),
                cases.actionable_scopes(world.app, person),
            ):
                clause = scopes_clause(scopes)
                query = select(INSATS_TABLE.c.id)
                if clause is not None:
                    query = query.where(clause)
                in_sql = set(session.connection().execute(query).scalars())
                per_case = {
                    row.id for row in rows if scopes is None or any(s.matches(row) for s in scopes)
                }
                assert in_sql == per_case
    seen_by_owner = {row.id for row in rows if cases.can_see(world.app, owner, row)}
    assert len(seen_by_owner) == 2 and len(rows) == 3


def test_another_forbunds_case_is_not_found(world: World) -> None:
    other = build_world(world.app, world.clock, slug="andra")
    other.idea(title="Det andra förbundets första idé")
    theirs = other.idea(title="Det andra förbundets andra idé")
    mine = world.idea()
    assert (mine, theirs) == ("ide-1", "ide-2")  # each förbund counts its own ideas
    chef = email(Role.FORBUNDSCHEF, world.slug)
    for read in (
        lambda: cases.get_case(world.app, ref=theirs, forbund=world.slug, viewer_email=chef),
        lambda: cases.steps_for(world.app, ref=theirs, actor_email=chef, forbund=world.slug),
        lambda: world.fire(theirs, "registrera", Role.SEKRETERARE),
    ):
        with pytest.raises(NotFound, match="inget ärende 'ide-2' i förbundet test"):
            read()
    # The förbund follows from the person: the other förbund's chef finds their own.
    shown = cases.get_case(world.app, ref=theirs, viewer_email=email(Role.FORBUNDSCHEF, "andra"))
    assert shown.title == "Det andra förbundets andra idé"


def test_steps_are_a_dry_run_with_reasons_for_this_person(world: World) -> None:
    ref = world.idea()
    before = world.show(ref)
    steps = {s.trigger: s for s in cases.steps_for(world.app, ref=ref, actor_email=OWNER)}
    assert set(steps) == {"registrera", "ta_tillbaka"}
    assert steps["registrera"].allowed is False
    assert steps["registrera"].reasons == ("det får: administratör, förbundschef, sekreterare",)
    assert steps["ta_tillbaka"].allowed and steps["ta_tillbaka"].reasons == ()
    assert steps["registrera"].field_labels[:2] == ("titel", "inriktning")
    assert world.show(ref) == before  # nothing written
    # A projektägare who submitted an insats they do not own: some steps need the owner.
    running = world.idea(project_owner=email(Role.FORBUNDSCHEF))
    with world.app.db.transaction() as session:
        owner = find_actor(session, resolve_forbund(session, world.slug), OWNER)
        session.connection().execute(
            text(
                "UPDATE insats SET state = 'pagaende', submitted_by_id = :owner WHERE dnr IS NULL"
            ),
            {"owner": owner.id},
        )
    by_owner = {s.trigger: s for s in cases.steps_for(world.app, ref=running, actor_email=OWNER)}
    assert by_owner["begar_andring"].reasons == ("bara projektägaren för insatsen",)
    chef_steps = {
        s.trigger: s
        for s in cases.steps_for(world.app, ref=running, actor_email=email(Role.FORBUNDSCHEF))
    }
    assert chef_steps["begar_andring"].allowed and chef_steps["begar_andring"].needs_comment


def test_a_service_step_is_not_offered_to_people(world: World) -> None:
    """The board's outcomes are `service: protocol` (states/insats.yaml): not steps of their own."""
    ref = world.idea()
    with world.app.db.transaction() as session:
        session.connection().execute(text("UPDATE insats SET state = 'pa_dagordning'"))
    steps = cases.steps_for(world.app, ref=ref, actor_email=email(Role.SEKRETERARE))
    assert "bifall" not in {s.trigger for s in steps}
    others = cases.others_can(world.app, ref=ref, actor_email=email(Role.SEKRETERARE))
    elsewhere = dict(others.elsewhere)
    assert elsewhere["Styrelsen beslutar bifall"].startswith("styrelsens protokoll")


def test_a_project_owner_cannot_report_on_another_owners_insats(world: World) -> None:
    """The slutrapport of someone else's insats was accepted from any projektägare."""
    from tests.funding_world import running

    ref = running(world)
    _second_owner(world)
    # Another owner's insats is not theirs to see at all: not found, as on the pages.
    with pytest.raises(NotFound, match="inget ärende"):
        reports.submit(
            world.app, ref=ref, actor_email=OTHER_OWNER, progress="Allt går bra", forbund="test"
        )
    view = reports.submit(
        world.app, ref=ref, actor_email=OWNER, progress="Verksamheten i gång", forbund="test"
    )
    assert view.status == "inkommen"


def test_the_forbund_follows_from_the_person_when_unambiguous(world: World) -> None:
    build_world(world.app, world.clock, slug="andra")
    ref = world.idea()
    with world.app.db.transaction() as session:
        # Someone in both förbund: only a named förbund decides for them.
        for slug in ("test", "andra"):
            add_person(
                session,
                resolve_forbund(session, slug),
                name="Delad",
                email="delad@example.org",
                roles=[Role.FORBUNDSCHEF.value],
            )
    # No förbund named: the person decides; an e-mail of the other förbund finds its own.
    steps = cases.steps_for(world.app, ref=ref, actor_email=email(Role.SEKRETERARE))
    assert "registrera" in {s.trigger for s in steps if s.allowed}
    # The person's förbund wins over the one named (FINSAM_FORBUND set for another).
    view = cases.fire(
        world.app,
        ref=ref,
        trigger="registrera",
        actor_email=email(Role.SEKRETERARE),
        forbund="andra",
    )
    assert view.dnr is not None
    with pytest.raises(BadInput, match=r"delad@example.org finns i flera förbund \(andra, test\)"):
        cases.steps_for(world.app, ref=ref, actor_email="delad@example.org")
    assert cases.steps_for(world.app, ref=view.ref, actor_email="delad@example.org", forbund="test")
    # Nobody to go by and two förbund: now the choice is open, and listed.
    with pytest.raises(BadInput, match=r"flera förbund finns \(andra, test\)"):
        cases.get_case(world.app, ref=view.ref)
    # An unknown person is the problem, not the choice of förbund.
    with pytest.raises(NotFound) as unknown:
        cases.steps_for(world.app, ref=view.ref, actor_email="ingen@example.org")
    assert "i något förbund" in str(unknown.value) and "andra" not in str(unknown.value)


def test_meetings_are_numbered_per_forbund(world: World) -> None:
    other = build_world(world.app, world.clock, slug="andra")
    for target, place in ((world, "Kungälv"), (other, "Ale"), (other, "Tjörn")):
        meetings.create_meeting(
            world.app,
            actor_email=email(Role.SEKRETERARE, target.slug),
            starts=f"2026-04-{10 + len(place)} 13:00",
            place=place,
            forbund=target.slug,
        )
    listed = views.list_meetings(world.app, forbund="andra").items
    assert [(m.number, m.place) for m in listed] == [(1, "Ale"), (2, "Tjörn")]
    assert views.get_meeting(world.app, ref="2", forbund="andra").place == "Tjörn"
    assert views.get_meeting(world.app, ref="1", forbund="test").place == "Kungälv"
    with pytest.raises(NotFound):
        views.get_meeting(world.app, ref="2", forbund="test")


def test_the_migration_numbers_existing_rows_per_forbund_and_old_refs_still_work(
    tmp_path: Path,
) -> None:
    """A database from before 0007: two förbund whose ideas had ids 1-4 across both."""
    url = f"sqlite:///{tmp_path / 'gammal.db'}"
    engine = create_engine(url)
    with engine.begin() as connection:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["connection"] = connection
        for head in ("0002_meetings", "0003_funding", "0004_reminders", "0005_chain_head_trigger"):
            command.upgrade(config, head)
        now = "2026-01-01 10:00:00.000000"
        for slug in ("a", "b"):
            connection.execute(
                text(
                    "INSERT INTO forbund (slug, name, dnr_pattern, created_at) "
                    "VALUES (:slug, :slug, '{year}/{seq:03d}', :now)"
                ),
                {"slug": slug, "now": now},
            )
        for forbund_id, title in ((1, "A ett"), (2, "B ett"), (1, "A två"), (2, "B två")):
            connection.execute(
                text(
                    "INSERT INTO insats (forbund_id, title, inriktning, budget_requested, state,"
                    " version, created_at, updated_at) VALUES (:f, :t, 'individ', '{}', 'ide',"
                    " 1, :now, :now)"
                ),
                {"f": forbund_id, "t": title, "now": now},
            )
    engine.dispose()
    app = App.create(load_settings(database_url=url))
    try:
        app.db.migrate()
        with app.db.reading() as session:
            numbers = session.connection().execute(
                text("SELECT title, number FROM insats ORDER BY id")
            )
            assert list(numbers) == [("A ett", 1), ("B ett", 1), ("A två", 2), ("B två", 2)]
        b_two = cases.get_case(app, ref="ide-2", forbund="b")
        assert b_two.title == "B två" and b_two.ref == "ide-2"
        # B's old ref ide-4 (its row id) takes no number of B now: it still finds its idea.
        assert cases.get_case(app, ref="ide-4", forbund="b").title == "B två"
        with pytest.raises(NotFound):
            cases.get_case(app, ref="ide-3", forbund="b")  # A's row: never across förbund
    finally:
        app.close()
