"""The avtal of a granted insats: § reference, period, amounts per year, report plan, payment
terms and signatures. The insats starts (avtal -> pågående, trigger `starta`, a step only this
service performs) in the same transaction as the last signature when the start date has come,
or later by `start_due`.

The avtal row is the one record of the signatures (the lifecycle's `agreement_signed` reads
it); the case's 'Avtal undertecknat' only mirrors it. The avtal's period is the decided one:
a start earlier or later than planned, like other amounts, goes through an ändring
(`begar_andring`), a new beredning and a new decision, after which a new avtal supersedes this.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, literal_column
from sqlmodel import Session, col, select

from workflow.app import App
from workflow.clock import local_date
from workflow.errors import BadInput, NotFound, NotPermitted
from workflow.models import Agreement, BudgetLine, ForbundRef, Insats, Report
from workflow.services.cases import case_ref, find_case, fire_in
from workflow.services.cases.change import begin_change
from workflow.services.funding.report_plan import KIND_LABELS, plan
from workflow.services.funding.support import (
    check_period,
    parse_amounts,
    record,
    require_viewer,
    years_of,
)
from workflow.services.organisation.forbund import resolve_forbund
from workflow.services.organisation.people import Actor
from workflow.services.paging import Keyset, Page, bytewise, check_limit
from workflow.services.reminders import planner as reminders
from workflow.text_guard import check_free_text, check_one_line

# An avtal is drawn up once the protocol is justerat; one may also be registered afterwards
# for an insats that already runs (an avtal signed on paper before the system was used).
ACTIVE = ("utkast", "undertecknat")


@dataclass
class PlannedView:
    id: int
    kind: str
    kind_label: str
    period_start: date
    period_end: date
    due_on: date
    status: str


@dataclass
class AgreementView:
    id: int
    ref: str
    title: str
    decision_paragraph: str
    start: date
    end: date
    amounts: dict[str, int]
    payment_terms: str
    early_termination: str | None
    forbund_signed_on: date | None
    owner_signed_on: date | None
    status: str
    case_state: str
    reports: list[PlannedView] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def active_agreement(session: Session, case: Insats) -> Agreement | None:
    return session.exec(
        select(Agreement)
        .where(Agreement.insats_id == case.id, col(Agreement.status).in_(ACTIVE))
        .order_by(col(Agreement.id).desc())
    ).first()


def view_of(
    session: Session, case: Insats, agreement: Agreement, reports: Iterable[Report] | None = None
) -> AgreementView:
    """The avtal with its report plan (read here unless `reports`, in due order, are given)."""
    if reports is None:
        reports = session.exec(
            select(Report)
            .where(Report.agreement_id == agreement.id)
            .order_by(col(Report.due_on), col(Report.id))
        )
    return AgreementView(
        id=agreement.id,  # type: ignore[arg-type]
        ref=case_ref(case),
        title=case.title,
        decision_paragraph=agreement.decision_paragraph,
        start=agreement.start_date,
        end=agreement.end_date,
        amounts={k: int(v) for k, v in sorted(agreement.amounts.items())},
        payment_terms=agreement.payment_terms,
        early_termination=agreement.early_termination,
        forbund_signed_on=agreement.forbund_signed_on,
        owner_signed_on=agreement.owner_signed_on,
        status=agreement.status,
        case_state=case.state,
        reports=[
            PlannedView(
                r.id,  # type: ignore[arg-type]
                r.kind,
                KIND_LABELS[r.kind],
                r.period_start,
                r.period_end,
                r.due_on,
                r.status,
            )
            for r in reports
        ],
    )


def create(
    app: App,
    *,
    ref: str,
    actor_email: str,
    amounts: dict[Any, Any] | None = None,
    payment_terms: str | None = None,
    early_termination: str | None = None,
    forbund: str | None = None,
) -> AgreementView:
    """Draw up the avtal from the decision: the case's decided period, amounts from its
    granted budget lines (or fewer); the report plan follows the period and [funding]."""
    now = app.clock()
    settings = app.settings.funding
    parsed = parse_amounts(amounts, "avtalsbelopp") if amounts else None
    terms = check_free_text(payment_terms or settings.payment_terms, "betalningsvillkoren")
    termination = check_free_text(early_termination, "klausulen") if early_termination else None
    with app.db.transaction() as session:
        organisation, head, actor = begin_change(session, forbund, actor_email)
        app.actions.require(actor, "create_agreement")
        case = find_case(session, organisation, ref)
        if case.state not in app.lifecycles["insats"].lifecycle.tagged("agreement_open"):
            raise NotPermitted(
                f"{case_ref(case)} är i tillståndet {case.state!r}; avtal upprättas när "
                "protokollet med bifallet är justerat (tillståndet avtal)"
            )
        previous = active_agreement(session, case)
        if case.state == "pagaende" and previous is not None:
            raise NotPermitted(
                f"{case_ref(case)} har redan ett avtal; en ändring av belopp eller period "
                "går via 'begar_andring', beredning och nytt beslut"
            )
        period_start, period_end = case.start_date, case.end_date
        if period_start is None or period_end is None:
            raise BadInput(
                f"{case_ref(case)} saknar period; en ändring av perioden går via 'begar_andring'"
            )
        check_period(period_start, period_end)
        granted = {
            str(line.year): line.granted_tkr
            for line in session.exec(select(BudgetLine).where(BudgetLine.insats_id == case.id))
        }
        chosen = (
            parsed
            if parsed is not None
            else {
                y: granted[y] for y in map(str, years_of(period_start, period_end)) if y in granted
            }
        )
        if not chosen:
            raise BadInput(
                f"{case_ref(case)} har inga beviljade medel för perioden; registrera beslutet "
                "med 'finsam budget grant' först"
            )
        for year, tkr in chosen.items():
            if not period_start.year <= int(year) <= period_end.year:
                raise BadInput(f"avtalsbelopp för {year} ligger utanför perioden")
            if tkr > granted.get(year, 0):
                raise BadInput(
                    f"avtalet ger {tkr} tkr för {year} men styrelsen beviljade "
                    f"{granted.get(year, 0)} tkr; ett högre belopp kräver nytt beslut"
                )
        paragraph = check_one_line(case.decision_paragraph or "", "beslutets paragraf", 40)
        if previous is not None:
            _supersede(session, head, case, previous, actor, now)
        agreement = Agreement(
            forbund_id=organisation.id,  # type: ignore[arg-type]
            insats_id=case.id,  # type: ignore[arg-type]
            decision_paragraph=paragraph,
            start_date=period_start,
            end_date=period_end,
            amounts=chosen,
            payment_terms=terms,
            early_termination=termination,
            created_at=now,
        )
        session.add(agreement)
        record(
            session,
            head,
            kind="agreement",
            row_id=_id(session, agreement),
            ref=case_ref(case),
            from_state=None,
            to_state="utkast",
            trigger="uppratta_avtal",
            actor=actor,
            now=now,
            data={"period": [period_start, period_end], "amounts": chosen, "paragraph": paragraph},
        )
        done = {
            (r.kind, r.due_on)
            for r in session.exec(
                select(Report).where(
                    Report.insats_id == case.id, col(Report.status).in_(("inkommen", "godkand"))
                )
            )
        }
        for item in plan(period_start, period_end, settings):
            if (item.kind, item.due_on) in done:
                continue
            report = Report(
                forbund_id=organisation.id,  # type: ignore[arg-type]
                insats_id=case.id,  # type: ignore[arg-type]
                agreement_id=agreement.id,  # type: ignore[arg-type]
                kind=item.kind,
                period_start=item.period_start,
                period_end=item.period_end,
                due_on=item.due_on,
                updated_at=now,
            )
            session.add(report)
            record(
                session,
                head,
                kind="report",
                row_id=_id(session, report),
                ref=f"{case_ref(case)} {KIND_LABELS[item.kind]} {item.due_on.isoformat()}",
                from_state=None,
                to_state="vantar",
                trigger="planera_rapport",
                actor=actor,
                now=now,
            )
        session.flush()
        reminders.replan_insats(session, app, organisation, case.id)  # type: ignore[arg-type]
        return view_of(session, case, agreement)


def _id(session: Session, row: Any) -> int:
    session.flush()
    return int(row.id)


def _supersede(
    session: Session, head: Any, case: Insats, old: Agreement, actor: Actor, now: Any
) -> None:
    """A new avtal after an ändring replaces the old one and the reports it still awaited."""
    for report in session.exec(
        select(Report).where(
            Report.agreement_id == old.id, col(Report.status).in_(("vantar", "komplettering"))
        )
    ):
        before = report.status
        report.status = "ersatt"
        report.updated_at = now
        session.add(report)
        record(
            session,
            head,
            kind="report",
            row_id=report.id,  # type: ignore[arg-type]
            ref=f"{case_ref(case)} {KIND_LABELS[report.kind]} {report.due_on.isoformat()}",
            from_state=before,
            to_state="ersatt",
            trigger="ersatt_av_nytt_avtal",
            actor=actor,
            now=now,
        )
    before = old.status
    old.status = "ersatt"
    session.add(old)
    record(
        session,
        head,
        kind="agreement",
        row_id=old.id,  # type: ignore[arg-type]
        ref=case_ref(case),
        from_state=before,
        to_state="ersatt",
        trigger="ersatt_av_nytt_avtal",
        actor=actor,
        now=now,
    )


def _maybe_start(
    session: Session,
    app: App,
    forbund: ForbundRef,
    case: Insats,
    agreement: Agreement,
    actor: Actor,
    now: Any,
) -> bool:
    """Fire `starta` when the avtal is signed and its start date has come."""
    today = local_date(now, app.settings.zone)
    if case.state != "avtal" or agreement.status != "undertecknat":
        return False
    if agreement.start_date > today:
        return False
    signatures = [d for d in (agreement.forbund_signed_on, agreement.owner_signed_on) if d]
    signed = max(signatures)
    fire_in(
        session,
        app,
        forbund=forbund,
        case=case,
        actor=actor,
        trigger="starta",
        now=now,
        values={"agreement_signed_on": signed.isoformat()},
        service="agreements",
    )
    return True


def sign(
    app: App,
    *,
    ref: str,
    actor_email: str,
    forbund_signed_on: date | None = None,
    owner_signed_on: date | None = None,
    forbund: str | None = None,
) -> AgreementView:
    """Record the signatures (förbundet and insatsägaren); when both are there, the avtal is
    signed and the insats starts if its start date has come."""
    now = app.clock()
    today = local_date(now, app.settings.zone)
    if forbund_signed_on is None and owner_signed_on is None:
        raise BadInput("ange --forbund-signed och/eller --owner-signed (ÅÅÅÅ-MM-DD)")
    for label, day in (("förbundets", forbund_signed_on), ("insatsägarens", owner_signed_on)):
        if day is not None and day > today:
            raise BadInput(f"{label} underskrift {day.isoformat()} ligger i framtiden")
    with app.db.transaction() as session:
        organisation, head, actor = begin_change(session, forbund, actor_email)
        app.actions.require(actor, "sign_agreement")
        case = find_case(session, organisation, ref)
        agreement = active_agreement(session, case)
        if agreement is None:
            raise NotFound(
                f"{case_ref(case)} har inget avtal; upprätta det med 'finsam agreements create'"
            )
        before = agreement.status
        if forbund_signed_on is not None:
            agreement.forbund_signed_on = forbund_signed_on
        if owner_signed_on is not None:
            agreement.owner_signed_on = owner_signed_on
        if agreement.forbund_signed_on and agreement.owner_signed_on:
            agreement.status = "undertecknat"
        session.add(agreement)
        record(
            session,
            head,
            kind="agreement",
            row_id=agreement.id,  # type: ignore[arg-type]
            ref=case_ref(case),
            from_state=before,
            to_state=agreement.status,
            trigger="underteckna",
            actor=actor,
            now=now,
            data={
                "forbund_signed_on": agreement.forbund_signed_on,
                "owner_signed_on": agreement.owner_signed_on,
            },
        )
        _maybe_start(session, app, organisation, case, agreement, actor, now)
        session.flush()
        reminders.replan_insats(session, app, organisation, case.id)  # type: ignore[arg-type]
        return view_of(session, case, agreement)


def start_due(app: App, *, actor_email: str, forbund: str | None = None) -> list[str]:
    """Start every insats whose avtal is signed and whose start date has come (scheduler tick)."""
    now = app.clock()
    started: list[str] = []
    with app.db.transaction() as session:
        organisation, _head, actor = begin_change(session, forbund, actor_email)
        app.actions.require(actor, "start_insatser")
        for case, agreement in session.exec(
            select(Insats, Agreement)
            .join(Agreement, col(Agreement.insats_id) == col(Insats.id))
            .where(
                Insats.forbund_id == organisation.id,
                Insats.state == "avtal",
                Agreement.status == "undertecknat",
            )
            .order_by(col(Insats.dnr))
        ).all():
            if _maybe_start(session, app, organisation, case, agreement, actor, now):
                started.append(case_ref(case))
    return started


def get(app: App, *, ref: str, forbund: str | None = None) -> AgreementView:
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        case = find_case(session, organisation, ref)
        agreement = (
            active_agreement(session, case)
            or session.exec(
                select(Agreement)
                .where(Agreement.insats_id == case.id)
                .order_by(col(Agreement.id).desc())
            ).first()
        )
        if agreement is None:
            raise NotFound(f"{case_ref(case)} har inget avtal")
        return view_of(session, case, agreement)


# The lists of the Avtal page, a page at a time: insatser by diarienummer (bytewise, the same
# on both databases), then the avtal's (or, waiting for one, the insats's) number.
_AGREEMENT = Agreement.__table__  # type: ignore[attr-defined]
_CASE = Insats.__table__  # type: ignore[attr-defined]
_DNR = bytewise(_CASE.c.dnr)
TO_CREATE_ORDER = Keyset("agreements_to_create", (_DNR, _CASE.c.id))
SECTION_ORDER = {
    "utkast": Keyset("agreements_unsigned", (_DNR, _AGREEMENT.c.id)),
    "undertecknat": Keyset("agreements_signed", (_DNR, _AGREEMENT.c.id)),
}
# Rows of each list on the Avtal page.
PAGE_LIMIT = 50


@dataclass
class ToCreate:
    """A granted insats waiting for its avtal."""

    ref: str
    title: str
    decision_paragraph: str | None
    start: date | None
    end: date | None


@dataclass
class AgreementOverview:
    """The förbundschef's lists, a page of each: granted insatser waiting for their avtal, avtal
    still missing a signature, and the signed ones (each with where its next page starts)."""

    to_create: Page[ToCreate]
    unsigned: Page[AgreementView]
    signed: Page[AgreementView]


def _active(agreement: Any) -> ColumnElement[bool]:
    """The avtal (a table or alias of agreement) is its insats's active one: utkast or
    undertecknat, and no later one is (active_agreement, in SQL)."""
    later = Agreement.__table__.alias("later")  # type: ignore[attr-defined]
    return and_(
        agreement.c.status.in_(ACTIVE),
        ~exists(
            select(later.c.id).where(
                later.c.insats_id == agreement.c.insats_id,
                later.c.status.in_(ACTIVE),
                later.c.id > agreement.c.id,
            )
        ),
    )


def _open_cases(app: App, organisation: ForbundRef) -> ColumnElement[bool]:
    """The förbund's registered insatser in the states where an avtal is written or runs."""
    return and_(
        _CASE.c.forbund_id == organisation.id,
        _CASE.c.state.in_(app.lifecycles["insats"].lifecycle.tagged("agreement_open")),
        _CASE.c.dnr.is_not(None),
    )


def _of_status(organisation: ForbundRef, status: str) -> ColumnElement[bool]:
    """The avtal of one status, in the form that reads each list's rows from where they are
    few. The unsigned: a handful waiting for signatures, read from their partial index
    (ix_agreement_unsigned: the förbund and the status as a literal, the index's own words, as
    SQLite cannot match a bound parameter to it) and sorted; picked out of a walk of the open
    insatser by dnr they cost a look-up per open insats. The signed: most open insatser have
    one, so that walk finds a page at once; a condition on the avtal's förbund would draw
    SQLite onto the avtal's förbund index, to read and sort every signed avtal."""
    if status == "utkast":
        return and_(
            _AGREEMENT.c.forbund_id == organisation.id,
            _AGREEMENT.c.status == literal_column("'utkast'"),
        )
    return _AGREEMENT.c.status == status


def _to_create(
    session: Session, app: App, organisation: ForbundRef, after: str | None, limit: int
) -> Page[ToCreate]:
    # The state alone (not every open state as well): the insatser waiting in 'avtal' are then
    # one range of the list index led by the state, in dnr order (ix_insats_list_state), not
    # picked out of a walk of all the förbund's insatser.
    query = select(Insats).where(
        _CASE.c.forbund_id == organisation.id,
        _CASE.c.state == "avtal",
        _CASE.c.dnr.is_not(None),
        ~exists(
            select(_AGREEMENT.c.id).where(
                _AGREEMENT.c.insats_id == _CASE.c.id, _AGREEMENT.c.status.in_(ACTIVE)
            )
        ),
    )
    rows = session.exec(TO_CREATE_ORDER.page(query, after, limit)).all()
    page = TO_CREATE_ORDER.cut(rows, limit, key=lambda case: (case.dnr, case.id))
    return Page(
        [
            ToCreate(
                case_ref(case), case.title, case.decision_paragraph, case.start_date, case.end_date
            )
            for case in page.items
        ],
        page.next_after,
    )


def _section(
    session: Session,
    app: App,
    organisation: ForbundRef,
    status: str,
    after: str | None,
    limit: int,
) -> Page[AgreementView]:
    """A page of the active avtal of one status, with their report plans: two queries."""
    order = SECTION_ORDER[status]
    query = (
        select(Agreement, Insats)
        .join(Insats, col(Insats.id) == col(Agreement.insats_id))
        .where(
            _open_cases(app, organisation), _of_status(organisation, status), _active(_AGREEMENT)
        )
    )
    rows = session.exec(order.page(query, after, limit)).all()  # type: ignore[type-var]
    page = order.cut(rows, limit, key=lambda row: (row[1].dnr, row[0].id))
    plans: dict[int | None, list[Report]] = {agreement.id: [] for agreement, _case in page.items}
    if plans:
        for report in session.exec(
            select(Report)
            .where(col(Report.agreement_id).in_(plans))
            .order_by(col(Report.due_on), col(Report.id))
        ):
            plans[report.agreement_id].append(report)
    return Page(
        [view_of(session, case, agreement, plans[agreement.id]) for agreement, case in page.items],  # type: ignore[index]
        page.next_after,
    )


def overview(
    app: App, *, viewer_email: str, forbund: str | None = None, limit: int | None = None
) -> AgreementOverview:
    """The first page of each list of the Avtal page, in five queries whatever the number of
    insatser (the förbund and reader aside); the lists go on with `to_create_page` and
    `agreements_page`."""
    limit = check_limit(PAGE_LIMIT if limit is None else limit)
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        require_viewer(session, app, organisation, viewer_email)
        return AgreementOverview(
            _to_create(session, app, organisation, None, limit),
            _section(session, app, organisation, "utkast", None, limit),
            _section(session, app, organisation, "undertecknat", None, limit),
        )


def to_create_page(
    app: App,
    *,
    viewer_email: str,
    forbund: str | None = None,
    after: str | None = None,
    limit: int | None = None,
) -> Page[ToCreate]:
    """A page of the granted insatser waiting for their avtal, by diarienummer
    (TO_CREATE_ORDER); `after` is the `next_after` of the page before."""
    limit = check_limit(PAGE_LIMIT if limit is None else limit)
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        require_viewer(session, app, organisation, viewer_email)
        return _to_create(session, app, organisation, after, limit)


def agreements_page(
    app: App,
    *,
    viewer_email: str,
    status: str,
    forbund: str | None = None,
    after: str | None = None,
    limit: int | None = None,
) -> Page[AgreementView]:
    """A page of the active avtal of one status (utkast: not yet signed by both; undertecknat)
    by diarienummer, each with its report plan; `after` is the `next_after` of the page
    before. Two queries whatever the number of avtal."""
    if status not in SECTION_ORDER:
        raise BadInput(f"okänd avtalsstatus {status!r}; välj {' eller '.join(SECTION_ORDER)}")
    limit = check_limit(PAGE_LIMIT if limit is None else limit)
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        require_viewer(session, app, organisation, viewer_email)
        return _section(session, app, organisation, status, after, limit)
