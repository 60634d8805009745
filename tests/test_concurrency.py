"""Two people acting on the same case at once, and many registrations at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlmodel import select

from tests.support import World, email
from workflow.errors import Conflict, FinsamError
from workflow.models import AuditEvent
from workflow.services import cases
from workflow.vocabulary import Role


def run_together(calls: list[Callable[[], Any]]) -> list[Any]:
    """Start every call at the same moment on its own thread; return results or errors."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def worker(index: int) -> None:
        barrier.wait()
        try:
            results[index] = calls[index]()
        except FinsamError as error:
            results[index] = error

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_two_people_firing_on_the_same_case_at_once_one_wins_one_conflicts(world: World) -> None:
    ref = world.fire(world.idea(), "registrera", Role.SEKRETERARE).ref
    seen = world.show(ref).version  # both have the case open at this version

    def chef() -> cases.CaseView:
        return cases.fire(
            world.app,
            ref=ref,
            trigger="starta_beredning",
            actor_email=email(Role.FORBUNDSCHEF),
            forbund="test",
            expected_version=seen,
        )

    def sekreterare() -> cases.CaseView:
        return cases.fire(
            world.app,
            ref=ref,
            trigger="begar_komplettering",
            actor_email=email(Role.SEKRETERARE),
            forbund="test",
            comment="Budget saknas",
            expected_version=seen,
        )

    results = run_together([chef, sekreterare])
    winners = [r for r in results if isinstance(r, cases.CaseView)]
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(winners) == 1 and len(conflicts) == 1, results
    final = world.show(ref)
    assert final.state == winners[0].state and final.version == seen + 1
    with world.app.db.reading() as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.subject_id == final.id)).all()
    assert [e.trigger for e in events].count("starta_beredning") + [
        e.trigger for e in events
    ].count("begar_komplettering") == 1


def test_twenty_concurrent_registrations_get_twenty_distinct_diarienummer(world: World) -> None:
    ideas = [world.idea(title=f"Idé nummer {n}") for n in range(20)]

    def register(ref: str) -> Callable[[], cases.CaseView]:
        return lambda: cases.fire(
            world.app,
            ref=ref,
            trigger="registrera",
            actor_email=email(Role.SEKRETERARE),
            forbund="test",
        )

    results = run_together([register(ref) for ref in ideas])
    assert all(isinstance(r, cases.CaseView) for r in results), results
    numbers = sorted(r.dnr for r in results)
    year = world.clock.now.year
    assert numbers == [f"{year}/{n:03d}" for n in range(1, 21)]
    with world.app.db.reading() as session:
        from workflow.services.cases import audit

        assert all(report.ok for report in audit.verify(session))
