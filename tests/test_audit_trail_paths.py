"""The log's filters read what plain SQL says they should, through the indexes of migration
0028: the kinds offered are every kind the förbund's trail holds, and a kind or an actor pages
through all of its events newest first, nothing lost or repeated. On the demo, both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from workflow.app import App
from workflow.models import AuditEvent, Forbund
from workflow.services.cases import audit_trail
from workflow.services.demo.logins import demo_login
from workflow.services.organisation.forbund import resolve_forbund
from workflow.services.organisation.people import Actor, find_actor
from workflow.vocabulary import Role


def _chef(app: App) -> Actor:
    with app.db.reading() as session:
        return find_actor(
            session, resolve_forbund(session, "akst"), demo_login(Role.FORBUNDSCHEF).email
        )


def _seqs(app: App, **where: str) -> list[int]:
    """The förbund's events with these column values, newest first, in plain SQL."""
    with app.db.reading() as session:
        query = (
            select(AuditEvent.seq)
            .join(Forbund, Forbund.id == AuditEvent.forbund_id)
            .where(Forbund.slug == "akst")
        )
        for name, value in where.items():
            query = query.where(getattr(AuditEvent, name) == value)
        return list(session.execute(query.order_by(AuditEvent.seq.desc())).scalars())


def _paged(app: App, filters: audit_trail.TrailFilter) -> list[int]:
    chef, seen, after = _chef(app), [], None
    while True:
        page = audit_trail.list_events(
            app, chef, forbund="akst", filters=filters, after=after, limit=3
        )
        seen += [e.seq for e in page.items]
        if page.next_after is None:
            return seen
        after = page.next_after


def test_the_kinds_offered_are_every_kind_the_trail_holds(demo_app: App) -> None:
    with demo_app.db.reading() as session:
        expected = sorted(
            set(
                session.execute(
                    select(AuditEvent.subject_kind)
                    .join(Forbund, Forbund.id == AuditEvent.forbund_id)
                    .where(Forbund.slug == "akst")
                ).scalars()
            )
        )
    assert len(expected) > 3
    assert audit_trail.event_kinds(demo_app, _chef(demo_app), forbund="akst") == expected


@pytest.mark.parametrize("kind", ["insats", "report", "mote"])
def test_a_kind_pages_through_all_its_events_newest_first(demo_app: App, kind: str) -> None:
    expected = _seqs(demo_app, subject_kind=kind)
    assert expected, f"the demo has no {kind} events"
    assert _paged(demo_app, audit_trail.TrailFilter(kind=kind)) == expected


def test_an_actor_pages_through_all_their_events_newest_first(demo_app: App) -> None:
    email = demo_login(Role.SEKRETERARE).email
    expected = _seqs(demo_app, actor_email=email)
    assert len(expected) > 3
    assert _paged(demo_app, audit_trail.TrailFilter(actor_email=email)) == expected
