"""The audit chain under concurrency and faults: every change is one event, or nothing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import func, select

from tests.support import World
from workflow.errors import Conflict
from workflow.models import AuditEvent
from workflow.services.cases import audit


def _events(world: World) -> int:
    with world.app.db.reading() as session:
        return int(session.exec(select(func.count()).select_from(AuditEvent)).one())


def test_fifty_concurrent_changes_across_cases_of_one_forbund_leave_a_chain_that_verifies(
    world: World,
) -> None:
    refs = [world.idea(title=f"Insats {n:02d}") for n in range(25)]
    before = _events(world)

    def change(job: tuple[int, str]) -> str:
        number, ref = job
        if number % 2 == 0:
            return world.fire(ref, "registrera", "sekreterare").dnr or ""
        return world.idea(title=f"Ny insats {number:02d}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(change, [(n, refs[n // 2]) for n in range(50)]))

    dnrs = results[0::2]
    assert len(set(dnrs)) == 25 and all(dnrs)  # one diarienummer each, none twice
    assert _events(world) == before + 50
    [report] = audit.verify_all(world.app)
    assert report.ok and report.events == before + 50


_INJECT = {
    "sqlite": [
        "CREATE TRIGGER inject_fault BEFORE INSERT ON audit_event "
        "BEGIN SELECT RAISE(ABORT, 'injected fault'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION inject_fault() RETURNS trigger AS $$ BEGIN "
        "RAISE EXCEPTION 'injected fault'; END; $$ LANGUAGE plpgsql",
        "CREATE TRIGGER inject_fault BEFORE INSERT ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION inject_fault()",
    ],
}
_HEAL = {
    "sqlite": ["DROP TRIGGER inject_fault"],
    "postgresql": ["DROP TRIGGER inject_fault ON audit_event", "DROP FUNCTION inject_fault()"],
}


def test_when_the_audit_insert_fails_after_the_state_changed_nothing_of_the_change_persists(
    world: World,
) -> None:
    ref = world.idea()
    seen = world.show(ref)
    before = _events(world)
    dialect = world.app.db.engine.dialect.name
    with world.app.db.transaction() as session:
        for statement in _INJECT[dialect]:
            session.execute(text(statement))

    # SQLite reports the trigger's abort as a constraint failure (the service says: conflict,
    # try again); PostgreSQL as the raised error itself. Either way the change is refused.
    with pytest.raises((DBAPIError, Conflict)):
        world.fire(ref, "registrera", "sekreterare")

    after = world.show(ref)
    assert (after.state, after.version, after.dnr) == (seen.state, seen.version, None)
    assert _events(world) == before
    with world.app.db.transaction() as session:
        for statement in _HEAL[dialect]:
            session.execute(text(statement))
    assert all(r.ok for r in audit.verify_all(world.app))
    registered = world.fire(ref, "registrera", "sekreterare")  # the number was not used up
    assert registered.state != seen.state and registered.dnr
    assert all(r.ok for r in audit.verify_all(world.app))
