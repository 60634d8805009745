"""The named conditions a lifecycle definition may require (states/*.yaml, `conditions:`), and
the named relations between a person and a case (`relations:`).

Each condition looks at the facts of one case, already loaded, and answers None when it holds
or a short Swedish sentence saying what is missing and how to supply it.

A relation limits a role to the cases a person has to do with: `relations: {projektagare:
[project_owner]}` on a transition lets someone who acts as projektägare take that step only on
an insats they own. A refused relation is a matter of who acts (not permitted), not of the
case's readiness (a failed condition).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import col, select

from workflow.case_fields import missing as missing_field
from workflow.vocabulary import RECOMMENDATION_LABELS, PartyKind, Recommendation, choices_text


@dataclass
class Facts:
    """What the conditions may look at: the case and what belongs to it, read once."""

    subject: Any
    today: date
    comment: str | None = None
    parties: list[Any] = field(default_factory=list)
    # The open transaction, for conditions that must look at related rows (an avtal, a §).
    session: Any = None


@dataclass(frozen=True)
class Condition:
    name: str
    description: str
    check: Callable[[Facts], str | None]


# The conditions that look past the case's own row, as prebuilt Core queries: they run inside
# every fire of their transitions (services/cases/fire.py says why the fire path avoids the ORM).
# Each is built on first use, so that a command evaluating none of them never imports the
# funding and meeting tables (workflow/cli/main.py, start-up).
@functools.cache
def _current_agreement() -> Any:
    from workflow.models.funding import Agreement

    return (
        select(
            Agreement.status,
            col(Agreement.forbund_signed_on),
            col(Agreement.owner_signed_on),
        )
        .where(Agreement.insats_id == bindparam("insats_id"), Agreement.status != "ersatt")
        .order_by(col(Agreement.id).desc())
        .limit(1)
    )


@functools.cache
def _approved_final_report() -> Any:
    from workflow.models.funding import Report

    return (
        select(Report.id)
        .where(
            Report.insats_id == bindparam("insats_id"),
            Report.kind == "slut",
            Report.status == "godkand",
        )
        .limit(1)
    )


@functools.cache
def _latest_decision() -> Any:
    from workflow.models.meetings import Paragraph, Protocol

    return (
        select(Protocol.status, Paragraph.number)
        .join(Paragraph, col(Paragraph.protocol_id) == col(Protocol.id))
        .where(
            Paragraph.insats_id == bindparam("insats_id"),
            col(Paragraph.decision).is_not(None),
            # A § that left the agenda undecided ('utgår') decided nothing about the case.
            Paragraph.decision != "utgar",
        )
        .order_by(col(Paragraph.id).desc())
        .limit(1)
    )


@dataclass(frozen=True)
class Relation:
    """A person's tie to a case: the case column that names the person."""

    name: str
    # Who holds it, as a refusal names them: "bara projektägaren för insatsen".
    label: str
    column: str

    def holds(self, case: Any, person_id: int | None) -> bool:
        return person_id is not None and getattr(case, self.column, None) == person_id


RELATIONS: dict[str, dict[str, Relation]] = {
    "insats": {
        relation.name: relation
        for relation in (
            Relation("project_owner", "projektägaren för insatsen", "project_owner_id"),
            Relation("submitter", "den som lämnade in idén", "submitted_by_id"),
        )
    },
    "styrdokument": {},
}


def relations_held(subject: str, case: Any, person_id: int | None) -> frozenset[str]:
    """The relations this person has to this case (their id in the case's person columns)."""
    return frozenset(
        name for name, relation in RELATIONS[subject].items() if relation.holds(case, person_id)
    )


def _comment_given(facts: Facts) -> str | None:
    if facts.comment and facts.comment.strip():
        return None
    return "en motivering krävs; ange den med --comment"


def distinct_party_count(parties: list[Any]) -> int:
    """All kommuner of a förbund count as one party (FINSAM); every other party counts alone."""
    keys = {"kommun" if p.kind == PartyKind.KOMMUN else f"party:{p.id}" for p in parties}
    return len(keys)


def _two_parties(facts: Facts) -> str | None:
    count = distinct_party_count(facts.parties)
    if count >= 2:
        return None
    return (
        f"insatsen har {count} part(er); minst två krävs och alla kommuner räknas som en part "
        "– lägg till parter med --set parties=..."
    )


def _owner_party_among_parties(facts: Facts) -> str | None:
    owner = facts.subject.owner_party_id
    if owner is None:
        return "insatsägare saknas; ange den med --set owner_party=NAMN"
    if owner not in {p.id for p in facts.parties}:
        return "insatsägaren måste vara en av de medverkande parterna"
    return None


def _period_valid(facts: Facts) -> str | None:
    case = facts.subject
    if case.start_date is None or case.end_date is None:
        return "start- och slutdatum saknas; ange --set start=ÅÅÅÅ-MM-DD --set end=ÅÅÅÅ-MM-DD"
    if case.end_date < case.start_date:
        return "slutdatum ligger före startdatum"
    return None


def _budget_per_year(facts: Facts) -> str | None:
    case = facts.subject
    if case.start_date is None or case.end_date is None:
        return "budget kan inte prövas utan start- och slutdatum"
    missing = [
        str(year)
        for year in range(case.start_date.year, case.end_date.year + 1)
        if str(year) not in case.budget_requested
    ]
    if missing:
        return f"sökt budget saknas för år {', '.join(missing)}; ange --set budget.ÅR=TKR"
    return None


def _present(attribute: str, field_name: str) -> Callable[[Facts], str | None]:
    def check(facts: Facts) -> str | None:
        value = getattr(facts.subject, attribute)
        if value is None or (isinstance(value, str) and not value.strip()):
            return missing_field(field_name)
        return None

    return check


def _recommendation_recorded(facts: Facts) -> str | None:
    case = facts.subject
    if case.recommendation not in {r.value for r in Recommendation}:
        choices = choices_text(RECOMMENDATION_LABELS)
        return f"beredningsgruppens rekommendation saknas; ange --set recommendation=… ({choices})"
    if not (case.recommendation_motivation or "").strip():
        return "rekommendationen saknar motivering; ange --set recommendation_motivation=..."
    return None


def _row(facts: Facts, query: Any) -> Any:
    case = facts.subject
    if facts.session is None or case.id is None:
        return None
    return facts.session.connection().execute(query, {"insats_id": case.id}).first()


def _agreement_signed(facts: Facts) -> str | None:
    """The avtal row is the one record of the signatures (finsam agreements)."""
    row = _row(facts, _current_agreement())
    if row is None:
        return "avtal saknas; upprätta det med 'finsam agreements create'"
    if row.status != "undertecknat":
        return (
            "avtalet är inte undertecknat av både förbundet och insatsägaren; "
            "registrera underskrifterna med 'finsam agreements sign'"
        )
    if max(row.forbund_signed_on, row.owner_signed_on) > facts.today:
        return "avtalets underskrift ligger i framtiden"
    return None


def _start_date_reached(facts: Facts) -> str | None:
    start = facts.subject.start_date
    if start is None:
        return "startdatum saknas"
    if start > facts.today:
        return f"insatsen startar först {start.isoformat()}"
    return None


def _end_reached_or_reason_given(facts: Facts) -> str | None:
    end = facts.subject.end_date
    if end is not None and end <= facts.today:
        return None
    if facts.comment and facts.comment.strip():
        return None
    return "insatsen har inte nått sitt slutdatum; ange skälet att avsluta i förtid med --comment"


def _final_report_recorded(facts: Facts) -> str | None:
    """The slutrapport's row is the record: submitted and approved (finsam reports)."""
    if _row(facts, _approved_final_report()) is None:
        return (
            "slutrapporten är inte inlämnad och godkänd; den lämnas in med 'finsam reports "
            "submit' och godkänns med 'finsam reports approve'"
        )
    return None


def _paragraph_recorded(facts: Facts) -> str | None:
    """The § of the board's protocol that decided the case is the record (finsam meetings)."""
    if _row(facts, _latest_decision()) is None:
        return (
            "inget beslut i en § av styrelsens protokoll; beslutet registreras med "
            "'finsam meetings decide' eller 'finsam meetings follow'"
        )
    return None


def _recommendation_for_board(facts: Facts) -> str | None:
    if facts.subject.recommendation == Recommendation.KOMPLETTERA:
        return (
            "rekommendationen komplettera går inte till styrelsen; ärendet skickas till sökanden "
            "med 'finsam meetings recommend ... --outcome komplettera'"
        )
    return None


def _completion_asked_in_beredning(facts: Facts) -> str | None:
    if facts.subject.recommendation == Recommendation.KOMPLETTERA:
        return None
    return (
        "kompletteringen begärdes inte av beredningsgruppen; använd steget "
        "”Komplettering inkommen” (komplettering_inkommen)"
    )


def _protocol_justerat(facts: Facts) -> str | None:
    """A bifall recorded on a § takes effect only when that §'s protocol is justerat."""
    from workflow.models.meetings import ProtocolStatus

    row = _row(facts, _latest_decision())
    if row is None:
        return "inget beslut i en § av styrelsens protokoll att justera"
    if row.status in {ProtocolStatus.JUSTERAT, ProtocolStatus.ANSLAGET}:
        return None
    return (
        f"protokollet med § {row.number} är inte justerat än; beslutet gäller först efter justering"
    )


def _all(*conditions: Condition) -> dict[str, Condition]:
    return {c.name: c for c in conditions}


COMMENT_GIVEN = Condition("comment_given", "en motivering (--comment) är angiven", _comment_given)

CONDITIONS: dict[str, dict[str, Condition]] = {
    "insats": _all(
        COMMENT_GIVEN,
        Condition("two_parties", "minst två parter (kommunerna räknas som en)", _two_parties),
        Condition(
            "owner_party_among_parties",
            "insatsägare angiven och en av parterna",
            _owner_party_among_parties,
        ),
        Condition("period_valid", "start- och slutdatum, slut efter start", _period_valid),
        Condition("budget_per_year", "sökt budget för varje år i perioden", _budget_per_year),
        Condition("target_group_present", "målgrupp angiven", _present("malgrupp", "malgrupp")),
        Condition("goals_present", "mål angivna", _present("mal", "mal")),
        Condition(
            "followup_plan_present",
            "uppföljningsplan angiven",
            _present("followup_plan", "followup_plan"),
        ),
        Condition(
            "recommendation_recorded",
            "beredningsgruppens rekommendation med motivering",
            _recommendation_recorded,
        ),
        Condition(
            "paragraph_recorded",
            "beslutet står i en § av styrelsens protokoll",
            _paragraph_recorded,
        ),
        Condition("agreement_signed", "avtalet undertecknat", _agreement_signed),
        Condition("start_date_reached", "startdatum har kommit", _start_date_reached),
        Condition(
            "end_reached_or_reason_given",
            "slutdatum har kommit, eller skäl angivet",
            _end_reached_or_reason_given,
        ),
        Condition(
            "final_report_recorded", "slutrapporten inlämnad och godkänd", _final_report_recorded
        ),
        Condition(
            "recommendation_for_board",
            "rekommendationen är bevilja, bevilja med villkor eller avslå",
            _recommendation_for_board,
        ),
        Condition(
            "completion_asked_in_beredning",
            "beredningsgruppen begärde kompletteringen",
            _completion_asked_in_beredning,
        ),
        Condition(
            "protocol_justerat",
            "beslutsparagrafens protokoll är justerat",
            _protocol_justerat,
        ),
    ),
    "styrdokument": _all(COMMENT_GIVEN),
}
