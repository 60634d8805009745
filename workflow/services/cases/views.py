"""A case as people see it (CaseView), one case with its history, lists of cases, and
what a person may do on a case now.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, or_
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from workflow.app import App
from workflow.case_fields import PartyRef
from workflow.clock import local
from workflow.errors import BadInput
from workflow.models import (
    AuditEvent,
    Case,
    ForbundRef,
    Insats,
    InsatsParty,
    Party,
    Person,
)
from workflow.services.cases.records import (
    INSATS_TABLE,
    SUBJECT,
    case_ref,
    parties_of,
    read_case,
)
from workflow.services.cases.rights import Scope, scopes_clause, visible_case, visible_scopes
from workflow.services.cases.text_search import text_condition
from workflow.services.organisation.forbund import resolve_forbund
from workflow.services.paging import (
    Page,
    bytewise,
    check_limit,
    decode_cursor,
    decode_error,
    encode_cursor,
)
from workflow.vocabulary import Inriktning, inriktning_label, recommendation_label


@dataclass
class EventView:
    seq: int
    at: datetime
    trigger: str
    from_state: str | None
    to_state: str
    actor: str
    comment: str | None
    data: dict[str, Any]
    # How people read the step and the states (from the lifecycle); the ids above for scripts.
    step_label: str = ""
    from_label: str = ""
    to_label: str = ""


@dataclass
class CaseView:
    """A case as the edges show it; times in local time, labels resolved."""

    id: int
    ref: str
    dnr: str | None
    title: str
    state: str
    state_label: str
    version: int
    inriktning: str
    inriktning_label: str
    malgrupp: str | None
    syfte: str | None
    mal: str | None
    start: date | None
    end: date | None
    owner_party: str | None
    parties: list[str]
    project_owner: str | None
    budget_requested: dict[str, int]
    followup_plan: str | None
    recommendation: str | None
    recommendation_label: str
    recommendation_motivation: str | None
    decision_paragraph: str | None
    agreement_signed_on: date | None
    final_report_on: date | None
    created_at: datetime
    updated_at: datetime
    history: list[EventView] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


_AUDIT_EVENT = AuditEvent.__table__  # type: ignore[attr-defined]
_PERSON = Person.__table__  # type: ignore[attr-defined]

# One case's history and its projektägare's address, read with SQLAlchemy Core as get_case reads
# the case itself (records.read_case): showing a case then configures no ORM mapper and compiles
# no ORM query, about 8 ms of CPU in a command that starts for it (README, "bench/startup.py").
# The events are written with Core inserts, so these reads see them in the same transaction.
_HISTORY = (
    core_select(
        _AUDIT_EVENT.c.seq,
        _AUDIT_EVENT.c.at,
        _AUDIT_EVENT.c.trigger,
        _AUDIT_EVENT.c.from_state,
        _AUDIT_EVENT.c.to_state,
        _AUDIT_EVENT.c.actor_email,
        _AUDIT_EVENT.c.comment,
        _AUDIT_EVENT.c.data,
    )
    .where(
        _AUDIT_EVENT.c.subject_kind == SUBJECT,
        _AUDIT_EVENT.c.subject_id == bindparam("subject_id"),
    )
    .order_by(_AUDIT_EVENT.c.seq)
)
_EMAIL_OF_PERSON = core_select(_PERSON.c.email).where(_PERSON.c.id == bindparam("person_id"))


def view(
    session: Session,
    app: App,
    case: Case,
    *,
    with_history: bool,
    parties: list[PartyRef] | None = None,
    people: dict[int, Person] | None = None,
) -> CaseView:
    zone = app.settings.zone
    lifecycle = app.lifecycles[SUBJECT].lifecycle
    parties = parties if parties is not None else parties_of(session, case.id)
    owner: PartyRef | Party | None = next((p for p in parties if p.id == case.owner_party_id), None)
    if owner is None and case.owner_party_id is not None:
        owner = session.get(Party, case.owner_party_id)
    project_owner: str | None = None
    if case.project_owner_id is not None:
        known = (people or {}).get(case.project_owner_id)
        project_owner = (
            known.email
            if known is not None
            else session.connection()
            .execute(_EMAIL_OF_PERSON, {"person_id": case.project_owner_id})
            .scalar_one_or_none()
        )
    view = CaseView(
        id=case.id,  # type: ignore[arg-type]
        ref=case_ref(case),
        dnr=case.dnr,
        title=case.title,
        state=case.state,
        state_label=lifecycle.label_of(case.state),
        version=case.version,
        inriktning=case.inriktning,
        inriktning_label=inriktning_label(case.inriktning),
        malgrupp=case.malgrupp,
        syfte=case.syfte,
        mal=case.mal,
        start=case.start_date,
        end=case.end_date,
        owner_party=owner.name if owner else None,
        parties=[p.name for p in parties],
        project_owner=project_owner,
        budget_requested={k: int(v) for k, v in sorted(case.budget_requested.items())},
        followup_plan=case.followup_plan,
        recommendation=case.recommendation,
        recommendation_label=recommendation_label(case.recommendation),
        recommendation_motivation=case.recommendation_motivation,
        decision_paragraph=case.decision_paragraph,
        agreement_signed_on=case.agreement_signed_on,
        final_report_on=case.final_report_on,
        created_at=local(case.created_at, zone),
        updated_at=local(case.updated_at, zone),
    )
    if with_history:
        events = session.connection().execute(_HISTORY, {"subject_id": case.id})
        view.history = [
            EventView(
                e.seq,
                local(e.at, zone),
                e.trigger,
                e.from_state,
                e.to_state,
                e.actor_email,
                e.comment,
                e.data,
                lifecycle.step_label(e.trigger, e.from_state),
                lifecycle.label_of(e.from_state),
                lifecycle.label_of(e.to_state),
            )
            for e in events
        ]
    return view


def get_case(
    app: App, *, ref: str, forbund: str | None = None, viewer_email: str | None = None
) -> CaseView:
    """One case with its history. With a viewer, only a case that person may see
    (services/cases/rights.py): any other is not found, in the words of a missing case."""
    with app.db.reading() as session:
        if viewer_email is None:
            organisation = resolve_forbund(session, forbund)
            row, parties = read_case(session, organisation, ref)
            return view(session, app, row, with_history=True, parties=parties)
        # The people and their roles' table are imported only when a viewer is named: a
        # plain `cases show` builds neither (workflow/cli/main.py, start-up).
        from workflow.services.organisation.people import find_actor

        organisation = resolve_forbund(session, forbund, viewer_email)
        viewer = find_actor(session, organisation, viewer_email)
        case = visible_case(session, app, organisation, ref, viewer)
        return view(session, app, case, with_history=True)


@dataclass(frozen=True)
class CaseFilter:
    """Which cases a list shows; every field narrows it (all of them together), in SQL.

    - `state`, `states`: the case is in this state / in one of these (both given: in both).
    - `inriktning`: individ or struktur.
    - `year`: the case's period touches that calendar year: it starts on or before 31 December
      and has no end or ends on or after 1 January. A case without a start date (an idea, most
      drafts) has no period and is not in any year. (The period, not the requested budget's
      years: the period is what the case says it runs; the budget is a request.)
    - `party`: a party's name (any case) or id that takes part in the case or owns it.
    - `text`: found in the diarienummer or the title, case-insensitively (text_search.py).
    - `project_owner_email`: the case's projektägare.
    - `viewer_email`: only the cases this person may see (services/cases/rights.py).
    - `scopes`: only the cases in the union of these scopes (rights.py; () is no case).
    """

    state: str | None = None
    states: tuple[str, ...] = ()
    inriktning: str | None = None
    year: int | None = None
    party: str | None = None
    text: str | None = None
    project_owner_email: str | None = None
    viewer_email: str | None = None
    scopes: tuple[Scope, ...] | None = None


_INSATS = INSATS_TABLE
_INSATS_PARTY = InsatsParty.__table__  # type: ignore[attr-defined]

# Registered cases by dnr (bytewise, the same on both databases), then ideas by id: the keyset
# (dnr IS NULL, dnr, id). A cursor holds the last row's key.
CURSOR_KIND = "cases"
DNR_ORDER = bytewise(_INSATS.c.dnr)


def _case_key(case: Insats) -> tuple[int, str | None, int]:
    return (1 if case.dnr is None else 0, case.dnr, case.id)  # type: ignore[return-value]


def _page_rows(
    session: Session, where: list[ColumnElement[bool]], after: str | None, limit: int
) -> Page[Insats]:
    """The page in at most two index-ordered queries for its cases' ids, then one for their
    rows: registered cases after the cursor's dnr, then, if the page is not full, ideas
    after its id (one query ordered by `dnr IS NULL` could not seek in any index).

    The ids come from the list indexes alone (models/insats.py: every column the filter
    reads but the title is in them, after the dnr), so a filter few cases match is checked
    on index entries rather than on table rows, and the databases choose those indexes
    whether or not they hold statistics; only the page's own rows are read from the table."""
    ideas_after: int | None = None
    dnr_after: str | None = None
    in_ideas = False
    if after is not None:
        flag, dnr, last_id = decode_cursor(CURSOR_KIND, after, 3)
        if flag not in (0, 1) or not isinstance(last_id, int) or (flag == 0) != (dnr is not None):
            raise decode_error(after)
        in_ideas = flag == 1
        dnr_after, ideas_after = (None, last_id) if in_ideas else (dnr, None)
    connection = session.connection()
    ids: list[int] = []
    if not in_ideas:
        query = select(_INSATS.c.id).where(*where, _INSATS.c.dnr.is_not(None))
        if dnr_after is not None:
            query = query.where(dnr_after < DNR_ORDER)
        ids = list(connection.execute(query.order_by(DNR_ORDER).limit(limit + 1)).scalars())
    if len(ids) <= limit:
        query = select(_INSATS.c.id).where(*where, _INSATS.c.dnr.is_(None))
        if ideas_after is not None:
            query = query.where(_INSATS.c.id > ideas_after)
        query = query.order_by(_INSATS.c.id).limit(limit + 1 - len(ids))
        ids += connection.execute(query).scalars()
    shown = ids[:limit]
    found = (
        {case.id: case for case in session.exec(select(Insats).where(col(Insats.id).in_(shown)))}
        if shown
        else {}
    )
    # Both reads are in one session; a case changed in between is shown as it is now (cases
    # are not deleted, but one that were would be left out, not fail the page).
    items = [found[case_id] for case_id in shown if case_id in found]
    more = len(ids) > limit and bool(items)
    return Page(items, encode_cursor(CURSOR_KIND, _case_key(items[-1])) if more else None)


def _party_id(session: Session, organisation: ForbundRef, party: str) -> int:
    wanted = party.strip()
    rows = session.exec(
        select(Party.id, Party.name)
        .where(Party.forbund_id == organisation.id)
        .order_by(col(Party.name))
    ).all()
    for party_id, name in rows:
        if name.casefold() == wanted.casefold() or (wanted.isdigit() and party_id == int(wanted)):
            return party_id  # type: ignore[return-value]
    known = ", ".join(name for _, name in rows) or "inga"
    raise BadInput(f"okänd part {party!r} i förbundet {organisation.slug}; kända: {known}")


def _person_id(session: Session, organisation: ForbundRef, email: str) -> int:
    person_id = session.exec(
        select(Person.id).where(
            Person.forbund_id == organisation.id, Person.email == email.strip().lower()
        )
    ).first()
    if person_id is None:
        raise BadInput(
            f"ingen person med e-post {email!r} i förbundet {organisation.slug}; "
            "se 'finsam people list'"
        )
    return person_id


def filter_conditions(
    session: Session,
    app: App,
    organisation: ForbundRef,
    filters: CaseFilter,
    *,
    in_list_order: bool = True,
) -> list[ColumnElement[bool]]:
    """The filter as WHERE conditions on the insats table (the förbund's cases only), for a
    page in list order or (`in_list_order=False`) a count."""
    lifecycle = app.lifecycles[SUBJECT].lifecycle
    for state in (filters.state, *filters.states):
        if state is not None and state not in lifecycle.states:
            raise BadInput(f"okänt tillstånd {state!r}; kända: {', '.join(lifecycle.states)}")
    known_inriktning = [i.value for i in Inriktning]
    if filters.inriktning is not None and filters.inriktning not in known_inriktning:
        raise BadInput(
            f"okänd inriktning {filters.inriktning!r}; kända: {', '.join(known_inriktning)}"
        )
    where: list[ColumnElement[bool]] = [_INSATS.c.forbund_id == organisation.id]
    if filters.state is not None:
        where.append(_INSATS.c.state == filters.state)
    if filters.states:
        where.append(_INSATS.c.state.in_(sorted(set(filters.states))))
    if filters.inriktning is not None:
        where.append(_INSATS.c.inriktning == filters.inriktning)
    if filters.year is not None:
        if isinstance(filters.year, bool) or not 1900 <= filters.year <= 2200:
            raise BadInput(f"ogiltigt år {filters.year!r}; ange ett år som 2026")
        where.append(_INSATS.c.start_date <= date(filters.year, 12, 31))
        where.append(
            or_(_INSATS.c.end_date.is_(None), _INSATS.c.end_date >= date(filters.year, 1, 1))
        )
    if filters.party is not None:
        party_id = _party_id(session, organisation, filters.party)
        takes_part = (
            select(_INSATS_PARTY.c.insats_id)
            .where(_INSATS_PARTY.c.insats_id == _INSATS.c.id, _INSATS_PARTY.c.party_id == party_id)
            .exists()
        )
        where.append(or_(_INSATS.c.owner_party_id == party_id, takes_part))
    if filters.text is not None and filters.text.strip():
        text = filters.text.strip()
        where.append(text_condition(session.connection(), text, in_list_order=in_list_order))
    if filters.project_owner_email is not None:
        owner_id = _person_id(session, organisation, filters.project_owner_email)
        where.append(_INSATS.c.project_owner_id == owner_id)
    if filters.viewer_email is not None:
        from workflow.services.organisation.people import find_actor  # as in get_case

        viewer = find_actor(session, organisation, filters.viewer_email)
        visible = scopes_clause(visible_scopes(app, viewer))
        if visible is not None:
            where.append(visible)
    within = scopes_clause(filters.scopes)
    if within is not None:
        where.append(within)
    return where


def filter_forbund(session: Session, forbund: str | None, filters: CaseFilter) -> ForbundRef:
    """The förbund a filtered list reads (the viewer's, when the filter names one)."""
    return resolve_forbund(session, forbund, filters.viewer_email)


def _views(session: Session, app: App, found: Sequence[Insats]) -> list[CaseView]:
    """The views of these cases: their parties, owner parties and project owners in three
    queries, whatever the number of cases."""
    ids = [case.id for case in found]
    parties: dict[int, list[PartyRef]] = {case_id: [] for case_id in ids}  # type: ignore[misc]
    if ids:
        for insats_id, party_id, kind, name in session.exec(
            select(InsatsParty.insats_id, Party.id, Party.kind, Party.name)
            .join(Party, col(Party.id) == col(InsatsParty.party_id))
            .where(col(InsatsParty.insats_id).in_(ids))
            .order_by(col(InsatsParty.insats_id), col(Party.id))
        ):
            parties[insats_id].append(PartyRef(party_id, kind, name))  # type: ignore[arg-type]
    # Owners not among a case's parties: loaded once into the session, where `view` finds them.
    missing = {
        case.owner_party_id
        for case in found
        if case.owner_party_id is not None
        and all(p.id != case.owner_party_id for p in parties[case.id])  # type: ignore[index]
    }
    owners = (
        list(session.exec(select(Party).where(col(Party.id).in_(sorted(missing)))))
        if missing
        else []
    )
    wanted = sorted({case.project_owner_id for case in found if case.project_owner_id})
    people = (
        {p.id: p for p in session.exec(select(Person).where(col(Person.id).in_(wanted)))}
        if wanted
        else {}
    )
    views = [
        view(session, app, case, with_history=False, parties=parties[case.id], people=people)  # type: ignore[arg-type, index]
        for case in found
    ]
    del owners  # kept alive until every view has read its owner from the session
    return views


def list_cases(
    app: App,
    *,
    forbund: str | None = None,
    filters: CaseFilter = CaseFilter(),
    after: str | None = None,
    limit: int = 50,
) -> Page[CaseView]:
    """One page of the förbund's cases that match the filter: registered cases by dnr, then
    ideas by id (the same order on SQLite and PostgreSQL). `after` is the `next_after` of the
    page before; `limit` 1 to 500."""
    check_limit(limit)
    with app.db.reading() as session:
        organisation = filter_forbund(session, forbund, filters)
        where = filter_conditions(session, app, organisation, filters)
        page = _page_rows(session, where, after, limit)
        return Page(_views(session, app, page.items), page.next_after)


def count_cases(
    app: App,
    *,
    forbund: str | None = None,
    filters: CaseFilter = CaseFilter(),
    up_to: int | None = None,
) -> int:
    """How many of the förbund's cases match the filter (one query). With `up_to`, counted
    only up to one more than that (a start page's "fler än 1 000"), reading at most that
    many rows however many match."""
    with app.db.reading() as session:
        organisation = filter_forbund(session, forbund, filters)
        where = filter_conditions(session, app, organisation, filters, in_list_order=False)
        if up_to is None:
            query = select(func.count()).select_from(_INSATS).where(*where)
        else:
            found = select(_INSATS.c.id).where(*where).limit(up_to + 1).subquery()
            query = select(func.count()).select_from(found)
        return int(session.exec(query).one())


def iter_cases(
    app: App,
    *,
    forbund: str | None = None,
    filters: CaseFilter = CaseFilter(),
    batch: int = 500,
) -> Iterator[CaseView]:
    """Every matching case in list order, a page at a time (for exports and streaming): the
    memory of one page, whatever the number of cases."""
    after: str | None = None
    while True:
        page = list_cases(app, forbund=forbund, filters=filters, after=after, limit=batch)
        yield from page.items
        if page.next_after is None:
            return
        after = page.next_after
