"""The audit trail is append-only and tamper-evident; each förbund has its own chain."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import func, select

from tests.support import World, build_world, drive_happy_path
from workflow.cli.main import run
from workflow.models import AuditEvent
from workflow.services.cases import audit


def verify(world: World) -> list[audit.ChainReport]:
    with world.app.db.reading() as session:
        return audit.verify(session)


def test_the_chain_verifies_after_a_whole_lifecycle(world: World) -> None:
    drive_happy_path(world, world.idea())
    (report,) = verify(world)
    with world.app.db.reading() as session:
        events = session.exec(select(func.count()).select_from(AuditEvent)).one()
    # Ten steps of the case, and the meetings, protocols, avtal and reports around them.
    assert report.ok and report.events == events > 10


def test_the_database_refuses_to_change_or_delete_an_event(world: World) -> None:
    world.idea()
    for statement in ("UPDATE audit_event SET comment = 'x'", "DELETE FROM audit_event"):
        with pytest.raises(DBAPIError, match="append-only"), world.app.db.transaction() as session:
            session.execute(text(statement))


def _tamper(world: World, statement: str) -> None:
    """What someone with direct database access could do: drop the guard, then edit."""
    with world.app.db.transaction() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"))
        else:
            session.execute(text("DROP TRIGGER IF EXISTS audit_event_no_update"))
            session.execute(text("DROP TRIGGER IF EXISTS audit_event_no_delete"))
        session.execute(text(statement))
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only"))


def test_an_event_altered_in_the_database_is_found(
    world: World, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    drive_happy_path(world, world.idea(), until="bifall")
    _tamper(world, "UPDATE audit_event SET actor_email = 'ordforande@test.example' WHERE seq = 4")
    (report,) = verify(world)
    assert (report.ok, report.broken_at) == (False, 4)
    assert run(["--db", db_url, "audit", "verify"]) == 1
    out, err = capsys.readouterr()
    assert "bruten vid händelse 4" in out and err.startswith("fel: ")


def test_a_deleted_event_is_found(world: World) -> None:
    drive_happy_path(world, world.idea(), until="justera")  # events 1..7
    _tamper(world, "DELETE FROM audit_event WHERE seq = 6")
    (report,) = verify(world)
    assert (report.ok, report.broken_at) == (False, 7)
    _tamper(world, "DELETE FROM audit_event WHERE seq >= 6")
    (tail_cut,) = verify(world)
    assert not tail_cut.ok and "saknas" in (tail_cut.problem or "")


def test_each_forbund_keeps_its_own_chain_and_its_own_cases(world: World) -> None:
    other = build_world(world.app, world.clock, slug="annat")
    mine = world.fire(world.idea(), "registrera", "sekreterare")
    theirs = other.fire(other.idea(), "registrera", "sekreterare")
    assert mine.dnr == theirs.dnr  # each förbund numbers its own diarium
    assert world.show(mine.dnr).title == mine.title  # type: ignore[arg-type]
    from workflow.errors import NotFound
    from workflow.services import cases

    only_mine = world.fire(world.idea(), "registrera", "sekreterare")
    with pytest.raises(NotFound):  # the other förbund's people cannot act here
        cases.fire(
            world.app,
            ref=only_mine.dnr,  # type: ignore[arg-type]
            trigger="starta_beredning",
            actor_email="forbundschef@annat.example",
            forbund="test",
        )
    reports = {r.forbund: r for r in verify(world)}
    assert reports["test"].events == 4 and reports["annat"].events == 2
    assert all(r.ok for r in reports.values())


def test_a_chain_longer_than_a_batch_is_verified_across_the_batch_borders(world: World) -> None:
    drive_happy_path(world, world.idea(), until="justera")  # events 1..7
    seen: list[tuple[str, int, int]] = []
    with world.app.db.reading() as session:
        (whole,) = audit.verify(session)
        (batched,) = audit.verify(session, batch=3, progress=lambda *p: seen.append(p))
    assert whole.ok and batched == whole and whole.events >= 7
    # Told after each full batch and at the end, counting up to the whole chain.
    assert [done for _, done, _ in seen] == [*range(3, whole.events + 1, 3), whole.events]
    assert {(forbund, total) for forbund, _, total in seen} == {("test", whole.events)}

    # Event 5 lies in the second batch of three; its successor's link crosses no border.
    _tamper(world, "UPDATE audit_event SET comment = 'omskriven' WHERE seq = 5")
    with world.app.db.reading() as session:
        (report,) = audit.verify(session, batch=3)
    assert (report.ok, report.broken_at, report.events) == (False, 5, 5)
    assert report.problem == "innehållet har ändrats efter att det skrevs"

    # Event 4 opens the second batch: its loss is found where the first batch ends.
    _tamper(world, "DELETE FROM audit_event WHERE seq = 4")
    with world.app.db.reading() as session:
        (report,) = audit.verify(session, batch=3)
    assert (report.ok, report.broken_at, report.problem) == (False, 5, "händelse 4 saknas")
