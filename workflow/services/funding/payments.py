"""Payments to the insatsägare under a signed avtal. Payment condition ([funding]
payment_waits_for_report): a payment waits until the reports due before it are approved; it is
then released in the same transaction as the approval."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from workflow.app import App
from workflow.clock import local_date
from workflow.errors import BadInput, NotFound, NotPermitted
from workflow.models import BudgetLine, Insats, Payment, Report
from workflow.services.cases import case_ref, find_case
from workflow.services.cases.audit import ChainHead
from workflow.services.cases.change import begin_change
from workflow.services.funding.report_plan import KIND_LABELS
from workflow.services.funding.support import (
    open_case,
    parse_tkr,
    parse_year,
    record,
    require_viewer,
)
from workflow.services.organisation.forbund import resolve_forbund
from workflow.services.organisation.people import Actor
from workflow.services.paging import Keyset, Page, check_limit


@dataclass
class PaymentView:
    id: int
    ref: str
    year: int
    amount_tkr: int
    requested_on: date
    status: str
    paid_on: date | None
    waits_for: str | None
    waits_for_report_id: int | None = None
    title: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def paid_per_year(session: Session, case: Insats) -> dict[int, int]:
    paid: dict[int, int] = {}
    for payment in session.exec(
        select(Payment).where(Payment.insats_id == case.id, Payment.status == "utbetald")
    ):
        paid[payment.year] = paid.get(payment.year, 0) + payment.amount_tkr
    return paid


def _blocking_report(session: Session, agreement_id: int, by: date) -> Report | None:
    """The earliest report due on or before `by` that is not yet approved."""
    return session.exec(
        select(Report)
        .where(
            Report.agreement_id == agreement_id,
            col(Report.due_on) <= by,
            col(Report.status).in_(("vantar", "inkommen", "komplettering")),
        )
        .order_by(col(Report.due_on), col(Report.id))
    ).first()


def _view(case: Insats, payment: Payment, waits: Report | None) -> PaymentView:
    return PaymentView(
        id=payment.id,  # type: ignore[arg-type]
        ref=case_ref(case),
        year=payment.year,
        amount_tkr=payment.amount_tkr,
        requested_on=payment.requested_on,
        status=payment.status,
        paid_on=payment.paid_on,
        waits_for=None
        if waits is None
        else f"{KIND_LABELS[waits.kind]} förfallen {waits.due_on.isoformat()} (rapport nr {waits.id})",
        waits_for_report_id=waits.id if waits else None,
        title=case.title,
    )


def request(
    app: App, *, ref: str, year: Any, amount: Any, actor_email: str, forbund: str | None = None
) -> PaymentView:
    """Pay (part of) a year's grant; held when a report due before today awaits approval."""
    from workflow.services.funding.agreements import active_agreement

    now = app.clock()
    today = local_date(now, app.settings.zone)
    year = parse_year(year)
    tkr = parse_tkr(amount, "utbetalning")
    if tkr == 0:
        raise BadInput("utbetalning: beloppet måste vara större än 0 tkr")
    with app.db.transaction() as session:
        organisation, head, actor = begin_change(session, forbund, actor_email)
        app.actions.require(actor, "record_payment")
        lifecycle = app.lifecycles["insats"].lifecycle
        case = open_case(session, organisation, ref, "utbetalning", lifecycle)
        agreement = active_agreement(session, case)
        if agreement is None or agreement.status != "undertecknat":
            raise NotPermitted(
                f"{case_ref(case)}: utbetalning kräver ett undertecknat avtal; se 'finsam agreements show'"
            )
        line = session.exec(
            select(BudgetLine).where(BudgetLine.insats_id == case.id, BudgetLine.year == year)
        ).first()
        committed = sum(
            p.amount_tkr
            for p in session.exec(
                select(Payment).where(Payment.insats_id == case.id, Payment.year == year)
            )
        )
        granted = line.granted_tkr if line else 0
        if committed + tkr > granted:
            raise BadInput(
                f"utbetalning {tkr} tkr för {year} överskrider det beviljade: {granted} tkr beviljat, "
                f"{committed} tkr redan utbetalt eller vilande"
            )
        waits = (
            _blocking_report(session, agreement.id, today)  # type: ignore[arg-type]
            if app.settings.funding.payment_waits_for_report
            else None
        )
        payment = Payment(
            forbund_id=organisation.id,  # type: ignore[arg-type]
            insats_id=case.id,  # type: ignore[arg-type]
            agreement_id=agreement.id,  # type: ignore[arg-type]
            year=year,
            amount_tkr=tkr,
            requested_on=today,
            status="vilande" if waits else "utbetald",
            waits_for_report_id=waits.id if waits else None,
            paid_on=None if waits else today,
        )
        session.add(payment)
        session.flush()
        record(
            session,
            head,
            kind="payment",
            row_id=payment.id,  # type: ignore[arg-type]
            ref=f"{case_ref(case)} {year}",
            from_state=None,
            to_state=payment.status,
            trigger="begar_utbetalning",
            actor=actor,
            now=now,
            data={"tkr": tkr, "waits_for_report": payment.waits_for_report_id},
        )
        return _view(case, payment, waits)


def release_in(
    session: Session,
    head: ChainHead,
    case: Insats,
    approved: Report,
    actor: Actor,
    now: datetime,
    today: date,
) -> tuple[list[int], list[int]]:
    """After `approved` is approved: pay what waited for it, unless another report due before
    the payment was asked for still awaits approval (then it waits for that one).
    Returns (released, still held) payment numbers."""
    released: list[int] = []
    moved: list[int] = []
    for payment in session.exec(
        select(Payment).where(
            Payment.waits_for_report_id == approved.id, Payment.status == "vilande"
        )
    ):
        nxt = _blocking_report(session, payment.agreement_id, payment.requested_on)
        if nxt is not None:
            payment.waits_for_report_id = nxt.id
            session.add(payment)
            moved.append(payment.id)  # type: ignore[arg-type]
            continue
        payment.status = "utbetald"
        payment.paid_on = today
        payment.waits_for_report_id = None
        session.add(payment)
        record(
            session,
            head,
            kind="payment",
            row_id=payment.id,  # type: ignore[arg-type]
            ref=f"{case_ref(case)} {payment.year}",
            from_state="vilande",
            to_state="utbetald",
            trigger="frislapp_utbetalning",
            actor=actor,
            now=now,
            data={"report": approved.id, "tkr": payment.amount_tkr},
        )
        released.append(payment.id)  # type: ignore[arg-type]
    return released, moved


def list_payments(app: App, *, ref: str, forbund: str | None = None) -> list[PaymentView]:
    """An insats's payments in the order they were asked for, each with the report it waits
    for: one query (an insats has a handful)."""
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        case = find_case(session, organisation, ref)
        rows = session.exec(
            select(Payment, Report)
            .outerjoin(Report, col(Report.id) == col(Payment.waits_for_report_id))
            .where(Payment.insats_id == case.id)
            .order_by(col(Payment.id))
        )
        return [_view(case, payment, waits) for payment, waits in rows.all()]


def waiting_for(session: Session, case: Insats, report: Report) -> list[PaymentView]:
    """The payments held until `report` is approved."""
    return [
        _view(case, payment, report)
        for payment in session.exec(
            select(Payment)
            .where(Payment.waits_for_report_id == report.id, Payment.status == "vilande")
            .order_by(col(Payment.id))
        )
    ]


# The förbund's payments a page at a time, newest first: by the day asked for, then the
# payment's number (unique), both descending. A list of one status has a cursor of its own
# kind, so that a cursor cannot carry a page of one list over into another.
_PAYMENT = Payment.__table__  # type: ignore[attr-defined]
_BY_REQUEST = (_PAYMENT.c.requested_on, _PAYMENT.c.id)
PAYMENT_ORDER = {
    None: Keyset("payments", _BY_REQUEST, descending=True),
    "vilande": Keyset("payments_held", _BY_REQUEST, descending=True),
    "utbetald": Keyset("payments_paid", _BY_REQUEST, descending=True),
}
# Payments on a page of the Utbetalningar page.
PAGE_LIMIT = 50


def overview(
    app: App,
    *,
    viewer_email: str,
    forbund: str | None = None,
    held_only: bool = False,
    status: str | None = None,
    after: str | None = None,
    limit: int | None = None,
) -> Page[PaymentView]:
    """A page of the förbund's payments (only the held ones with `held_only`, or those of one
    `status`), newest first (PAYMENT_ORDER), each saying which report it waits for; `after` is
    the `next_after` of the page before. One query for the page, the insatser and the reports
    joined, whatever the number of payments. Only förbund-wide readers (see_funding)."""
    limit = check_limit(PAGE_LIMIT if limit is None else limit)
    wanted = "vilande" if held_only else status
    if wanted not in PAYMENT_ORDER:
        raise BadInput(f"okänd status {wanted!r} för utbetalningar; välj vilande eller utbetald")
    order = PAYMENT_ORDER[wanted]
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        require_viewer(session, app, organisation, viewer_email)
        query = (
            select(Payment, Insats, Report)
            .join(Insats, col(Insats.id) == col(Payment.insats_id))
            .outerjoin(Report, col(Report.id) == col(Payment.waits_for_report_id))
            .where(Payment.forbund_id == organisation.id)
        )
        if wanted is not None:
            query = query.where(Payment.status == wanted)
        rows = session.exec(order.page(query, after, limit)).all()  # type: ignore[type-var]
        page = order.cut(rows, limit, key=lambda row: (row[0].requested_on, row[0].id))
        return Page(
            [_view(case, payment, waits) for payment, case, waits in page.items], page.next_after
        )


def release(
    app: App, *, payment_id: int, actor_email: str, forbund: str | None = None
) -> PaymentView:
    """Pay a held payment once every report due before it was asked for is approved (normally
    the approval itself releases it; this is for one left held, e.g. after the payment
    condition was switched off). Still held: refused, naming the report it waits for."""
    now = app.clock()
    today = local_date(now, app.settings.zone)
    with app.db.transaction() as session:
        organisation, head, actor = begin_change(session, forbund, actor_email)
        payment = session.get(Payment, payment_id) if 0 < payment_id < 2**31 else None
        if payment is None or payment.forbund_id != organisation.id:
            raise NotFound(f"ingen utbetalning nr {payment_id} i förbundet {organisation.slug}")
        app.actions.require(actor, "record_payment")
        case = session.get(Insats, payment.insats_id)
        assert case is not None
        if payment.status != "vilande":
            raise NotPermitted(
                f"utbetalning nr {payment_id} för {case_ref(case)} är redan {payment.status}"
            )
        waits = (
            _blocking_report(session, payment.agreement_id, payment.requested_on)
            if app.settings.funding.payment_waits_for_report
            else None
        )
        if waits is not None:
            if payment.waits_for_report_id != waits.id:
                payment.waits_for_report_id = waits.id
                session.add(payment)
            raise NotPermitted(
                f"utbetalning nr {payment_id} för {case_ref(case)} väntar på "
                f"{KIND_LABELS[waits.kind]} förfallen {waits.due_on.isoformat()} (rapport nr "
                f"{waits.id}); godkänn den först"
            )
        payment.status = "utbetald"
        payment.paid_on = today
        payment.waits_for_report_id = None
        session.add(payment)
        record(
            session,
            head,
            kind="payment",
            row_id=payment.id,  # type: ignore[arg-type]
            ref=f"{case_ref(case)} {payment.year}",
            from_state="vilande",
            to_state="utbetald",
            trigger="frislapp_utbetalning",
            actor=actor,
            now=now,
            data={"tkr": payment.amount_tkr},
        )
        return _view(case, payment, None)
