"""Reports the project owner owes under the avtal: submitted with progress, utfall, deviations
and aggregate participant counts by gender; the förbundschef approves them or asks for
completion; overdue ones are listed by the day of the injected clock (Europe/Stockholm)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, literal_column, or_
from sqlalchemy.sql import Select
from sqlmodel import Session, col, select

from workflow.app import App
from workflow.clock import local_date
from workflow.errors import BadInput, Conflict, NotFound, NotPermitted
from workflow.models import BudgetLine, ForbundRef, Insats, Report
from workflow.services.cases import case_ref, find_case
from workflow.services.cases.audit import ChainHead
from workflow.services.cases.change import begin_change
from workflow.services.cases.records import INSATS_TABLE
from workflow.services.cases.rights import can_see, visible_case
from workflow.services.cases.text_search import text_condition
from workflow.services.funding import payments
from workflow.services.funding.report_plan import KIND_LABELS
from workflow.services.funding.support import (
    open_case,
    parse_count,
    parse_tkr,
    parse_year,
    record,
    require_viewer,
)
from workflow.services.organisation.forbund import resolve_forbund
from workflow.services.organisation.people import Actor, find_actor
from workflow.services.paging import Keyset, Page, bytewise, check_limit, unindexed
from workflow.text_guard import check_free_text
from workflow.vocabulary import STATUS_LABELS as VOCABULARY_STATUS

OWED = ("vantar", "komplettering")
# The largest utfall (tkr) or count a report takes: more is a typing error (and no database
# column holds an unbounded number).
MAX_FIGURE = 1_000_000_000
STATUS_LABELS = VOCABULARY_STATUS["report"]


@dataclass
class ReportView:
    id: int
    ref: str
    title: str
    kind: str
    kind_label: str
    period_start: date
    period_end: date
    due_on: date
    status: str
    status_label: str
    submitted_on: date | None
    progress: str | None
    utfall_tkr: int | None
    deviations: str | None
    participants_women: int | None
    participants_men: int | None
    participants_other: int | None
    reviewed_on: date | None
    review_comment: str | None
    days_overdue: int | None
    released_payments: list[int] | None = None
    # Payments that waited for this report and now wait for an earlier-due one still owed.
    held_payments: list[int] | None = None
    version: int = 1
    draft_saved_at: datetime | None = None
    owner_comment: str | None = None
    insats_state: str | None = None
    attachments: list[Any] = field(default_factory=list)
    # Where the report stands in the förbundschef's table (GROUPS): due, late, sent ...
    group: str = ""
    project_owner: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def view(case: Insats, report: Report, today: date | None = None) -> ReportView:
    overdue = (
        (today - report.due_on).days
        if today is not None and report.status in OWED and report.due_on < today
        else None
    )
    return ReportView(
        id=report.id,  # type: ignore[arg-type]
        ref=case_ref(case),
        title=case.title,
        kind=report.kind,
        kind_label=KIND_LABELS[report.kind],
        period_start=report.period_start,
        period_end=report.period_end,
        due_on=report.due_on,
        status=report.status,
        status_label=STATUS_LABELS[report.status],
        submitted_on=report.submitted_on,
        progress=report.progress,
        utfall_tkr=report.utfall_tkr,
        deviations=report.deviations,
        participants_women=report.participants_women,
        participants_men=report.participants_men,
        participants_other=report.participants_other,
        reviewed_on=report.reviewed_on,
        review_comment=report.review_comment,
        days_overdue=overdue,
        version=report.version,
        draft_saved_at=report.draft_saved_at,
        owner_comment=report.owner_comment,
        insats_state=case.state,
        group=group_of(report, today),
    )


# The förbundschef's table of reports across all insatser (Hypha's users ask for it): each
# report in one group, by its status and, for one still owed, whether its due date has passed.
GROUPS = {
    "kommande": "Ska lämnas",
    "forsenad": "Försenad",
    "inkommen": "Inkommen, väntar på granskning",
    "komplettering": "Komplettering begärd",
    "godkand": "Godkänd",
    "ersatt": "Ersatt av nytt avtal",
}
# What the table shows when no group is chosen: what needs someone to act.
OPEN_GROUPS = ("kommande", "forsenad", "inkommen", "komplettering")


def group_of(report: Report, today: date | None) -> str:
    if report.status == "vantar":
        return "forsenad" if today is not None and report.due_on < today else "kommande"
    if report.status == "komplettering":
        return "forsenad" if today is not None and report.due_on < today else "komplettering"
    return report.status


# group_of as data, for SQL: each group's (status, side of the day) pairs, where the side is
# "late" (due before today), "on_time" (due today or later) or None (either).
_GROUP_ROWS: dict[str, tuple[tuple[str, str | None], ...]] = {
    "kommande": (("vantar", "on_time"),),
    "forsenad": (("vantar", "late"), ("komplettering", "late")),
    "inkommen": (("inkommen", None),),
    "komplettering": (("komplettering", "on_time"),),
    "godkand": (("godkand", None),),
    "ersatt": (("ersatt", None),),
}
# The table's pages: the size of a page on /granskning/rapporter and in the API by default.
TABLE_LIMIT = 100


def _in_groups(groups: Sequence[str], today: date) -> ColumnElement[bool]:
    """The reports in any of `groups` (group_of in SQL) on `today`: at most three terms, the
    statuses in every position, those late and those not yet late."""
    sides: dict[str, set[str | None]] = {}
    for group in groups:
        for status, side in _GROUP_ROWS[group]:
            sides.setdefault(status, set()).add(side)
    whole = sorted(s for s, seen in sides.items() if None in seen or len(seen) == 2)
    late = sorted(s for s, seen in sides.items() if seen == {"late"})
    on_time = sorted(s for s, seen in sides.items() if seen == {"on_time"})
    terms: list[ColumnElement[bool]] = []
    if whole:
        terms.append(col(Report.status).in_(whole))
    if late:
        terms.append(and_(col(Report.status).in_(late), col(Report.due_on) < today))
    if on_time:
        terms.append(and_(col(Report.status).in_(on_time), col(Report.due_on) >= today))
    return or_(*terms)


@dataclass(frozen=True)
class TableFilter:
    """The review table's filters, checked (TableFilter.of): groups (none: OPEN_GROUPS), the
    kind, the year of the due date, a text in the dnr or the insats's title."""

    groups: tuple[str, ...] = OPEN_GROUPS
    kind: str | None = None
    year: int | None = None
    text: str | None = None

    @classmethod
    def of(
        cls,
        groups: Sequence[str] = (),
        kind: str | None = None,
        year: Any = None,
        text: str | None = None,
    ) -> TableFilter:
        for group in groups:
            if group not in GROUPS:
                raise BadInput(f"okänd grupp {group!r}; välj bland: {', '.join(GROUPS)}")
        if kind is not None and kind not in KIND_LABELS:
            raise BadInput(f"okänd rapporttyp {kind!r}; välj bland: {', '.join(KIND_LABELS)}")
        needle = (text or "").strip()
        if len(needle) > 200:
            raise BadInput("söktexten är för lång; använd högst 200 tecken")
        return cls(
            groups=tuple(groups) or OPEN_GROUPS,
            kind=kind,
            year=None if year in (None, "") else parse_year(year),
            text=needle or None,
        )


def _table_query(
    session: Session,
    organisation: ForbundRef,
    filters: TableFilter,
    today: date,
    columns: Sequence[Any] = (Report, Insats),
) -> Select[Any]:
    """The table's reports (as `columns`: the report and insats objects unless told),
    every filter a condition of the query (nothing is left to sort out after the fetch, so
    that a page is full whenever more rows follow)."""
    query = (
        select(*columns)
        .join(Insats, col(Insats.id) == col(Report.insats_id))
        .where(Report.forbund_id == organisation.id, _in_groups(filters.groups, today))
    )
    if filters.kind is not None:
        query = query.where(Report.kind == filters.kind)
    if filters.year is not None:
        query = query.where(
            col(Report.due_on) >= date(filters.year, 1, 1),
            col(Report.due_on) <= date(filters.year, 12, 31),
        )
    if filters.text is not None:
        # The case list's condition (lower(dnr) or lower(title) LIKE the text, `%` and `_` as
        # themselves, letters folded alike on both databases), and on SQLite its trigram index.
        query = query.where(text_condition(session.connection(), filters.text))
    return query


def _with_owners(session: Session, rows: Sequence[Any], today: date) -> list[ReportView]:
    """The views of a page's (report, insats) rows, with the project owners' addresses read
    in one query whatever the number of rows."""
    from workflow.models import Person

    items = [view(case, report, today) for report, case in rows]
    owners: dict[int, list[ReportView]] = {}
    for item, (_report, case) in zip(items, rows, strict=True):
        if case.project_owner_id is not None:
            owners.setdefault(case.project_owner_id, []).append(item)
    if owners:
        for person in session.exec(select(Person).where(col(Person.id).in_(owners))):
            for item in owners[person.id]:  # type: ignore[index]
                item.project_owner = person.email
    return items


def _table_page(
    session: Session,
    organisation: ForbundRef,
    filters: TableFilter,
    today: date,
    after: str | None,
    limit: int,
) -> Page[ReportView]:
    rows = _ordered(session, _table_query(session, organisation, filters, today), after, limit)
    page = REPORT_ORDER.cut(rows, limit, key=lambda row: (row[0].due_on, row[1].dnr, row[0].id))
    return Page(_with_owners(session, page.items, today), page.next_after)


def table(
    app: App,
    *,
    viewer_email: str,
    forbund: str | None = None,
    groups: tuple[str, ...] = (),
    kind: str | None = None,
    year: Any = None,
    text: str | None = None,
    after: str | None = None,
    limit: int = TABLE_LIMIT,
) -> Page[ReportView]:
    """A page of the förbund's reports for the förbundschef (and admin): by default those
    still to act on (OPEN_GROUPS), in REPORT_ORDER (earliest due first); filtered by group,
    kind, the year of the due date, and text in the dnr or title. `after` is the `next_after`
    of the page before. Three queries whatever the number of reports (the reader, the page,
    the page's project owners), four with a text on SQLite (its trigram index). Only
    förbund-wide readers (see_funding)."""
    filters = TableFilter.of(groups, kind, year, text)
    check_limit(limit)
    today = local_date(app.clock(), app.settings.zone)
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        require_viewer(session, app, organisation, viewer_email)
        return _table_page(session, organisation, filters, today, after, limit)


# The table's files: the columns, and what each row reads (plain columns, no objects).
TABLE_COLUMNS = [
    "Diarienummer",
    "Insats",
    "Rapport",
    "Period från",
    "Period till",
    "Senast",
    "Läge",
    "Dagar försenad",
    "Inkommen",
    "Utfall (tkr)",
    "Deltagare kvinnor",
    "Deltagare män",
    "Deltagare övriga",
    "Projektägare",
    "Granskad",
    "Vad som ska kompletteras",
]
_EXPORT_BATCH = 500


def table_export(
    app: App,
    *,
    viewer_email: str,
    forbund: str | None = None,
    groups: tuple[str, ...] = (),
    kind: str | None = None,
    year: Any = None,
    text: str | None = None,
) -> Iterator[list[Any]]:
    """The rows of the table's files (TABLE_COLUMNS), the same as the views of `table`'s
    pages would give, streamed. The filters and the reader's rights are checked before this returns (a
    refusal is a page, not a broken download); the rows are then read as they are taken."""
    filters = TableFilter.of(groups, kind, year, text)
    today = local_date(app.clock(), app.settings.zone)
    with app.db.reading() as session:
        require_viewer(session, app, resolve_forbund(session, forbund), viewer_email)
    return _export_rows(app, viewer_email, forbund, filters, today)


def _export_rows(
    app: App, viewer_email: str, forbund: str | None, filters: TableFilter, today: date
) -> Iterator[list[Any]]:
    """table_export's rows: one ordered query of the columns the files show, streamed a
    batch at a time in one snapshot, with each batch's project owners in one query; the
    labels from the small dicts they live in. (ORM objects and a ReportView per row cost
    about 150 µs of CPU each: README, "Granskning".)"""
    from workflow.models import Person

    person = Person.__table__  # type: ignore[attr-defined]
    columns = (
        INSATS_TABLE.c.id,
        INSATS_TABLE.c.dnr,
        INSATS_TABLE.c.number,
        INSATS_TABLE.c.title,
        INSATS_TABLE.c.project_owner_id,
        _REPORT.c.kind,
        _REPORT.c.period_start,
        _REPORT.c.period_end,
        _REPORT.c.due_on,
        _REPORT.c.status,
        _REPORT.c.submitted_on,
        _REPORT.c.utfall_tkr,
        _REPORT.c.participants_women,
        _REPORT.c.participants_men,
        _REPORT.c.participants_other,
        _REPORT.c.reviewed_on,
        _REPORT.c.review_comment,
    )
    with app.db.snapshot() as session:
        organisation = resolve_forbund(session, forbund)
        require_viewer(session, app, organisation, viewer_email)
        query = _table_query(session, organisation, filters, today, columns)
        ordered = query.order_by(*REPORT_ORDER.order_by()).execution_options(
            yield_per=_EXPORT_BATCH
        )
        connection = session.connection()
        for rows in connection.execute(ordered).partitions():
            wanted = sorted({row[4] for row in rows if row[4] is not None})
            emails: dict[int, str] = (
                {
                    key: email
                    for key, email in connection.execute(
                        select(person.c.id, person.c.email).where(person.c.id.in_(wanted))
                    )
                }
                if wanted
                else {}
            )
            for (
                insats_id,
                dnr,
                number,
                title,
                owner_id,
                kind,
                period_start,
                period_end,
                due_on,
                status,
                submitted_on,
                utfall,
                women,
                men,
                other,
                reviewed_on,
                comment,
            ) in rows:
                late = status in OWED and due_on < today
                group = ("forsenad" if late else _ON_TIME[status]) if status in OWED else status
                yield [
                    dnr or f"ide-{number or insats_id}",  # case_ref
                    title,
                    KIND_LABELS[kind],
                    period_start,
                    period_end,
                    due_on,
                    GROUPS.get(group, STATUS_LABELS[status]),
                    (today - due_on).days if late else None,
                    submitted_on,
                    utfall,
                    women,
                    men,
                    other,
                    None if owner_id is None else emails.get(owner_id),
                    reviewed_on,
                    comment if status == "komplettering" else None,
                ]


# group_of of an owed report not yet late.
_ON_TIME = {"vantar": "kommande", "komplettering": "komplettering"}


def _owner_email(session: Session, case: Insats) -> str | None:
    from workflow.models import Person

    if case.project_owner_id is None:
        return None
    person = session.get(Person, case.project_owner_id)
    return person.email if person else None


def get_report(
    app: App, *, report_id: int, viewer_email: str, forbund: str | None = None
) -> tuple[ReportView, list[payments.PaymentView]]:
    """One report for the förbundschef's review, with the payments that wait for it. A report
    of another förbund is not found."""
    today = local_date(app.clock(), app.settings.zone)
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        # Another förbund's report is not found, whoever asks; then the reader's rights.
        report = session.get(Report, report_id) if 0 < report_id < 2**31 else None
        if report is None or report.forbund_id != organisation.id:
            raise NotFound(f"ingen rapport nr {report_id} i förbundet {organisation.slug}")
        require_viewer(session, app, organisation, viewer_email)
        case = session.get(Insats, report.insats_id)
        assert case is not None
        from workflow.services import attachments

        result = view(case, report, today)
        result.project_owner = _owner_email(session, case)
        result.attachments = attachments.views_of(session, case, "rapport", report.id)
        return result, payments.waiting_for(session, case, report)


def _pick(
    session: Session, case: Insats, report_id: int | None, statuses: tuple[str, ...]
) -> Report:
    """The report named by id, or the earliest due one of the case in one of `statuses`."""
    query = select(Report).where(Report.insats_id == case.id)
    if report_id is not None:
        report = session.exec(query.where(Report.id == report_id)).first()
        if report is None:
            raise NotFound(
                f"{case_ref(case)} har ingen rapport nr {report_id}; se 'finsam reports list {case_ref(case)}'"
            )
        return report
    report = session.exec(
        query.where(col(Report.status).in_(statuses)).order_by(col(Report.due_on), col(Report.id))
    ).first()
    if report is None:
        wanted = " eller ".join(f"”{STATUS_LABELS[s]}”" for s in statuses)
        raise NotFound(f"{case_ref(case)} har ingen rapport med status {wanted}")
    return report


def _replan(session: Session, app: App, organisation: ForbundRef, case: Insats) -> None:
    """Replan the case's reminders in the caller's transaction: a report handed in, approved
    or sent back changes what is owed next."""
    # Imported here, not at the top: the planner brings the reminder rules, their templates and
    # the holiday calendars, which only these writes need; reading reports must not pay for it.
    from workflow.services.reminders import planner

    planner.replan_insats(session, app, organisation, case.id)  # type: ignore[arg-type]


def _ref(case: Insats, report: Report) -> str:
    return f"{case_ref(case)} {KIND_LABELS[report.kind]} {report.due_on.isoformat()}"


def _read_values(
    *,
    progress: str | None,
    utfall: Any,
    deviations: str | None,
    women: Any,
    men: Any,
    other: Any,
    comment: str | None,
    require_progress: bool,
) -> dict[str, Any]:
    """A report's values, each checked (BadInput names the field); None is none (a form
    passes None for an empty box; an empty string is no number and refused)."""

    def blank(raw: Any) -> bool:
        return raw is None

    progress = progress.strip() if isinstance(progress, str) else progress
    if require_progress and not progress:
        raise BadInput("rapporten behöver en lägesbeskrivning mot målen; ange --progress")
    values: dict[str, Any] = {
        "progress": check_free_text(progress, "lägesbeskrivningen") if progress else None,
        "deviations": (
            check_free_text(deviations.strip(), "avvikelserna")
            if deviations and deviations.strip()
            else None
        ),
        "owner_comment": (
            check_free_text(comment.strip(), "svaret på kompletteringen")
            if comment and comment.strip()
            else None
        ),
        "utfall_tkr": None if blank(utfall) else parse_tkr(utfall, "utfall"),
    }
    for key, raw, label in (
        ("participants_women", women, "deltagare kvinnor"),
        ("participants_men", men, "deltagare män"),
        ("participants_other", other, "deltagare övriga"),
    ):
        values[key] = None if blank(raw) else parse_count(raw, label)
    for key, label in (
        ("utfall_tkr", "utfall"),
        ("participants_women", "deltagare kvinnor"),
        ("participants_men", "deltagare män"),
        ("participants_other", "deltagare övriga"),
    ):
        if values[key] is not None and values[key] > MAX_FIGURE:
            raise BadInput(f"{label}: {values[key]} är orimligt stort; kontrollera talet")
    return values


def _owed_report(
    session: Session,
    app: App,
    organisation: Any,
    actor: Actor,
    ref: str | None,
    report_id: int | None,
) -> tuple[Insats, Report]:
    """The case and the report a project owner works on: the case must be one they may
    see (else not found, as if it did not exist), still take reports, and be theirs."""
    lifecycle = app.lifecycles["insats"].lifecycle
    if ref is None:
        if report_id is None:
            raise BadInput("ange vilken rapport (ärende eller rapportens nummer)")
        row = session.get(Report, report_id) if 0 < report_id < 2**31 else None
        case_row = session.get(Insats, row.insats_id) if row is not None else None
        if row is None or case_row is None or row.forbund_id != organisation.id:
            raise NotFound(f"ingen rapport nr {report_id} som du kan se")
        if not can_see(app, actor, case_row):
            raise NotFound(f"ingen rapport nr {report_id} som du kan se")
        ref = case_ref(case_row)
    else:
        visible_case(session, app, organisation, ref, actor)
    case = open_case(session, organisation, ref, "rapportering", lifecycle)
    # A projektägare reports only on the insatser they own (states/actions.yaml).
    app.actions.require(actor, "submit_report", case=case)
    report = _pick(session, case, report_id, OWED)
    if report.status not in OWED:
        raise NotPermitted(
            f"{_ref(case, report)} är {STATUS_LABELS[report.status]} och kan inte ändras eller "
            "lämnas in igen"
        )
    return case, report


def _check_version(report: Report, expected_version: int | None, case: Insats) -> None:
    if expected_version is not None and report.version != expected_version:
        raise Conflict(
            f"{_ref(case, report)} har ändrats sedan du öppnade den (version {expected_version}, "
            f"nu {report.version}); öppna rapporten igen och gör om ändringen"
        )


def _attach(
    session: Session,
    app: App,
    head: ChainHead,
    actor: Actor,
    case: Insats,
    report: Report,
    uploads: Sequence[Any],
    now: datetime,
    written: Any,
) -> None:
    from workflow.services import attachments

    for upload in uploads:
        attachments.add(session, app, head, actor, case, "rapport", report.id, upload, now, written)


def save_draft(
    app: App,
    *,
    actor_email: str,
    report_id: int,
    progress: str | None = None,
    utfall: Any = None,
    deviations: str | None = None,
    women: Any = None,
    men: Any = None,
    other: Any = None,
    comment: str | None = None,
    uploads: Sequence[Any] = (),
    expected_version: int | None = None,
    forbund: str | None = None,
) -> ReportView:
    """The project owner saves what they have written so far, to come back to: the report
    stays owed (väntar or komplettering), nothing is required yet, but every value given is
    checked as on sending (a personnummer or a half participant is refused now, not later)."""
    from workflow.services import attachments

    now = app.clock()
    today = local_date(now, app.settings.zone)
    values = _read_values(
        progress=progress,
        utfall=utfall,
        deviations=deviations,
        women=women,
        men=men,
        other=other,
        comment=comment,
        require_progress=False,
    )
    written = attachments.storing()
    try:
        with app.db.transaction() as session:
            organisation, head, actor = begin_change(session, forbund, actor_email)
            case, report = _owed_report(session, app, organisation, actor, None, report_id)
            _check_version(report, expected_version, case)
            for key, value in values.items():
                setattr(report, key, value)
            report.draft_saved_at = now
            report.updated_at = now
            session.add(report)
            record(
                session,
                head,
                kind="report",
                row_id=report.id,  # type: ignore[arg-type]
                ref=_ref(case, report),
                from_state=report.status,
                to_state=report.status,
                trigger="spara_utkast",
                actor=actor,
                now=now,
                data={k: v for k, v in values.items() if k.startswith(("utfall", "partic"))},
            )
            _attach(session, app, head, actor, case, report, uploads, now, written)
            session.flush()
            return view(case, report, today)
    except BaseException:
        written.undo()
        raise


def submit(
    app: App,
    *,
    ref: str | None = None,
    actor_email: str,
    progress: str,
    utfall: Any = None,
    deviations: str | None = None,
    women: Any = None,
    men: Any = None,
    other: Any = None,
    report_id: int | None = None,
    forbund: str | None = None,
    comment: str | None = None,
    uploads: Sequence[Any] = (),
    expected_version: int | None = None,
) -> ReportView:
    """The project owner hands in a report (by default the earliest one still owed), with
    its attachments; a report sent back for completion is handed in the same way, with
    `comment` as the answer to what the förbundschef asked for."""
    from workflow.services import attachments

    now = app.clock()
    today = local_date(now, app.settings.zone)
    # Everything is checked before the transaction: a bad value writes nothing.
    values = _read_values(
        progress=progress,
        utfall=utfall,
        deviations=deviations,
        women=women,
        men=men,
        other=other,
        comment=comment,
        require_progress=True,
    )
    written = attachments.storing()
    try:
        with app.db.transaction() as session:
            organisation, head, actor = begin_change(session, forbund, actor_email)
            app.actions.require_role(actor, "submit_report")
            case, report = _owed_report(session, app, organisation, actor, ref, report_id)
            _check_version(report, expected_version, case)
            before = report.status
            report.status = "inkommen"
            report.submitted_on = today
            for key, value in values.items():
                setattr(report, key, value)
            report.updated_at = now
            session.add(report)
            counts = {
                "women": values["participants_women"],
                "men": values["participants_men"],
                "other": values["participants_other"],
            }
            record(
                session,
                head,
                kind="report",
                row_id=report.id,  # type: ignore[arg-type]
                ref=_ref(case, report),
                from_state=before,
                to_state="inkommen",
                trigger="lamna_in_rapport",
                actor=actor,
                now=now,
                data={"utfall_tkr": values["utfall_tkr"], "participants": counts},
                comment=values["owner_comment"],
            )
            _attach(session, app, head, actor, case, report, uploads, now, written)
            _replan(session, app, organisation, case)
            session.flush()
            return view(case, report, today)
    except BaseException:
        written.undo()
        raise


def _review(
    session: Session,
    head: ChainHead,
    actor: Actor,
    case: Insats,
    report_id: int | None,
    status: str,
    trigger: str,
    verb: str,
    *,
    comment: str | None,
    now: datetime,
    today: date,
    expected_version: int | None = None,
) -> Report:
    """The förbundschef's review of a submitted (inkommen) report: it moves to `status`."""
    report = _pick(session, case, report_id, ("inkommen",))
    _check_version(report, expected_version, case)
    if report.status != "inkommen":
        raise NotPermitted(
            f"{_ref(case, report)} är {STATUS_LABELS[report.status]}; "
            f"bara inkomna rapporter kan {verb}"
        )
    report.status = status
    report.reviewed_on = today
    report.review_comment = comment
    report.updated_at = now
    session.add(report)
    record(
        session,
        head,
        kind="report",
        row_id=report.id,  # type: ignore[arg-type]
        ref=_ref(case, report),
        from_state="inkommen",
        to_state=status,
        trigger=trigger,
        actor=actor,
        now=now,
        comment=comment,
    )
    return report


def approve(
    app: App,
    *,
    ref: str,
    actor_email: str,
    report_id: int | None = None,
    comment: str | None = None,
    forbund: str | None = None,
    expected_version: int | None = None,
) -> ReportView:
    """The förbundschef approves a submitted report; payments waiting for it are released and
    the utfall of a helår- or slutrapport goes to the budget line of its year."""
    now = app.clock()
    today = local_date(now, app.settings.zone)
    comment = check_free_text(comment, "kommentaren") if comment else None
    with app.db.transaction() as session:
        organisation, head, actor = begin_change(session, forbund, actor_email)
        app.actions.require(actor, "approve_report")
        case = find_case(session, organisation, ref)
        report = _review(
            session,
            head,
            actor,
            case,
            report_id,
            "godkand",
            "godkann_rapport",
            "godkännas",
            comment=comment,
            now=now,
            today=today,
            expected_version=expected_version,
        )
        if report.kind in {"helar", "slut"} and report.utfall_tkr is not None:
            line = session.exec(
                select(BudgetLine).where(
                    BudgetLine.insats_id == case.id, BudgetLine.year == report.period_end.year
                )
            ).first()
            if line is not None and line.utfall_tkr != report.utfall_tkr:
                before = line.utfall_tkr
                line.utfall_tkr = report.utfall_tkr
                line.updated_at = now
                session.add(line)
                record(
                    session,
                    head,
                    kind="budget_line",
                    row_id=line.id,  # type: ignore[arg-type]
                    ref=f"{case_ref(case)} {line.year}",
                    from_state="beviljad",
                    to_state="beviljad",
                    trigger="utfall",
                    actor=actor,
                    now=now,
                    data={"before": {"utfall": before}, "utfall": report.utfall_tkr},
                )
        released, held = payments.release_in(session, head, case, report, actor, now, today)
        result = view(case, report, today)
        result.released_payments = released
        result.held_payments = held
        _replan(session, app, organisation, case)
        return result


def ask_completion(
    app: App,
    *,
    ref: str,
    actor_email: str,
    comment: str,
    report_id: int | None = None,
    forbund: str | None = None,
    expected_version: int | None = None,
) -> ReportView:
    """The förbundschef sends a submitted report back for completion, saying what is missing."""
    now = app.clock()
    today = local_date(now, app.settings.zone)
    if not comment or not comment.strip():
        raise BadInput(
            "skriv vad som saknas i rapporten, så att projektägaren vet vad som ska kompletteras"
        )
    comment = check_free_text(comment.strip(), "kommentaren")
    with app.db.transaction() as session:
        organisation, head, actor = begin_change(session, forbund, actor_email)
        app.actions.require(actor, "request_report_completion")
        case = find_case(session, organisation, ref)
        report = _review(
            session,
            head,
            actor,
            case,
            report_id,
            "komplettering",
            "begar_komplettering_rapport",
            "kompletteras",
            comment=comment,
            now=now,
            today=today,
            expected_version=expected_version,
        )
        _replan(session, app, organisation, case)
        return view(case, report, today)


_REPORT = Report.__table__  # type: ignore[attr-defined]
# The paged lists of reports: by due date, then the insats's dnr (bytewise, the same on both
# databases), then the report's number. The reports come by due date from their index
# (ix_report_forbund_due), but no index holds the dnr beside the due date (it is the insats's
# column), so a page reads every matching report of the days it reaches and sorts them by
# dnr (see _ordered): the bench's busiest days hold 22 000 to 33 000 reports at 100 000
# cases. The report's insats_id in place of the dnr would make it a walk of an index, at the
# price of an order people cannot read off the table.
REPORT_ORDER = Keyset("reports", (_REPORT.c.due_on, bytewise(INSATS_TABLE.c.dnr), _REPORT.c.id))


def _ordered(session: Session, query: Select[Any], after: str | None, limit: int) -> Any:
    """The (report, insats) rows of a page of `query` (a select of Report and Insats) in
    REPORT_ORDER, in one statement: the page's report numbers first, then their rows. The
    sort of the days a page reaches then carries the three columns of the order, not every
    column of each report and its insats, and the reports' side of it is read from the index
    on due date alone (a third of the page's time at 100 000 cases)."""
    page = REPORT_ORDER.page(query.with_only_columns(_REPORT.c.id), after, limit)
    rows = (
        select(Report, Insats)
        .join(Insats, col(Insats.id) == col(Report.insats_id))
        .where(col(Report.id).in_(page))
        .order_by(*REPORT_ORDER.order_by())
    )
    return session.exec(rows).all()


def _check_status(status: str | None) -> None:
    if status is not None and status not in STATUS_LABELS:
        raise BadInput(f"okänd rapportstatus {status!r}; välj bland: {', '.join(STATUS_LABELS)}")


def _listed(
    session: Session, organisation: Any, ref: str | None, status: str | None
) -> Select[Any]:
    query = (
        select(Report, Insats)
        .join(Insats, col(Insats.id) == col(Report.insats_id))
        .where(Report.forbund_id == organisation.id)
    )
    if ref is not None:
        query = query.where(Report.insats_id == find_case(session, organisation, ref).id)
    if status is not None:
        query = query.where(Report.status == status)
    return query


# The owed statuses as literals, the same words as the partial index on owed reports by due
# date (models/funding.py), so that SQLite can use it: a bound parameter it cannot compare.
_OWED_LITERALS = [literal_column(f"'{status}'") for status in OWED]


def _overdue(app: App, organisation: Any, today: date) -> Select[Any]:
    return (
        select(Report, Insats)
        .join(Insats, col(Insats.id) == col(Report.insats_id))
        .where(
            Report.forbund_id == organisation.id,
            col(Report.status).in_(_OWED_LITERALS),
            col(Report.due_on) < today,
            col(Insats.state).in_(app.lifecycles["insats"].lifecycle.tagged("funding_open")),
        )
    )


def _page(
    session: Session, query: Select[Any], after: str | None, limit: int, today: date
) -> Page[ReportView]:
    rows = _ordered(session, query, after, check_limit(limit))
    page = REPORT_ORDER.cut(rows, limit, key=lambda row: (row[0].due_on, row[1].dnr, row[0].id))
    return Page([view(case, report, today) for report, case in page.items], page.next_after)


def list_reports(
    app: App, *, ref: str | None = None, status: str | None = None, forbund: str | None = None
) -> list[ReportView]:
    _check_status(status)
    today = local_date(app.clock(), app.settings.zone)
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        query = _listed(session, organisation, ref, status)
        rows = session.exec(query.order_by(col(Report.due_on), col(Insats.dnr), col(Report.id)))
        return [view(case, report, today) for report, case in rows.all()]


def reports_page(
    app: App,
    *,
    ref: str | None = None,
    status: str | None = None,
    forbund: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> Page[ReportView]:
    """One page of the förbund's reports (or one insats's) by due date (REPORT_ORDER); `after`
    is the `next_after` of the page before."""
    _check_status(status)
    today = local_date(app.clock(), app.settings.zone)
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        return _page(session, _listed(session, organisation, ref, status), after, limit, today)


def overdue(app: App, *, forbund: str | None = None) -> list[ReportView]:
    """Reports still owed whose due date has passed, for insatser that have not ended."""
    today = local_date(app.clock(), app.settings.zone)
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        rows = session.exec(
            _overdue(app, organisation, today).order_by(
                col(Report.due_on), col(Insats.dnr), col(Report.id)
            )
        )
        return [view(case, report, today) for report, case in rows.all()]


def overdue_page(
    app: App, *, forbund: str | None = None, after: str | None = None, limit: int = 50
) -> Page[ReportView]:
    """One page of the overdue reports (as `overdue`) in REPORT_ORDER."""
    today = local_date(app.clock(), app.settings.zone)
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        return _page(session, _overdue(app, organisation, today), after, limit, today)


# -- The project owner's side (start page, report page) -------------------------------------

# An owed report shows on the owner's start page from this many days before its due date
# (the first reminder goes 21 days before), and always once late or sent back.
DUE_AHEAD_DAYS = 60


@dataclass
class YearBudget:
    year: int
    granted_tkr: int
    utfall_tkr: int | None


@dataclass
class OwnerInsats:
    ref: str
    title: str
    state: str
    state_label: str
    years: list[YearBudget]
    granted_total_tkr: int
    utfall_total_tkr: int


@dataclass
class OwnerOverview:
    # The person's insatser still running first, then the closed ones, each in dnr order; at
    # most OWNER_INSATSER of them (the case list has them all: `insatser_total`).
    insatser: list[OwnerInsats]
    # Owed reports due within DUE_AHEAD_DAYS, late, or sent back for completion, earliest due
    # first; at most OWNER_REPORTS of them (`reports_total` in all).
    reports: list[ReportView]
    insatser_total: int = 0
    reports_total: int = 0


# What the start page shows of one project owner's insatser and reports: a person owns a
# handful, but nothing stops one from owning a förbund's every insats for ten years.
OWNER_INSATSER = 20
OWNER_REPORTS = 50


def owner_overview(app: App, *, viewer_email: str, forbund: str | None = None) -> OwnerOverview:
    """The insatser a person owns (as project owner) with their budget per year and utfall,
    and the reports of them that are due soon, late or asked to be completed. At most eight
    queries, whatever the number of insatser the person owns; each reads the person's own
    insatser from ix_insats_owner_dnr (in dnr order), not the förbund's."""
    from sqlalchemy import func

    today = local_date(app.clock(), app.settings.zone)
    lifecycle = app.lifecycles["insats"].lifecycle
    closed = lifecycle.tagged("closed")
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund, viewer_email)
        actor = find_actor(session, organisation, viewer_email)
        own = (Insats.forbund_id == organisation.id, Insats.project_owner_id == actor.id)
        in_dnr_order = (bytewise(INSATS_TABLE.c.dnr), col(Insats.id))
        # The running ones first, then the closed: two walks of the index in dnr order, each
        # stopping at the page (one ordered by "closed" first would sort them all).
        cases = list(
            session.exec(
                select(Insats)
                .where(*own, col(Insats.state).not_in(closed))
                .order_by(*in_dnr_order)
                .limit(OWNER_INSATSER)
            ).all()
        )
        if len(cases) < OWNER_INSATSER:
            cases += session.exec(
                select(Insats)
                .where(*own, col(Insats.state).in_(closed))
                .order_by(*in_dnr_order)
                .limit(OWNER_INSATSER - len(cases))
            ).all()
        insatser_total = session.exec(select(func.count()).select_from(Insats).where(*own)).one()
        ids = [c.id for c in cases]
        lines: dict[int, list[BudgetLine]] = {}
        if ids:
            for line in session.exec(
                select(BudgetLine)
                .where(col(BudgetLine.insats_id).in_(ids))
                .order_by(col(BudgetLine.year))
            ):
                lines.setdefault(line.insats_id, []).append(line)
        # The reports to show: owed, of a running insats, and late, sent back or due within
        # DUE_AHEAD_DAYS; chosen in SQL, from the person's insatser: by the owed status (not
        # indexed here) SQLite would walk every owed report of the förbund.
        wanted = (
            *own,
            col(Insats.state).not_in(closed),
            unindexed(Report.status).in_(OWED),
            (Report.status == "komplettering")
            | (col(Report.due_on) <= date.fromordinal(today.toordinal() + DUE_AHEAD_DAYS)),
        )
        shown = session.exec(
            select(Report, Insats)
            .join(Insats, col(Insats.id) == col(Report.insats_id))
            .where(*wanted)
            .order_by(col(Report.due_on), col(Report.id))
            .limit(OWNER_REPORTS)
        ).all()
        reports_total = (
            len(shown)
            if len(shown) < OWNER_REPORTS
            else session.exec(
                select(func.count())
                .select_from(Report)
                .join(Insats, col(Insats.id) == col(Report.insats_id))
                .where(*wanted)
            ).one()
        )
        reports = [view(case, report, today) for report, case in shown]
        insatser = []
        for case in cases:
            held = lines.get(case.id or 0, [])  # type: ignore[arg-type]
            insatser.append(
                OwnerInsats(
                    ref=case_ref(case),
                    title=case.title,
                    state=case.state,
                    state_label=lifecycle.label_of(case.state),
                    years=[YearBudget(x.year, x.granted_tkr, x.utfall_tkr) for x in held],
                    granted_total_tkr=sum(x.granted_tkr for x in held),
                    utfall_total_tkr=sum(x.utfall_tkr or 0 for x in held),
                )
            )
        return OwnerOverview(insatser, reports, int(insatser_total), int(reports_total))


@dataclass
class ReportPage:
    report: ReportView
    goals: str | None
    # The person may save and send it (their own insats, still owed, still taking reports).
    may_edit: bool
    # Other reports of the same insats, in due order (for the page's overview).
    siblings: list[ReportView]


def report_page(
    app: App, *, report_id: int, viewer_email: str, forbund: str | None = None
) -> ReportPage:
    """One report as the person may see it (not found for a case they may not see)."""
    from workflow.services import attachments

    today = local_date(app.clock(), app.settings.zone)
    missing = NotFound(f"ingen rapport nr {report_id} som du kan se")
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund, viewer_email)
        actor = find_actor(session, organisation, viewer_email)
        report = session.get(Report, report_id) if 0 < report_id < 2**31 else None
        if report is None or report.forbund_id != organisation.id:
            raise missing
        case = session.get(Insats, report.insats_id)
        if case is None or not can_see(app, actor, case):
            raise missing
        lifecycle = app.lifecycles["insats"].lifecycle
        result = view(case, report, today)
        result.attachments = attachments.views_of(session, case, "rapport", report.id)
        may_edit = (
            report.status in OWED
            and case.state in lifecycle.tagged("funding_open")
            and app.actions.allows(actor, "submit_report", case)
        )
        siblings = [
            view(case, other, today)
            for other in session.exec(
                select(Report)
                .where(Report.insats_id == case.id)
                .order_by(col(Report.due_on), col(Report.id))
            )
        ]
        return ReportPage(result, case.mal, may_edit, siblings)
