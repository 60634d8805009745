"""Where due dates come from: a small registry of sources, keyed by the rules' `source:` names.

A source lists the dated things of one förbund (an insats's end date, a document's renewal
deadline, a fixed day of the year ...) as `DueItem`s. Rules take any source, so a new kind of
dated thing needs a source here and nothing else. A source whose data does not exist yet is
registered without a collector: rules may name it, and it yields nothing until it is built.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import exists
from sqlmodel import Session, col, func, select

from workflow.clock import local_date
from workflow.lifecycle.registry import Lifecycles
from workflow.models import AuditEvent, ForbundRef, Insats, PolicyDocument
from workflow.models.funding import Agreement, Report

if TYPE_CHECKING:  # imported by the two sources that read meetings, see _board_meetings
    from workflow.models.meetings import Meeting, Organ


@dataclass(frozen=True)
class DueItem:
    """One dated thing a reminder is about."""

    subject_kind: str
    subject_id: int
    ref: str
    title: str
    due_on: date
    # The person responsible (recipient `ansvarig`): projektägare, document owner ...
    owner_id: int | None = None
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Subjects:
    """The things a change touched, for planning their reminders alone (not the förbund's):
    insatser (with their reports), meetings (with their protocols) and styrdokument."""

    insats_ids: frozenset[int] = frozenset()
    meeting_ids: frozenset[int] = frozenset()
    document_ids: frozenset[int] = frozenset()
    # The förbund's own dated things (the yearly rules): no change touches them, but the
    # sweep plans them before it sends one of their reminders.
    forbund: bool = False

    def __bool__(self) -> bool:
        return bool(self.insats_ids or self.meeting_ids or self.document_ids or self.forbund)

    def covers(self, source: str) -> bool:
        """Whether a source can have items about these subjects (see SOURCE_SUBJECTS)."""
        kind = SOURCE_SUBJECTS.get(source)
        if kind == "insats":
            return bool(self.insats_ids)
        if kind == "meeting":
            return bool(self.meeting_ids)
        if kind == "styrdokument":
            return bool(self.document_ids)
        return self.forbund


# What each source's items are about, for planning after a change: an insats (its end, its
# justering, its avtal, its reports), a meeting (its kallelse, its protocol), a document. A
# source not named here (yearly) is about the förbund itself (Subjects.forbund).
SOURCE_SUBJECTS = {
    "insats_end": "insats",
    "insats_justering": "insats",
    "agreement_unsigned": "insats",
    "report_due": "insats",
    "meeting": "meeting",
    "protocol_unjusterat": "meeting",
    "policy_renewal": "styrdokument",
}


@dataclass(frozen=True)
class Window:
    """What a collector may need besides the database: today and the rule's yearly date, and
    `only` the subjects to collect (None: all of the förbund's)."""

    today: date
    # Which states a collector looks at comes from the lifecycles' state tags (states/).
    lifecycles: Lifecycles
    yearly_due: tuple[int, int] | None = None
    only: Subjects | None = None

    def insatser(self) -> list[int] | None:
        return None if self.only is None else sorted(self.only.insats_ids)

    def meetings(self) -> list[int] | None:
        return None if self.only is None else sorted(self.only.meeting_ids)

    def documents(self) -> list[int] | None:
        return None if self.only is None else sorted(self.only.document_ids)


Collector = Callable[[Session, ForbundRef, Window], Iterable[DueItem]]


@dataclass(frozen=True)
class DueDateSource:
    name: str
    label: str
    sample: DueItem
    collect: Collector | None = None

    @property
    def available(self) -> bool:
        return self.collect is not None


# The columns of an insats that a due item shows. The planner reads every open insats of the
# förbund: as plain rows, not entities (an entity costs many times a row, most of it in
# loading its JSON budget), at 100 000 insatser about 12 s of a full plan's 20 s of CPU.
_CASE_COLUMNS: tuple[Any, ...] = (
    col(Insats.id),
    col(Insats.dnr),
    col(Insats.number),
    col(Insats.title),
    col(Insats.project_owner_id),
    col(Insats.submitted_by_id),
    col(Insats.start_date),
    col(Insats.end_date),
    col(Insats.decision_paragraph),
)


def _insats_item(case: Any, due_on: date, **facts: Any) -> DueItem:
    """A due item about an insats, from a row of _CASE_COLUMNS."""
    return DueItem(
        subject_kind="insats",
        subject_id=case.id,
        ref=case.dnr or f"ide-{case.number or case.id}",
        title=case.title,
        due_on=due_on,
        owner_id=case.project_owner_id or case.submitted_by_id,
        facts={
            "start": case.start_date,
            "end": case.end_date,
            "decision_paragraph": case.decision_paragraph,
            **facts,
        },
    )


def _insats_end(session: Session, forbund: ForbundRef, window: Window) -> Iterable[DueItem]:
    query = select(*_CASE_COLUMNS).where(
        Insats.forbund_id == forbund.id,
        col(Insats.state).in_(window.lifecycles.insats.lifecycle.tagged("reporting")),
        col(Insats.end_date).is_not(None),
    )
    only = window.insatser()
    if only is not None:
        query = query.where(col(Insats.id).in_(only))
    for case in session.exec(query):
        yield _insats_item(case, case.end_date)


def _justered(forbund: ForbundRef, only: list[int] | None = None) -> Any:
    """The insatser whose board decision was justerad, with the time (the latest, if several),
    as a subquery (insats_id, at): joined, not an IN list of ids, which at tens of thousands
    of insatser would pass PostgreSQL's limit of 65 535 parameters."""
    query: Any = select(
        col(AuditEvent.subject_id).label("insats_id"), func.max(AuditEvent.at).label("at")
    ).where(
        AuditEvent.forbund_id == forbund.id,
        AuditEvent.subject_kind == "insats",
        AuditEvent.trigger == "justera",
    )
    if only is not None:
        query = query.where(col(AuditEvent.subject_id).in_(only))
    return query.group_by(col(AuditEvent.subject_id)).subquery("justered")


def _insats_justering(session: Session, forbund: ForbundRef, window: Window) -> Iterable[DueItem]:
    justered = _justered(forbund, window.insatser())
    query = select(*_CASE_COLUMNS, *[justered.c.at]).join(
        justered, justered.c.insats_id == col(Insats.id)
    )
    for case in session.exec(query):
        yield _insats_item(case, local_date(case.at))


def _agreement_unsigned(session: Session, forbund: ForbundRef, window: Window) -> Iterable[DueItem]:
    # Justerad but not started: the avtal is not signed yet. Due date = the justering day.
    justered = _justered(forbund, window.insatser())
    signed = exists(
        select(col(Agreement.id)).where(
            Agreement.insats_id == col(Insats.id), Agreement.status == "undertecknat"
        )
    )
    query = (
        select(*_CASE_COLUMNS, *[justered.c.at])
        .join(justered, justered.c.insats_id == col(Insats.id))
        .where(
            Insats.forbund_id == forbund.id,
            Insats.state == "avtal",
            col(Insats.agreement_signed_on).is_(None),
            ~signed,
        )
    )
    for case in session.exec(query):
        yield _insats_item(case, local_date(case.at))


# Report kinds as the funding work names them (report_plan.KIND_LABELS).
REPORT_KIND_LABELS = {
    "lages": "lägesrapport",
    "delar": "delårsrapport",
    "helar": "helårsrapport",
    "slut": "slutrapport",
}
# A report still owed: not yet in, or sent back for completion.
REPORT_OWED = ("vantar", "komplettering")


def _report_due(session: Session, forbund: ForbundRef, window: Window) -> Iterable[DueItem]:
    query = (
        select(
            *_CASE_COLUMNS,
            *[
                col(Report.id).label("report_id"),
                col(Report.status).label("report_status"),
                col(Report.kind).label("report_kind"),
                col(Report.due_on).label("report_due_on"),
                col(Report.period_end).label("report_period_end"),
            ],
        )
        .join(Insats, col(Insats.id) == col(Report.insats_id))
        .where(col(Insats.state).not_in(window.lifecycles.insats.lifecycle.tagged("closed")))
    )
    only = window.insatser()
    if only is None:
        query = query.where(Report.forbund_id == forbund.id, col(Report.status).in_(REPORT_OWED))
    else:
        # Some insatser (what a change touched, or a batch of a whole plan): their reports,
        # found by insats. Given the förbund or the status as well, SQLite (which has no
        # statistics here) walks every owed report of the förbund by status for each batch;
        # the few reports not owed are passed over below.
        query = query.where(col(Report.insats_id).in_(only))
    for row in session.exec(query):
        if row.report_status not in REPORT_OWED:
            continue
        item = _insats_item(
            row,
            row.report_due_on,
            report_kind=REPORT_KIND_LABELS.get(row.report_kind, row.report_kind),
            period_end=row.report_period_end,
        )
        yield DueItem(
            subject_kind="report",
            subject_id=row.report_id,
            ref=item.ref,
            title=item.title,
            due_on=item.due_on,
            owner_id=item.owner_id,
            facts=item.facts,
        )


def _board_meetings(
    session: Session, forbund: ForbundRef, only: list[int] | None = None
) -> list[tuple[Meeting, Organ]]:
    # Imported here, not at the top: the meeting tables are among the dearest to build, and
    # only collecting due dates (planning) reads them, not a list of reminders or its owners.
    from workflow.models.meetings import Meeting, Organ

    query = (
        select(Meeting, Organ)
        .join(Organ, col(Organ.id) == col(Meeting.organ_id))
        .where(Meeting.forbund_id == forbund.id, Organ.kind == "styrelse")
    )
    if only is not None:
        query = query.where(col(Meeting.id).in_(only))
    return list(session.exec(query).all())


def _meeting_item(meeting: Meeting, organ: Organ) -> DueItem:
    day = local_date(meeting.starts_at)
    return DueItem(
        subject_kind="meeting",
        subject_id=meeting.id,  # type: ignore[arg-type]
        ref=day.isoformat(),
        title="Styrelsemöte",
        due_on=day,
        facts={"place": meeting.place, "organ": organ.name},
    )


def _meeting(session: Session, forbund: ForbundRef, window: Window) -> Iterable[DueItem]:
    # Once the kallelse is recorded as sent, nobody needs reminding.
    for meeting, organ in _board_meetings(session, forbund, window.meetings()):
        if meeting.kallelse_sent_at is None:
            yield _meeting_item(meeting, organ)


def _protocol_unjusterat(
    session: Session, forbund: ForbundRef, window: Window
) -> Iterable[DueItem]:
    """Board meetings whose protocol is not justerat yet (or not even opened)."""
    from workflow.models.meetings import Protocol  # only planning reads it (_board_meetings)

    only = window.meetings()
    query = select(Protocol.meeting_id, Protocol.status).where(Protocol.forbund_id == forbund.id)
    if only is not None:
        query = query.where(col(Protocol.meeting_id).in_(only))
    status: dict[int, str] = {meeting_id: state for meeting_id, state in session.exec(query)}
    for meeting, organ in _board_meetings(session, forbund, only):
        if status.get(meeting.id or 0) not in ("justerat", "anslaget"):
            yield _meeting_item(meeting, organ)


def policy_ref(document: PolicyDocument) -> str:
    return document.dnr or f"sd-{document.id}"


def _policy_renewal(session: Session, forbund: ForbundRef, window: Window) -> Iterable[DueItem]:
    query = select(PolicyDocument).where(
        PolicyDocument.forbund_id == forbund.id,
        col(PolicyDocument.state).in_(
            window.lifecycles["styrdokument"].lifecycle.tagged("in_force")
        ),
        col(PolicyDocument.renew_by).is_not(None),
    )
    only = window.documents()
    if only is not None:
        query = query.where(col(PolicyDocument.id).in_(only))
    for document in session.exec(query):
        yield DueItem(
            subject_kind="styrdokument",
            subject_id=document.id,  # type: ignore[arg-type]
            ref=policy_ref(document),
            title=document.title,
            due_on=document.renew_by,  # type: ignore[arg-type]
            owner_id=document.owner_id,
            facts={
                "kind": document.kind,
                "decided_on": document.decided_on,
                "decided_by": document.decided_by,
                "renewal_years": document.renewal_years,
            },
        )


def _yearly(session: Session, forbund: ForbundRef, window: Window) -> Iterable[DueItem]:
    if window.yearly_due is None or (window.only is not None and not window.only.forbund):
        return
    month, day = window.yearly_due
    for year in (window.today.year - 1, window.today.year, window.today.year + 1):
        yield DueItem(
            subject_kind="forbund",
            subject_id=forbund.id,  # type: ignore[arg-type]
            ref=str(year),
            title=forbund.name,
            due_on=date(year, month, day),
            facts={"year": year},
        )


_SAMPLE_INSATS = DueItem(
    "insats",
    1,
    "2013/011-01",
    "Utgångspunkten",
    date(2014, 12, 31),
    1,
    {"start": date(2013, 1, 1), "end": date(2014, 12, 31), "decision_paragraph": "§ 45"},
)

_SAMPLE_MEETING = DueItem(
    "meeting",
    1,
    "2013-11-28",
    "Styrelsemöte",
    date(2013, 11, 28),
    None,
    {"place": "Tjörn", "organ": "Styrelsen"},
)

SOURCES: dict[str, DueDateSource] = {
    s.name: s
    for s in [
        DueDateSource("insats_end", "insatsens slutdatum", _SAMPLE_INSATS, _insats_end),
        DueDateSource(
            "insats_justering", "dagen då beslutet justerades", _SAMPLE_INSATS, _insats_justering
        ),
        DueDateSource(
            "agreement_unsigned",
            "justerat beslut utan undertecknat avtal",
            _SAMPLE_INSATS,
            _agreement_unsigned,
        ),
        DueDateSource(
            "policy_renewal",
            "styrdokumentets sista dag för förnyelse",
            DueItem(
                "styrdokument",
                1,
                "sd-1",
                "Policydokument 2019–2022, LSG Örnsköldsvik",
                date(2022, 12, 31),
                1,
                {
                    "kind": "policy",
                    "decided_on": date(2018, 12, 11),
                    "decided_by": "Lokala samverkansgruppen",
                    "renewal_years": 4,
                },
            ),
            _policy_renewal,
        ),
        DueDateSource(
            "yearly",
            "en fast dag varje år (due: MM-DD)",
            DueItem(
                "forbund",
                1,
                "2026",
                "Samordningsförbundet",
                date(2026, 11, 30),
                None,
                {"year": 2026},
            ),
            _yearly,
        ),
        # The board and funding work's dates (workflow/models/meetings.py and funding.py).
        DueDateSource(
            "report_due",
            "rapportens förfallodag (rapportplanen)",
            DueItem(
                "report",
                1,
                "2013/011-01",
                "Utgångspunkten",
                date(2013, 8, 31),
                1,
                {
                    **_SAMPLE_INSATS.facts,
                    "report_kind": "delårsrapport",
                    "period_end": date(2013, 6, 30),
                },
            ),
            _report_due,
        ),
        DueDateSource(
            "meeting", "styrelsemötets dag (tills kallelsen är skickad)", _SAMPLE_MEETING, _meeting
        ),
        DueDateSource(
            "protocol_unjusterat",
            "styrelsemötets dag (tills protokollet är justerat)",
            _SAMPLE_MEETING,
            _protocol_unjusterat,
        ),
    ]
}


def owners(session: Session, subjects: Iterable[tuple[str, int]]) -> dict[tuple[str, int], int]:
    """The person responsible (`ansvarig`) for each of these subjects, as the sources above
    name them, in at most one query per kind: for a list of reminders, without collecting the
    förbund's due dates."""
    wanted: dict[str, set[int]] = {}
    for kind, subject_id in subjects:
        wanted.setdefault(kind, set()).add(subject_id)
    found: dict[tuple[str, int], int] = {}
    owner = func.coalesce(Insats.project_owner_id, Insats.submitted_by_id)
    if wanted.get("insats"):
        for insats_id, person_id in session.exec(
            select(Insats.id, owner).where(col(Insats.id).in_(sorted(wanted["insats"])))
        ):
            if person_id is not None:
                found["insats", insats_id] = person_id  # type: ignore[index]
    if wanted.get("report"):
        for report_id, person_id in session.exec(
            select(Report.id, owner)
            .join(Insats, col(Insats.id) == col(Report.insats_id))
            .where(col(Report.id).in_(sorted(wanted["report"])))
        ):
            if person_id is not None:
                found["report", report_id] = person_id  # type: ignore[index]
    if wanted.get("styrdokument"):
        for document_id, document_owner in session.exec(
            select(PolicyDocument.id, PolicyDocument.owner_id).where(
                col(PolicyDocument.id).in_(sorted(wanted["styrdokument"]))
            )
        ):
            if document_owner is not None:
                found["styrdokument", document_id] = document_owner  # type: ignore[index]
    return found
