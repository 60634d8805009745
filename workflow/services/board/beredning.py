"""Beredning: members' notes on a case and the group's recommendation.

The recommendation is a record of its own, shown beside the case's state; the case's
recommendation fields mirror the latest one. Bevilja, bevilja med villkor and avslå move the
case to rekommenderad (ready for the board's agenda; `rekommendera` is a step only this
performs); komplettera sends it back to the applicant with the missing items listed, and
`komplettering_till_beredning` brings it back.

A member acts in their own förbund's beredning: a note is written by a member of its
beredningsgrupp, and a meeting named with a note or a recommendation must be one of that group.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from workflow.app import App
from workflow.clock import local
from workflow.errors import BadInput, Conflict, NotPermitted
from workflow.models import BeredningNote, ForbundRef, Meeting, Organ, Person, Recommendation
from workflow.models.meetings import OrganKind
from workflow.services.board.records import find_meeting
from workflow.services.cases import audit, case_ref, find_case, fire_in
from workflow.services.cases.change import begin_change
from workflow.services.organisation.forbund import resolve_forbund
from workflow.services.organisation.organs import ensure_organ, members
from workflow.services.organisation.people import Actor, find_actor
from workflow.services.paging import check_limit
from workflow.text_guard import check_free_text, check_one_line
from workflow.vocabulary import Recommendation as Outcome
from workflow.vocabulary import parse_choice, recommendation_label


@dataclass
class RecommendationView:
    id: int
    dnr: str
    outcome: str
    outcome_label: str
    motivation: str
    conditions: str | None
    missing_items: list[str]
    unanimous: bool
    dissent: str | None
    recorded_by: str
    recorded_at: datetime
    case_state: str
    meeting_id: int | None = None


@dataclass
class NoteView:
    author: str
    text: str
    created_at: datetime


@dataclass
class BeredningView:
    dnr: str
    title: str
    state: str
    notes: list[NoteView] = field(default_factory=list)
    recommendations: list[RecommendationView] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _group_meeting(session: Session, forbund: ForbundRef, ref: str | None) -> Meeting | None:
    """The beredningsgrupp's meeting named, if any: a meeting of another organ is refused."""
    if ref is None:
        return None
    meeting = find_meeting(session, forbund, ref)
    organ = session.get(Organ, meeting.organ_id)
    if organ is None or organ.kind != OrganKind.BEREDNINGSGRUPP:
        name = organ.name if organ else "okänt organ"
        raise BadInput(
            f"möte {meeting.number} är {name}s möte, inte beredningsgruppens; ange gruppens möte"
        )
    return meeting


def _member_of_beredning(session: Session, forbund: ForbundRef, actor: Actor) -> None:
    """Refuse a person who is not a member of the förbund's beredningsgrupp."""
    group = ensure_organ(session, forbund, OrganKind.BEREDNINGSGRUPP.value)
    if all(person.id != actor.id for person, _ in members(session, group)):
        raise NotPermitted(
            f"{actor.email} är inte med i {group.name} i förbundet {forbund.slug}; "
            "anteckningar förs av gruppens medlemmar"
        )


def add_note(
    app: App,
    *,
    ref: str,
    actor_email: str,
    text: str,
    meeting: str | None = None,
    forbund: str | None = None,
) -> NoteView:
    """A beredningsgrupp member's note on a case under beredning (audited)."""
    now = app.clock()
    text = check_free_text(text.strip(), "anteckningen")
    if not text:
        raise BadInput("anteckningen är tom")
    with app.db.transaction() as session:
        organisation, head, actor = begin_change(session, forbund, actor_email)
        case = find_case(session, organisation, ref)
        app.actions.require(actor, "beredning_note")
        _member_of_beredning(session, organisation, actor)
        if case.state != "under_beredning":
            raise NotPermitted(
                f"{case.dnr} är inte under beredning; anteckningar förs under beredningen"
            )
        held = _group_meeting(session, organisation, meeting)
        note = BeredningNote(
            insats_id=case.id,  # type: ignore[arg-type]
            meeting_id=held.id if held else None,
            author_id=actor.id,  # type: ignore[arg-type]
            text=text,
            created_at=now,
        )
        session.add(note)
        session.flush()
        audit.append(
            session,
            head,
            subject_kind="beredning",
            subject_id=note.id,  # type: ignore[arg-type]
            subject_ref=case_ref(case),
            from_state=None,
            to_state="anteckning",
            trigger="anteckna",
            actor=actor,
            at=now,
            data={"meeting_id": note.meeting_id},
        )
        return NoteView(actor.name, text, local(now, app.settings.zone))


def _recommendation_view(
    rec: Recommendation, by: Person | Actor, dnr: str, state: str, app: App
) -> RecommendationView:
    return RecommendationView(
        id=rec.id,  # type: ignore[arg-type]
        dnr=dnr,
        outcome=rec.outcome,
        outcome_label=recommendation_label(rec.outcome),
        motivation=rec.motivation,
        conditions=rec.conditions,
        missing_items=list(rec.missing_items),
        unanimous=rec.unanimous,
        dissent=rec.dissent,
        recorded_by=by.email,
        recorded_at=local(rec.recorded_at, app.settings.zone),
        case_state=state,
        meeting_id=rec.meeting_id,
    )


def record_recommendation(
    app: App,
    *,
    ref: str,
    actor_email: str,
    outcome: str,
    motivation: str,
    conditions: str | None = None,
    missing_items: list[str] | None = None,
    dissent: str | None = None,
    meeting: str | None = None,
    forbund: str | None = None,
) -> RecommendationView:
    """Record the group's outcome and move the case, in one transaction.

    Steps: check the input; take the chain lock; write the recommendation row; mirror it on
    the case and fire `rekommendera` (or `begar_komplettering` with the missing items).
    """
    now = app.clock()
    choice = parse_choice(Outcome, outcome, "rekommendation")
    motivation = check_free_text((motivation or "").strip(), "motiveringen")
    if not motivation:
        raise BadInput("rekommendationen behöver en motivering; ange --motivation")
    items = [check_one_line(i, "det som saknas") for i in (missing_items or []) if i.strip()]
    if choice is Outcome.KOMPLETTERA and not items:
        raise BadInput("komplettera: ange vad som saknas med --missing (en gång per sak)")
    if choice is Outcome.BEVILJA_MED_VILLKOR and not (conditions or "").strip():
        raise BadInput("bevilja med villkor: ange villkoren med --conditions")
    dissent_text = check_free_text(dissent.strip(), "avvikande mening") if dissent else None
    try:
        with app.db.transaction() as session:
            organisation, _, actor = begin_change(session, forbund, actor_email)
            case = find_case(session, organisation, ref)
            app.actions.require(actor, "record_recommendation")
            held = _group_meeting(session, organisation, meeting)
            if case.state != "under_beredning":
                raise NotPermitted(
                    f"{case.dnr or ref} är inte under beredning (tillstånd {case.state}); "
                    "en rekommendation registreras under beredningen"
                )
            rec = Recommendation(
                forbund_id=organisation.id,  # type: ignore[arg-type]
                insats_id=case.id,  # type: ignore[arg-type]
                meeting_id=held.id if held else None,
                outcome=choice.value,
                motivation=motivation,
                conditions=check_free_text(conditions.strip(), "villkoren") if conditions else None,
                missing_items=items,
                unanimous=dissent_text is None,
                dissent=dissent_text,
                recorded_by_id=actor.id,  # type: ignore[arg-type]
                recorded_at=now,
            )
            session.add(rec)
            if choice is Outcome.KOMPLETTERA:
                case.recommendation = choice.value
                case.recommendation_motivation = motivation
                fire_in(
                    session,
                    app,
                    forbund=organisation,
                    case=case,
                    actor=actor,
                    trigger="begar_komplettering",
                    now=now,
                    comment="Beredningsgruppen begär komplettering: " + "; ".join(items),
                )
            else:
                fire_in(
                    session,
                    app,
                    forbund=organisation,
                    case=case,
                    actor=actor,
                    trigger="rekommendera",
                    now=now,
                    values={
                        "recommendation": choice.value,
                        "recommendation_motivation": motivation,
                    },
                    comment=dissent_text and f"Avvikande mening: {dissent_text}",
                    service="beredning",
                )
            session.flush()
            return _recommendation_view(rec, actor, case.dnr or ref, case.state, app)
    except StaleDataError:
        raise Conflict(f"{ref} ändrades samtidigt av någon annan; försök igen") from None


def get_beredning(app: App, *, ref: str, forbund: str | None = None) -> BeredningView:
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        case = find_case(session, organisation, ref)
        view = BeredningView(case.dnr or ref, case.title, case.state)
        for note, person in session.exec(
            select(BeredningNote, Person)
            .join(Person, col(Person.id) == col(BeredningNote.author_id))
            .where(BeredningNote.insats_id == case.id)
            .order_by(col(BeredningNote.id))
        ):
            view.notes.append(
                NoteView(person.name, note.text, local(note.created_at, app.settings.zone))
            )
        for rec, person in session.exec(
            select(Recommendation, Person)
            .join(Person, col(Person.id) == col(Recommendation.recorded_by_id))
            .where(Recommendation.insats_id == case.id)
            .order_by(col(Recommendation.id))
        ):
            view.recommendations.append(
                _recommendation_view(rec, person, case.dnr or ref, case.state, app)
            )
        return view


@dataclass
class BeredningCase:
    """One case under beredning with what the group reads beside it."""

    case: Any  # cases.CaseView: the application as the case page shows it
    beredning: BeredningView


@dataclass
class BeredningBoard:
    """The beredningsgrupp's page: one page of the cases under beredning in the förbund (by
    dnr), how many there are, and what the person looking may do there."""

    cases: list[BeredningCase]
    may_note: bool
    may_recommend: bool
    # The beredningsgrupp's meetings a note or recommendation may name: (number, label).
    meetings: list[tuple[int, str]] = field(default_factory=list)
    # Every case under beredning the person may see, and where the next page starts.
    count: int = 0
    next_after: str | None = None


# Who reads the beredningsgrupp's page: those who take part in it and the kansli.
_READERS = ("beredning_note", "record_recommendation", "build_agenda")
# Cases a page of the board: each is an application with its notes and two forms.
BOARD_PAGE = 20
MAX_BOARD_PAGE = 100


def beredning_board(
    app: App,
    *,
    viewer_email: str,
    forbund: str | None = None,
    after: str | None = None,
    limit: int = BOARD_PAGE,
) -> BeredningBoard:
    """One page of the cases under beredning (the case list's order and cursor) with their
    application, notes and recommendations: a fixed number of queries whatever the number of
    cases (the page's cases in the case list's few, their notes and recommendations in one
    each, and the count of them all).

    Refused (NotPermitted) to a person who neither takes part in the beredning nor works in
    the kansli: recommendations before the board's decision are not for everyone.
    """
    from workflow.services.cases.views import CaseFilter, count_cases, list_cases

    check_limit(limit, MAX_BOARD_PAGE)
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund, viewer_email)
        actor = find_actor(session, organisation, viewer_email)
        if not any(app.actions.allows(actor, name) for name in _READERS):
            raise NotPermitted(
                f"{actor.email} deltar inte i beredningen; sidan är för beredningsgruppen "
                "och förbundets kansli"
            )
        group = session.exec(
            select(Organ).where(
                Organ.forbund_id == organisation.id,
                Organ.kind == OrganKind.BEREDNINGSGRUPP.value,
            )
        ).first()
        is_member = group is not None and any(
            person.id == actor.id for person, _ in members(session, group)
        )
        held: list[tuple[int, str]] = []
        if group is not None:
            for meeting in session.exec(
                select(Meeting)
                .where(Meeting.organ_id == group.id)
                .order_by(col(Meeting.starts_at).desc())
                .limit(12)
            ):
                when = local(meeting.starts_at, app.settings.zone)
                held.append((meeting.number or meeting.id, f"{when:%Y-%m-%d}, {meeting.place}"))  # type: ignore[misc]
        slug = organisation.slug
    filters = CaseFilter(state="under_beredning", viewer_email=viewer_email)
    page = list_cases(app, forbund=slug, filters=filters, after=after, limit=limit)
    with app.db.reading() as session:
        beredning = _beredning_of(session, app, page.items)
    return BeredningBoard(
        cases=[BeredningCase(case, beredning[case.id]) for case in page.items],
        may_note=app.actions.allows(actor, "beredning_note") and is_member,
        may_recommend=app.actions.allows(actor, "record_recommendation"),
        meetings=held,
        count=count_cases(app, forbund=slug, filters=filters),
        next_after=page.next_after,
    )


def _beredning_of(session: Session, app: App, shown: list[Any]) -> dict[int, BeredningView]:
    """get_beredning for each of these cases (CaseViews): their notes and recommendations
    in one query each, whatever the number of cases."""
    views = {case.id: BeredningView(case.dnr or case.ref, case.title, case.state) for case in shown}
    if not views:
        return views
    ids = sorted(views)
    for note, person in session.exec(
        select(BeredningNote, Person)
        .join(Person, col(Person.id) == col(BeredningNote.author_id))
        .where(col(BeredningNote.insats_id).in_(ids))
        .order_by(col(BeredningNote.id))
    ):
        views[note.insats_id].notes.append(
            NoteView(person.name, note.text, local(note.created_at, app.settings.zone))
        )
    for rec, person in session.exec(
        select(Recommendation, Person)
        .join(Person, col(Person.id) == col(Recommendation.recorded_by_id))
        .where(col(Recommendation.insats_id).in_(ids))
        .order_by(col(Recommendation.id))
    ):
        view = views[rec.insats_id]
        view.recommendations.append(_recommendation_view(rec, person, view.dnr, view.state, app))
    return views
