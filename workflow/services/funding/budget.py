"""The förbund's yearly budget frame and the granted budget lines of its insatser.

Per year: available = frame (the parties' contributions) + surplus carried in (given, or the
previous year's result); costs = granted insats lines + other activity lines + what is left of
the room kept for new insatser + evaluation + administration; result = available - costs.
A grant made after the frame was adopted draws on the room kept for new insatser first; a
grant that would turn the result of its year, or of a later year it carries into, negative is
refused unless the caller confirms it (over_frame), and the warning is kept in the audit trail.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import cast, exists, func, null, union_all
from sqlmodel import Session, col, select

from workflow.app import App
from workflow.clock import local_date
from workflow.errors import BadInput, NotFound, NotPermitted
from workflow.models import (
    BudgetFrame,
    BudgetLine,
    ForbundRef,
    FrameContribution,
    FrameItem,
    Insats,
    Party,
)
from workflow.services.cases import case_ref, find_case
from workflow.services.funding.support import (
    parse_amounts,
    parse_tkr,
    parse_year,
    record,
)
from workflow.services.organisation.forbund import resolve_forbund
from workflow.services.paging import Keyset, bytewise, check_limit
from workflow.settings import FundingSettings
from workflow.text_guard import check_one_line
from workflow.vocabulary import Inriktning, PartyKind, parse_choice

if TYPE_CHECKING:
    from workflow.services.organisation.people import Actor

# A grant follows the board's bifall; it may be recorded before or after justering.
SECTIONS = {
    "insatser": "Insatser",
    "reserv": "Utrymme för nya insatser",
    "utvardering": "Utvärdering",
    "administration": "Administration",
}


# -- the frame ------------------------------------------------------------------------------


def _largest_remainder(total: int, weights: list[float]) -> list[int]:
    """Whole tkr that add up to `total`, as close to the weights as possible."""
    if not weights:
        return []
    if sum(weights) <= 0:
        weights = [1.0] * len(weights)
    exact = [total * w / sum(weights) for w in weights]
    parts = [int(x) for x in exact]
    order = sorted(range(len(exact)), key=lambda i: exact[i] - parts[i], reverse=True)
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def contributions(
    total: int, parties: list[Party], settings: FundingSettings
) -> list[tuple[str, Party | None, str, int]]:
    """(share, party, label, tkr): the state half (FK, covering AF), the regions' quarter, the
    kommuner's quarter split per the avsiktsförklaring (config kommun_split) or equally."""
    state, region, kommun = _largest_remainder(
        total, [settings.state_percent, settings.region_percent, settings.kommun_percent]
    )
    result: list[tuple[str, Party | None, str, int]] = [
        ("stat", None, "Försäkringskassan/Arbetsförmedlingen", state)
    ]
    regions = [p for p in parties if p.kind == PartyKind.REGION]
    for party, amount in zip(
        regions, _largest_remainder(region, [1.0] * len(regions)), strict=True
    ):
        result.append(("region", party, party.name, amount))
    kommuner = [p for p in parties if p.kind == PartyKind.KOMMUN]
    split = settings.kommun_split
    if split:
        missing = [p.name for p in kommuner if p.name not in split]
        if missing:
            raise BadInput(
                f"kommunfördelningen i [funding].kommun_split saknar {', '.join(missing)}; "
                "ange en vikt för varje kommun i config/finsam.toml"
            )
    weights = [float(split.get(p.name, 1.0)) if split else 1.0 for p in kommuner]
    for party, amount in zip(kommuner, _largest_remainder(kommun, weights), strict=True):
        result.append(("kommun", party, party.name, amount))
    return result


def _frame(session: Session, forbund: ForbundRef, year: int) -> BudgetFrame | None:
    return session.exec(
        select(BudgetFrame).where(BudgetFrame.forbund_id == forbund.id, BudgetFrame.year == year)
    ).first()


def _require_frame(session: Session, forbund: ForbundRef, year: int) -> BudgetFrame:
    frame = _frame(session, forbund, year)
    if frame is None:
        raise NotFound(
            f"ingen budgetram för {year}; lägg in den med 'finsam budget frame --year {year} ...'"
        )
    return frame


def set_frame(
    app: App,
    *,
    year: Any,
    total: Any,
    actor_email: str,
    adopted_on: date | None = None,
    surplus_in: Any = None,
    paragraph: str | None = None,
    forbund: str | None = None,
) -> YearFigures:
    """Adopt (or revise) the frame of a year; the contributions follow the FINSAM split."""
    now = app.clock()
    year = parse_year(year)
    total = parse_tkr(total, "finansiell ram")
    surplus = None if surplus_in is None else parse_tkr(surplus_in, "överskott")
    paragraph = check_one_line(paragraph, "paragrafen", 40) if paragraph else None
    # A change opens with the audit chain and the actor: imported by the writes alone.
    from workflow.services.cases.change import begin_change

    with app.db.transaction() as session:
        organisation, head, actor = begin_change(session, forbund, actor_email)
        app.actions.require(actor, "set_frame")
        frame = _frame(session, organisation, year)
        before = (
            None if frame is None else {"total": frame.total_tkr, "surplus": frame.surplus_in_tkr}
        )
        if frame is None:
            frame = BudgetFrame(
                forbund_id=organisation.id,  # type: ignore[arg-type]
                year=year,
                total_tkr=total,
                adopted_on=adopted_on or local_date(now, app.settings.zone),
                updated_at=now,
            )
        frame.total_tkr = total
        frame.surplus_in_tkr = surplus
        if adopted_on is not None:
            frame.adopted_on = adopted_on
        frame.adopted_paragraph = paragraph or frame.adopted_paragraph
        frame.updated_at = now
        session.add(frame)
        session.flush()
        # The earlier split stays, superseded: only the dokumenthanteringsplan disposes of it.
        for old in session.exec(
            select(FrameContribution).where(
                FrameContribution.frame_id == frame.id,
                col(FrameContribution.superseded_at).is_(None),
            )
        ):
            old.superseded_at = now
            session.add(old)
        parties = list(
            session.exec(
                select(Party).where(Party.forbund_id == organisation.id).order_by(col(Party.id))
            )
        )
        for share, party, label, amount in contributions(total, parties, app.settings.funding):
            session.add(
                FrameContribution(
                    frame_id=frame.id,  # type: ignore[arg-type]
                    share=share,
                    party_id=party.id if party else None,
                    label=label,
                    amount_tkr=amount,
                )
            )
        record(
            session,
            head,
            kind="budget_frame",
            row_id=frame.id,  # type: ignore[arg-type]
            ref=f"budget {year}",
            from_state=None if before is None else "faststalld",
            to_state="faststalld",
            trigger="faststall_ram" if before is None else "andra_ram",
            actor=actor,
            now=now,
            data={"year": year, "total_tkr": total, "surplus_in_tkr": surplus, "before": before},
        )
        return figures_in(session, app, organisation, [year])[year]


def set_item(
    app: App,
    *,
    year: Any,
    section: str,
    label: str,
    amount: Any,
    actor_email: str,
    group: str = "",
    inriktning: str | None = None,
    forbund: str | None = None,
) -> YearFigures:
    """Add or change a cost line of the frame (not a granted insats)."""
    now = app.clock()
    year = parse_year(year)
    if section not in SECTIONS:
        raise BadInput(f"okänd budgetdel {section!r}; välj bland: {', '.join(SECTIONS)}")
    label = check_one_line(label, "budgetpostens namn")
    group = check_one_line(group, "gruppens namn", 100) if group.strip() else ""
    tkr = parse_tkr(amount, label)
    kind = parse_choice(Inriktning, inriktning, "inriktning").value if inriktning else None
    # A change opens with the audit chain and the actor: imported by the writes alone.
    from workflow.services.cases.change import begin_change

    with app.db.transaction() as session:
        organisation, head, actor = begin_change(session, forbund, actor_email)
        app.actions.require(actor, "set_frame_item")
        frame = _require_frame(session, organisation, year)
        item = session.exec(
            select(FrameItem).where(
                FrameItem.frame_id == frame.id,
                FrameItem.section == section,
                FrameItem.group_label == group,
                FrameItem.label == label,
            )
        ).first()
        before = None if item is None else item.amount_tkr
        if item is None and section == "reserv":
            other = session.exec(
                select(FrameItem).where(
                    FrameItem.frame_id == frame.id, FrameItem.section == section
                )
            ).first()
            if other is not None:
                raise BadInput(
                    f"ramen {year} har redan utrymmet för nya insatser ({other.label!r}); "
                    "ändra beloppet på den posten i stället"
                )
        if item is None:
            count = len(
                session.exec(select(FrameItem.id).where(FrameItem.frame_id == frame.id)).all()
            )
            item = FrameItem(
                frame_id=frame.id,  # type: ignore[arg-type]
                section=section,
                group_label=group,
                label=label,
                amount_tkr=tkr,
                position=count + 1,
            )
        item.amount_tkr = tkr
        item.inriktning = kind if kind else item.inriktning
        session.add(item)
        record(
            session,
            head,
            kind="budget_frame",
            row_id=frame.id,  # type: ignore[arg-type]
            ref=f"budget {year}",
            from_state="faststalld",
            to_state="faststalld",
            trigger="andra_post",
            actor=actor,
            now=now,
            data={"section": section, "group": group, "label": label, "tkr": tkr, "before": before},
        )
        return figures_in(session, app, organisation, [year])[year]


# -- figures --------------------------------------------------------------------------------


@dataclass(slots=True)
class InsatsAmount:
    ref: str
    title: str
    inriktning: str
    granted_tkr: int
    reserve_drawn_tkr: int


@dataclass
class YearFigures:
    year: int
    frame_tkr: int
    surplus_in_tkr: int
    available_tkr: int
    insatser: list[InsatsAmount]
    items: list[dict[str, Any]]
    contributions: list[dict[str, Any]]
    reserve_planned_tkr: int
    reserve_left_tkr: int
    administration_tkr: int
    costs_tkr: int
    result_tkr: int
    room_for_new_tkr: int
    individ_tkr: int
    struktur_tkr: int
    individ_percent: int | None
    national_individ_percent: int
    adopted_on: date
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# (insats_id, year) -> (granted, drawn from the reserve) that replaces what is stored.
Overrides = dict[tuple[int, int], tuple[int, int]]


_LINE = BudgetLine.__table__  # type: ignore[attr-defined]
_CASE = Insats.__table__  # type: ignore[attr-defined]
# A line's order in every list of lines: its insats by dnr (then id), then the year.
_LINE_ORDER = (_CASE.c.dnr, _CASE.c.id, _LINE.c.year)


def _lines(
    session: Session, forbund: ForbundRef, years: list[int] | None = None
) -> list[tuple[BudgetLine, Insats]]:
    query = (
        select(BudgetLine, Insats)
        .join(Insats, col(Insats.id) == col(BudgetLine.insats_id))
        .where(BudgetLine.forbund_id == forbund.id)
    )
    if years is not None:
        query = query.where(col(BudgetLine.year).in_(years))
    return list(session.exec(query.order_by(*_LINE_ORDER)).all())


@dataclass
class _Sums:
    """What a year's granted lines add up to: granted, drawn from the reserve, and granted per
    inriktning."""

    granted: int = 0
    drawn: int = 0
    by_inriktning: dict[str, int] = field(default_factory=dict)

    def add(self, inriktning: str, granted: int, drawn: int) -> None:
        self.granted += granted
        self.drawn += drawn
        self.by_inriktning[inriktning] = self.by_inriktning.get(inriktning, 0) + granted


def _line_sums(
    session: Session,
    forbund: ForbundRef,
    years: list[int],
    overrides: Overrides,
    extra: list[tuple[Insats, int]],
) -> dict[int, _Sums]:
    """The sums of the lines of `years`, added up by the database (one query, whatever the
    number of lines; none for no years), with the lines in `overrides` replaced (one more
    query for their stored values) and the lines in `extra` that are not stored yet added.

    The query adds up every line of a year from the lines' index (ix_budget_line_forbund_year)
    and, apart, the lines of the insatser not individinriktade, found from the insatser: the
    individinriktade's share is the rest. Grouping every line by its insats's inriktning would
    look up the insats of each line (72 000 at 100 000 cases, half the budget page's time)."""
    sums: dict[int, _Sums] = {}
    if not years:
        return sums
    everything = (
        select(
            _LINE.c.year,
            cast(null(), _CASE.c.inriktning.type),
            func.sum(_LINE.c.granted_tkr),
            func.sum(_LINE.c.reserve_drawn_tkr),
        )
        .where(_LINE.c.forbund_id == forbund.id, _LINE.c.year.in_(years))
        .group_by(_LINE.c.year)
    )
    others = (
        select(
            _LINE.c.year,
            _CASE.c.inriktning,
            func.sum(_LINE.c.granted_tkr),
            func.sum(_LINE.c.reserve_drawn_tkr),
        )
        .select_from(_CASE.join(_LINE, _LINE.c.insats_id == _CASE.c.id))
        .where(
            # The förbund named on the insatser only, so that the database starts from them
            # and finds their lines by insats (named on the lines too, SQLite would walk
            # every line of the years and look up each one's insats).
            _CASE.c.forbund_id == forbund.id,
            _CASE.c.inriktning != Inriktning.INDIVID.value,
            _LINE.c.year.in_(years),
        )
        .group_by(_LINE.c.year, _CASE.c.inriktning)
    )
    rest: dict[int, int] = {}
    for year, inriktning, granted, drawn in session.exec(union_all(everything, others)):
        year_sums = sums.setdefault(year, _Sums())
        if inriktning is None:  # the year's every line
            year_sums.granted += int(granted)
            year_sums.drawn += int(drawn)
            rest[year] = rest.get(year, 0) + int(granted)
        else:
            year_sums.by_inriktning[inriktning] = int(granted)
            rest[year] = rest.get(year, 0) - int(granted)
    for year, individ in rest.items():
        sums[year].by_inriktning[Inriktning.INDIVID.value] = individ
    if not overrides:
        return sums
    seen: set[tuple[int, int]] = set()
    for insats_id, year, inriktning, granted, drawn in session.exec(
        select(
            _LINE.c.insats_id,
            _LINE.c.year,
            _CASE.c.inriktning,
            _LINE.c.granted_tkr,
            _LINE.c.reserve_drawn_tkr,
        )
        .join(_CASE, _CASE.c.id == _LINE.c.insats_id)
        .where(
            _LINE.c.forbund_id == forbund.id,
            _LINE.c.year.in_(years),
            _LINE.c.insats_id.in_(sorted({key[0] for key in overrides})),
        )
    ):
        key = (insats_id, year)
        seen.add(key)
        if key in overrides:
            new_granted, new_drawn = overrides[key]
            sums[year].add(inriktning, new_granted - granted, new_drawn - drawn)
    for case, year in extra:
        key = (case.id, year)  # type: ignore[assignment]
        if year in years and key not in seen and key in overrides:
            new_granted, new_drawn = overrides[key]  # type: ignore[index]
            sums.setdefault(year, _Sums()).add(case.inriktning, new_granted, new_drawn)
    return sums


def _sums_of(lines: list[InsatsAmount]) -> _Sums:
    """What `_line_sums` gives for a year whose lines are read anyway (overrides applied)."""
    granted: dict[str, int] = {}
    drawn = 0
    for line in lines:  # _Sums.add inlined: a year has thousands of lines
        granted[line.inriktning] = granted.get(line.inriktning, 0) + line.granted_tkr
        drawn += line.reserve_drawn_tkr
    return _Sums(sum(granted.values()), drawn, granted)


def _amounts(
    session: Session,
    forbund: ForbundRef,
    years: list[int],
    overrides: Overrides,
    extra: list[tuple[Insats, int]],
) -> dict[int, list[InsatsAmount]]:
    """Each insats's line in the years asked for, in dnr order: plain rows of the columns
    shown (no ORM objects), one query."""
    amounts: dict[int, list[InsatsAmount]] = {}
    if not years:
        return amounts
    seen: set[tuple[int, int]] = set()
    rows = session.exec(
        select(
            _CASE.c.dnr,
            _CASE.c.number,
            _CASE.c.id,
            _CASE.c.title,
            _CASE.c.inriktning,
            _LINE.c.year,
            _LINE.c.granted_tkr,
            _LINE.c.reserve_drawn_tkr,
        )
        .join(_CASE, _CASE.c.id == _LINE.c.insats_id)
        .where(_LINE.c.forbund_id == forbund.id, _LINE.c.year.in_(sorted(set(years))))
        .order_by(*_LINE_ORDER)
    )
    for dnr, number, insats_id, title, inriktning, year, granted, drawn in rows:
        if overrides:  # only while a grant is weighed; a report has none
            key = (insats_id, year)
            seen.add(key)
            granted, drawn = overrides.get(key, (granted, drawn))
        ref = dnr or f"ide-{number or insats_id}"  # case_ref without the ORM object
        per_year = amounts.get(year)
        if per_year is None:
            per_year = amounts[year] = []
        per_year.append(InsatsAmount(ref, title, inriktning, granted, drawn))
    for case, year in extra:
        key = (case.id, year)  # type: ignore[assignment]
        if year in years and key not in seen and key in overrides:
            granted, drawn = overrides[key]  # type: ignore[index]
            amounts.setdefault(year, []).append(
                InsatsAmount(case_ref(case), case.title, case.inriktning, granted, drawn)
            )
    return amounts


def _frames_through(
    session: Session, forbund: ForbundRef, through: int | None
) -> list[BudgetFrame]:
    query = select(BudgetFrame).where(BudgetFrame.forbund_id == forbund.id)
    if through is not None:
        query = query.where(BudgetFrame.year <= through)
    return list(session.exec(query.order_by(col(BudgetFrame.year))))


def figures_in(
    session: Session,
    app: App,
    forbund: ForbundRef,
    years: list[int],
    overrides: Overrides | None = None,
    extra: list[tuple[Insats, int]] | None = None,
    through: int | None = None,
) -> dict[int, YearFigures]:
    """The figures of every year that has a frame (up to `through`, if given: a year's
    figures need only the years before it); surplus carries from year to year.

    The years asked for (`years`) carry their insatser's lines (`YearFigures.insatser`) and
    their sums are added up from those; the other years' only the sums, which the database
    adds up. Steps, each one query whatever the number of lines: the frames, the sums per
    year and inriktning (only if a year besides those asked for has a frame), the lines of
    the years asked for, the frames' items and their shares (and, with `overrides`, the
    stored lines they replace)."""
    frames = _frames_through(session, forbund, through)
    overrides = overrides or {}
    amounts = _amounts(session, forbund, years, overrides, extra or [])
    # A year asked for has its lines read already; the database sums only the others.
    sums = _line_sums(
        session,
        forbund,
        sorted({frame.year for frame in frames} - set(years)),
        overrides,
        extra or [],
    )
    for year, lines in amounts.items():
        sums[year] = _sums_of(lines)
    return _year_figures(session, app, frames, years, amounts, sums)


def _year_figures(
    session: Session,
    app: App,
    frames: list[BudgetFrame],
    years: list[int],
    amounts: dict[int, list[InsatsAmount]],
    sums: dict[int, _Sums],
) -> dict[int, YearFigures]:
    """The figures of the frames from their lines' sums (and the lines of the years that
    carry them); the years asked for must have a frame."""
    settings = app.settings.funding
    # The frames' items and shares in one query each, whatever the number of years.
    frame_ids = [frame.id for frame in frames]
    items_of: dict[int, list[FrameItem]] = {}
    shares_of: dict[int, list[FrameContribution]] = {}
    if frame_ids:
        for item in session.exec(
            select(FrameItem)
            .where(col(FrameItem.frame_id).in_(frame_ids))
            .order_by(col(FrameItem.position), col(FrameItem.id))
        ):
            items_of.setdefault(item.frame_id, []).append(item)
        for share in session.exec(
            select(FrameContribution)
            .where(
                col(FrameContribution.frame_id).in_(frame_ids),
                col(FrameContribution.superseded_at).is_(None),
            )
            .order_by(col(FrameContribution.id))
        ):
            shares_of.setdefault(share.frame_id, []).append(share)
    result: dict[int, YearFigures] = {}
    previous: YearFigures | None = None
    for frame in frames:
        items = items_of.get(frame.id, [])  # type: ignore[arg-type]
        shares = shares_of.get(frame.id, [])  # type: ignore[arg-type]
        lines = amounts.get(frame.year, [])
        year_sums = sums.get(frame.year, _Sums())
        if frame.surplus_in_tkr is not None:
            surplus = frame.surplus_in_tkr
        elif previous is not None and previous.year == frame.year - 1:
            surplus = previous.result_tkr
        else:
            surplus = 0
        available = frame.total_tkr + surplus
        reserve = sum(i.amount_tkr for i in items if i.section == "reserv")
        drawn = year_sums.drawn
        reserve_left = max(0, reserve - drawn)
        other = sum(i.amount_tkr for i in items if i.section in {"insatser", "utvardering"})
        administration = sum(i.amount_tkr for i in items if i.section == "administration")
        granted = year_sums.granted
        costs = granted + other + reserve_left + administration
        individ = year_sums.by_inriktning.get(Inriktning.INDIVID, 0) + sum(
            i.amount_tkr
            for i in items
            if i.inriktning == Inriktning.INDIVID and i.section != "reserv"
        )
        struktur = year_sums.by_inriktning.get(Inriktning.STRUKTUR, 0) + sum(
            i.amount_tkr
            for i in items
            if i.inriktning == Inriktning.STRUKTUR and i.section != "reserv"
        )
        figures = YearFigures(
            year=frame.year,
            frame_tkr=frame.total_tkr,
            surplus_in_tkr=surplus,
            available_tkr=available,
            insatser=lines,
            items=[
                {
                    "section": i.section,
                    "group": i.group_label,
                    "label": i.label,
                    "tkr": i.amount_tkr,
                    "inriktning": i.inriktning,
                }
                for i in items
            ],
            contributions=[
                {"share": s.share, "label": s.label, "tkr": s.amount_tkr} for s in shares
            ],
            reserve_planned_tkr=reserve,
            reserve_left_tkr=reserve_left,
            administration_tkr=administration,
            costs_tkr=costs,
            result_tkr=available - costs,
            room_for_new_tkr=available - costs + reserve_left,
            individ_tkr=individ,
            struktur_tkr=struktur,
            individ_percent=round(individ * 100 / (individ + struktur))
            if individ + struktur
            else None,
            national_individ_percent=settings.national_individ_percent,
            adopted_on=frame.adopted_on,
        )
        if figures.result_tkr < 0:
            figures.warnings.append(
                f"kostnaderna {frame.year} överskrider ramen med {-figures.result_tkr} tkr"
            )
        result[frame.year] = figures
        previous = figures
    missing = [y for y in years if y not in result]
    if missing and years:
        raise NotFound(
            f"ingen budgetram för {', '.join(map(str, missing))}; "
            "lägg in den med 'finsam budget frame --year ÅR --total TKR'"
        )
    return result


def _wanted(years: list[Any]) -> list[int]:
    wanted = [parse_year(y) for y in years]
    if not wanted:
        raise BadInput("ange minst ett år med --year")
    return wanted


def figures(app: App, *, years: list[Any], forbund: str | None = None) -> list[YearFigures]:
    wanted = _wanted(years)
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        computed = figures_in(session, app, organisation, wanted, through=max(wanted))
        return [computed[y] for y in wanted]


@dataclass
class NamedInsatser:
    """The first insatser of some years, in the order `figures` lists them (year by year as
    asked, each year's in dnr order, an insats in the first year that has its line), with
    their grants per year, and how many insatser more have lines in those years and what
    they grant per year."""

    titles: list[tuple[str, str]]  # (ref, title)
    granted: dict[int, dict[str, int]]  # year -> ref -> granted tkr
    others: int
    others_tkr: dict[int, int]


def _first_insatser(
    session: Session, forbund: ForbundRef, years: list[int], limit: int
) -> list[Any]:
    """(id, dnr, number, title) of the first `limit` insatser with lines in the years, in the
    order `figures` lists them: a year's in dnr order (_LINE_ORDER) after those of the years
    before it. A query per year until there are enough, each walking the insatser in dnr
    order and stopping when it has them (not a sort of every line)."""
    head = (_CASE.c.id, _CASE.c.dnr, _CASE.c.number, _CASE.c.title)

    def has_line(*in_years: int) -> Any:
        return exists(
            select(_LINE.c.id).where(
                _LINE.c.insats_id == _CASE.c.id,
                _LINE.c.forbund_id == forbund.id,
                _LINE.c.year.in_(in_years),
            )
        )

    chosen: list[Any] = []
    for index, year in enumerate(years):
        if len(chosen) >= limit:
            break
        query = select(*head).where(_CASE.c.forbund_id == forbund.id, has_line(year))
        if index:  # an insats first seen in an earlier year keeps its place there
            query = query.where(~has_line(*years[:index]))
        chosen += session.exec(
            query.order_by(_CASE.c.dnr, _CASE.c.id).limit(limit - len(chosen))
        ).all()
    return chosen


def _named_in(
    session: Session,
    forbund: ForbundRef,
    years: list[int],
    limit: int,
    sums: dict[int, _Sums],
) -> NamedInsatser:
    """The first `limit` insatser of the years and their lines, and how many insatser there
    are in all (a query each, besides those of _first_insatser); what the others grant is
    the years' sums (`sums`, added up by the database) less what the named ones grant."""
    shown = list(dict.fromkeys(years))
    chosen = _first_insatser(session, forbund, shown, limit)
    # case_ref without the ORM object
    refs = {insats_id: dnr or f"ide-{number or insats_id}" for insats_id, dnr, number, _ in chosen}
    granted: dict[int, dict[str, int]] = {year: {} for year in shown}
    if refs:
        # By insats and year (the lines' unique key): the förbund's are those of its insatser.
        for insats_id, year, tkr in session.exec(
            select(_LINE.c.insats_id, _LINE.c.year, _LINE.c.granted_tkr).where(
                _LINE.c.insats_id.in_(sorted(refs)), _LINE.c.year.in_(shown)
            )
        ):
            granted[year][refs[insats_id]] = tkr
    count = session.exec(
        select(func.count(func.distinct(_LINE.c.insats_id))).where(
            _LINE.c.forbund_id == forbund.id, _LINE.c.year.in_(shown)
        )
    ).one()
    return NamedInsatser(
        [(refs[insats_id], title) for insats_id, _, _, title in chosen],
        granted,
        int(count) - len(chosen),
        {year: sums.get(year, _Sums()).granted - sum(granted[year].values()) for year in shown},
    )


def named_figures(
    app: App, *, years: list[Any], limit: int, forbund: str | None = None
) -> tuple[list[YearFigures], NamedInsatser]:
    """The figures of the years as `figures` gives them but without their lines (each
    YearFigures.insatser is empty: the database adds up every year), and their first
    `limit` insatser by name (NamedInsatser): for the budget page, in a fixed number of
    queries and rows whatever the number of insatser."""
    wanted = _wanted(years)
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        frames = _frames_through(session, organisation, max(wanted))
        sums = _line_sums(session, organisation, [frame.year for frame in frames], {}, [])
        computed = _year_figures(session, app, frames, wanted, {}, sums)
        named = _named_in(session, organisation, wanted, limit, sums)
        return [computed[y] for y in wanted], named


# -- grants ---------------------------------------------------------------------------------


@dataclass
class GrantResult:
    ref: str
    amounts: dict[str, int]
    reserve_drawn: dict[str, int]
    decision_paragraph: str
    warnings: list[str]
    room_after: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Assessment:
    drawn: dict[str, int]
    after: dict[int, Any]
    warnings: list[str]
    first_year: int

    @property
    def overrun(self) -> str | None:
        return next((w for w in self.warnings if w.startswith("beviljandet överskrider")), None)


def _assess(
    session: Session,
    app: App,
    forbund: ForbundRef,
    case: Insats,
    amounts: dict[str, int],
    decided_on: date,
    existing: dict[int, BudgetLine],
) -> _Assessment:
    """What granting `amounts` would do to the frame of each year it touches."""
    before = figures_in(session, app, forbund, [])
    overrides: Overrides = {}
    drawn: dict[str, int] = {}
    for year_text, tkr in sorted(amounts.items()):
        year = int(year_text)
        frame = before.get(year)
        old = existing.get(year)
        take = 0
        if frame is not None and decided_on >= frame.adopted_on:
            # A grant from the day the frame was adopted is a new insats: it uses the room kept
            # for it ("utrymme för nya insatser"); earlier grants are in the frame already.
            free = frame.reserve_left_tkr + (old.reserve_drawn_tkr if old else 0)
            take = min(tkr, free)
        overrides[(case.id, year)] = (tkr, take)  # type: ignore[index]
        drawn[year_text] = take
    after = figures_in(
        session, app, forbund, [], overrides, extra=[(case, int(y)) for y in amounts]
    )
    warnings: list[str] = []
    first = min(int(y) for y in amounts)
    for year in sorted(int(y) for y in amounts):
        if year not in after:
            warnings.append(f"ingen budgetram för {year} ännu; beloppet prövas när ramen finns")
    for year, fig in sorted(after.items()):
        if year >= first and fig.result_tkr < 0 and fig.result_tkr < before[year].result_tkr:
            room = before[year].room_for_new_tkr
            warnings.append(
                f"beviljandet överskrider ramen för {year} med {-fig.result_tkr} tkr "
                f"(utrymme för nya insatser före beslutet: {room} tkr)"
            )
    return _Assessment(drawn, after, warnings, first)


def frame_overrun(
    session: Session,
    app: App,
    *,
    forbund: ForbundRef,
    case: Insats,
    amounts: dict[str, int],
    decided_on: date,
) -> str | None:
    """The warning a board decision granting `amounts` would give, or None if it fits."""
    if not amounts:
        return None
    existing = {
        line.year: line
        for line in session.exec(select(BudgetLine).where(BudgetLine.insats_id == case.id))
    }
    return _assess(session, app, forbund, case, amounts, decided_on, existing).overrun


def grant_in(
    session: Session,
    app: App,
    *,
    forbund: ForbundRef,
    head: Any,
    case: Insats,
    actor: Actor,
    amounts: dict[str, int],
    paragraph: str,
    decided_on: date,
    now: datetime,
    over_frame: bool = False,
) -> GrantResult:
    """Record the board's grant per year inside the caller's transaction (after its bifall).

    The board's justerat decision is the authority here; the callers check who may act
    (`grant` for a grant registered by hand, the protocol service at justering).
    """
    lifecycle = app.lifecycles["insats"].lifecycle
    label_of = lifecycle.label_of
    existing = {
        line.year: line
        for line in session.exec(select(BudgetLine).where(BudgetLine.insats_id == case.id))
    }
    # A running insats whose grant predates the system may have it registered afterwards.
    backfill = case.state == "pagaende" and not existing
    if case.state not in lifecycle.tagged("grantable") and not backfill:
        raise NotPermitted(
            f"{case_ref(case)} är i tillståndet '{label_of(case.state)}'; medel registreras efter "
            "styrelsens bifall (väntar justering eller avtal)"
        )
    if not amounts:
        raise BadInput(f"{case_ref(case)}: inga belopp att bevilja; ange --amount ÅR=TKR")
    assessed = _assess(session, app, forbund, case, amounts, decided_on, existing)
    drawn, after, warnings, first = (
        assessed.drawn,
        assessed.after,
        assessed.warnings,
        assessed.first_year,
    )
    if assessed.overrun and not over_frame:
        raise BadInput(
            f"{case_ref(case)}: {assessed.overrun}; minska beloppet eller bekräfta med --over-frame"
        )
    for year_text, tkr in sorted(amounts.items()):
        year = int(year_text)
        line = existing.get(year)
        previous = None if line is None else line.granted_tkr
        if line is None:
            line = BudgetLine(
                forbund_id=forbund.id,  # type: ignore[arg-type]
                insats_id=case.id,  # type: ignore[arg-type]
                year=year,
                granted_tkr=tkr,
                decided_on=decided_on,
                updated_at=now,
            )
        line.granted_tkr = tkr
        line.reserve_drawn_tkr = drawn[year_text]
        line.decision_paragraph = paragraph
        line.decided_on = decided_on
        line.updated_at = now
        session.add(line)
        record(
            session,
            head,
            kind="budget_line",
            row_id=_flushed_id(session, line),
            ref=f"{case_ref(case)} {year}",
            from_state=None if previous is None else "beviljad",
            to_state="beviljad",
            trigger="bevilja" if previous is None else "andra_beviljat",
            actor=actor,
            now=now,
            data={
                "tkr": tkr,
                "before": previous,
                "reserve_drawn_tkr": drawn[year_text],
                "paragraph": paragraph,
                "warnings": warnings,
            },
        )
    return GrantResult(
        ref=case_ref(case),
        amounts=dict(sorted(amounts.items())),
        reserve_drawn=drawn,
        decision_paragraph=paragraph,
        warnings=warnings,
        room_after={str(y): f.room_for_new_tkr for y, f in sorted(after.items()) if y >= first},
    )


def _flushed_id(session: Session, row: Any) -> int:
    session.flush()
    return int(row.id)


def grant(
    app: App,
    *,
    ref: str,
    actor_email: str,
    amounts: dict[Any, Any] | None = None,
    paragraph: str | None = None,
    decided_on: date | None = None,
    over_frame: bool = False,
    forbund: str | None = None,
) -> GrantResult:
    """Record the granted amounts of a bifall: those given, or the amounts applied for."""
    now = app.clock()
    parsed = parse_amounts(amounts, "belopp") if amounts else None
    # A change opens with the audit chain and the actor: imported by the writes alone.
    from workflow.services.cases.change import begin_change

    with app.db.transaction() as session:
        organisation, head, actor = begin_change(session, forbund, actor_email)
        app.actions.require(actor, "record_grant")
        case = find_case(session, organisation, ref)
        chosen = (
            parsed if parsed is not None else parse_amounts(case.budget_requested, "sökt budget")
        )
        paragraph_text = paragraph or case.decision_paragraph
        if not paragraph_text:
            raise BadInput(f"{case_ref(case)}: beslutets paragraf saknas; ange --paragraph '§ N'")
        return grant_in(
            session,
            app,
            forbund=organisation,
            head=head,
            case=case,
            actor=actor,
            amounts=chosen,
            paragraph=check_one_line(paragraph_text, "paragrafen", 40),
            decided_on=decided_on or local_date(now, app.settings.zone),
            now=now,
            over_frame=over_frame,
        )


# -- outcome and forecast -------------------------------------------------------------------


@dataclass
class LineView:
    ref: str
    title: str
    year: int
    granted_tkr: int
    paid_tkr: int
    utfall_tkr: int | None
    prognos_tkr: int | None
    decision_paragraph: str | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def set_outcome(
    app: App,
    *,
    ref: str,
    year: Any,
    actor_email: str,
    utfall: Any = None,
    prognos: Any = None,
    forbund: str | None = None,
) -> LineView:
    now = app.clock()
    year = parse_year(year)
    if utfall is None and prognos is None:
        raise BadInput("ange --utfall och/eller --prognos i tkr")
    utfall_tkr = None if utfall is None else parse_tkr(utfall, "utfall")
    prognos_tkr = None if prognos is None else parse_tkr(prognos, "prognos")
    # A change opens with the audit chain and the actor: imported by the writes alone.
    from workflow.services.cases.change import begin_change

    with app.db.transaction() as session:
        organisation, head, actor = begin_change(session, forbund, actor_email)
        app.actions.require(actor, "record_outcome")
        case = find_case(session, organisation, ref)
        line = _line(session, case, year)
        before = {"utfall": line.utfall_tkr, "prognos": line.prognos_tkr}
        if utfall_tkr is not None:
            line.utfall_tkr = utfall_tkr
        if prognos_tkr is not None:
            line.prognos_tkr = prognos_tkr
        line.updated_at = now
        session.add(line)
        record(
            session,
            head,
            kind="budget_line",
            row_id=line.id,  # type: ignore[arg-type]
            ref=f"{case_ref(case)} {year}",
            from_state="beviljad",
            to_state="beviljad",
            trigger="utfall",
            actor=actor,
            now=now,
            data={"before": before, "utfall": utfall_tkr, "prognos": prognos_tkr},
        )
        return line_views(session, case, years=[year])[0]


def _line(session: Session, case: Insats, year: int) -> BudgetLine:
    line = session.exec(
        select(BudgetLine).where(BudgetLine.insats_id == case.id, BudgetLine.year == year)
    ).first()
    if line is None:
        raise NotFound(f"{case_ref(case)} har ingen beviljad budget för {year}")
    return line


def line_views(session: Session, case: Insats, years: list[int] | None = None) -> list[LineView]:
    from workflow.services.funding.payments import paid_per_year  # payments build on budget lines

    paid = paid_per_year(session, case)
    query = select(BudgetLine).where(BudgetLine.insats_id == case.id)
    if years:
        query = query.where(col(BudgetLine.year).in_(years))
    return [
        LineView(
            case_ref(case),
            case.title,
            line.year,
            line.granted_tkr,
            paid.get(line.year, 0),
            line.utfall_tkr,
            line.prognos_tkr,
            line.decision_paragraph,
        )
        for line in session.exec(query.order_by(col(BudgetLine.year)))
    ]


def lines_of(app: App, *, ref: str, forbund: str | None = None) -> list[LineView]:
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        return line_views(session, find_case(session, organisation, ref))


def frame_years(app: App, *, viewer_email: str, forbund: str | None = None) -> list[int]:
    """The years the förbund has a frame for, in order (for the förbund-wide readers)."""
    from workflow.services.funding.support import require_viewer

    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        require_viewer(session, app, organisation, viewer_email)
        return sorted(
            session.exec(select(BudgetFrame.year).where(BudgetFrame.forbund_id == organisation.id))
        )


@dataclass
class YearOutcome:
    """Granted, utfall and prognos of a year's insats lines (one page of them, in dnr order),
    and the sums of all the year's lines."""

    year: int
    lines: list[LineView]
    granted_tkr: int
    utfall_tkr: int
    prognos_tkr: int
    # Where the next page of the year's lines starts (None on the last).
    next_after: str | None = None


# A year's lines in the insatser's dnr order (bytewise, the same on both databases); an
# insats has one line a year, so its id makes the order total.
OUTCOME_ORDER = Keyset("budget_lines", (bytewise(_CASE.c.dnr), _CASE.c.id))
OUTCOME_PAGE = 100


def outcomes(
    app: App,
    *,
    years: list[Any],
    viewer_email: str,
    forbund: str | None = None,
    after: dict[int, str] | None = None,
    limit: int | None = None,
) -> list[YearOutcome]:
    """Per year: one page of its insatser's granted amount, paid, utfall and prognos (budget
    lines) and the sums of all its lines, for the förbund-wide readers (see_funding). `after`
    says where a year's page starts (the `next_after` of the page before). Four queries a
    year, whatever the number of insatser."""
    from workflow.models import Payment
    from workflow.services.funding.support import require_viewer

    wanted = [parse_year(y) for y in years]
    limit = check_limit(OUTCOME_PAGE if limit is None else limit)  # read here: tests lower it
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        require_viewer(session, app, organisation, viewer_email)
        result = []
        for year in wanted:
            query = (
                select(BudgetLine, Insats)
                .join(Insats, col(Insats.id) == col(BudgetLine.insats_id))
                # The förbund named on the insatser only (a line is its insats's förbund's),
                # so that the database walks them in dnr order (their index) and stops at the
                # page's end, rather than sorting all the year's lines from the lines' index
                # by förbund and year (ix_budget_line_forbund_year).
                .where(BudgetLine.year == year, Insats.forbund_id == organisation.id)
            )
            cursor = (after or {}).get(year)
            rows = session.exec(OUTCOME_ORDER.page(query, cursor, limit)).all()  # type: ignore[type-var]
            page = OUTCOME_ORDER.cut(rows, limit, key=lambda row: (row[1].dnr, row[1].id))
            ids = [case.id for _, case in page.items]
            # What is paid of the page's lines, in one query: found by their insatser (the
            # förbund's), not among every payment of the förbund.
            paid = (
                {
                    insats_id: int(total)
                    for insats_id, total in session.exec(
                        select(Payment.insats_id, func.sum(Payment.amount_tkr))
                        .where(
                            Payment.status == "utbetald",
                            Payment.year == year,
                            col(Payment.insats_id).in_(ids),
                        )
                        .group_by(col(Payment.insats_id))
                    ).all()
                }
                if ids
                else {}
            )
            granted, utfall, prognos = session.exec(
                select(
                    func.coalesce(func.sum(BudgetLine.granted_tkr), 0),
                    func.coalesce(func.sum(BudgetLine.utfall_tkr), 0),
                    func.coalesce(func.sum(BudgetLine.prognos_tkr), 0),
                ).where(BudgetLine.forbund_id == organisation.id, BudgetLine.year == year)
            ).one()
            lines = [
                LineView(
                    case_ref(case),
                    case.title,
                    line.year,
                    line.granted_tkr,
                    paid.get(case.id, 0),  # type: ignore[arg-type]
                    line.utfall_tkr,
                    line.prognos_tkr,
                    line.decision_paragraph,
                )
                for line, case in page.items
            ]
            result.append(
                YearOutcome(
                    year,
                    lines,
                    int(granted or 0),
                    int(utfall or 0),
                    int(prognos or 0),
                    page.next_after,
                )
            )
        return result
