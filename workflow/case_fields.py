"""The case fields a user may record: at submission and with `--set KEY=VALUE` on a transition.

One spec per field: how to read it from text or a file value, and how to put it on the case.
Which transition may record which field is data (states/*.yaml, `sets:`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, select

from workflow.errors import BadInput, NotFound
from workflow.models import Case, Party, Person
from workflow.text_guard import check_free_text, check_one_line
from workflow.vocabulary import Inriktning, Recommendation, parse_choice


@dataclass(frozen=True)
class PartyRef:
    """A party as a case's fields and conditions see it."""

    id: int
    kind: str
    name: str


@dataclass
class FieldContext:
    session: Session
    forbund_id: int
    parties: list[PartyRef]
    parties_changed: bool = False
    changed: dict[str, Any] = field(default_factory=dict)
    # The förbund's parties, read once when a field first names one.
    forbund_parties: list[PartyRef] | None = None


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    apply: Callable[[Case, Any, FieldContext], Any]


def _text(attribute: str, label: str) -> Callable[[Case, Any, FieldContext], Any]:
    def apply(case: Case, raw: Any, ctx: FieldContext) -> Any:
        value = check_free_text(str(raw).strip(), label) if raw is not None else None
        setattr(case, attribute, value or None)
        return value

    return apply


def parse_date(raw: Any, label: str) -> date:
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        raise BadInput(f"{label}: {raw!r} är inget datum; skriv ÅÅÅÅ-MM-DD") from None


def parse_amount(raw: Any, label: str) -> int:
    """Whole tkr, not negative ("1 500" is read as 1500)."""
    text = str(raw).replace(" ", "").replace("\u00a0", "")
    if isinstance(raw, bool) or not text.isdigit():
        raise BadInput(f"{label}: {raw!r} är inget belopp; ange hela tkr, 0 eller mer")
    return int(text)


def _date(attribute: str, label: str) -> Callable[[Case, Any, FieldContext], Any]:
    def apply(case: Case, raw: Any, ctx: FieldContext) -> Any:
        value = parse_date(raw, label)
        setattr(case, attribute, value)
        return value.isoformat()

    return apply


def _title(case: Case, raw: Any, ctx: FieldContext) -> Any:
    case.title = check_one_line(str(raw), "titeln")
    return case.title


def _inriktning(case: Case, raw: Any, ctx: FieldContext) -> Any:
    case.inriktning = parse_choice(Inriktning, str(raw), "inriktning").value
    return case.inriktning


def _recommendation(case: Case, raw: Any, ctx: FieldContext) -> Any:
    case.recommendation = parse_choice(Recommendation, str(raw), "rekommendation").value
    return case.recommendation


_PARTY = Party.__table__  # type: ignore[attr-defined]
_PARTIES_OF_FORBUND = (
    select(_PARTY.c.id, _PARTY.c.kind, _PARTY.c.name)
    .where(_PARTY.c.forbund_id == bindparam("forbund_id"))
    .order_by(_PARTY.c.id)
)


def find_party(ctx: FieldContext, name: str) -> PartyRef:
    if ctx.forbund_parties is None:
        ctx.forbund_parties = [
            PartyRef(row.id, row.kind, row.name)
            for row in ctx.session.connection().execute(
                _PARTIES_OF_FORBUND, {"forbund_id": ctx.forbund_id}
            )
        ]
    parties = ctx.forbund_parties
    wanted = name.strip().casefold()
    party = next((p for p in parties if p.name.casefold() == wanted), None)
    if party is None:
        known = ", ".join(p.name for p in parties)
        raise BadInput(f"okänd part {name!r}; förbundets parter är: {known}")
    return party


def _owner_party(case: Case, raw: Any, ctx: FieldContext) -> Any:
    party = find_party(ctx, str(raw))
    case.owner_party_id = party.id
    if party.id not in {p.id for p in ctx.parties}:
        ctx.parties.append(party)
        ctx.parties_changed = True
    return party.name


def _parties(case: Case, raw: Any, ctx: FieldContext) -> Any:
    names = raw if isinstance(raw, list) else [n for n in str(raw).split(",") if n.strip()]
    parties: list[PartyRef] = []
    for name in names:
        party = find_party(ctx, str(name))
        if party.id not in {p.id for p in parties}:
            parties.append(party)
    ctx.parties[:] = parties
    ctx.parties_changed = True
    return [p.name for p in parties]


def _project_owner(case: Case, raw: Any, ctx: FieldContext) -> Any:
    email = str(raw).strip().lower()
    person = ctx.session.exec(
        select(Person).where(Person.forbund_id == ctx.forbund_id, Person.email == email)
    ).first()
    if person is None:
        raise NotFound(f"ingen person med e-post {email!r} i förbundet; se 'finsam people list'")
    case.project_owner_id = person.id
    return email


def _budget(case: Case, raw: Any, ctx: FieldContext) -> Any:
    """A mapping year -> tkr replaces the request; the key form budget.2014=750 sets one year."""
    if not isinstance(raw, dict):
        raise BadInput("budget: ange belopp per år, t.ex. --set budget.2014=750")
    updated = dict(case.budget_requested)
    for year, amount in raw.items():
        if not str(year).isdigit() or not 2000 <= int(year) <= 2100:
            raise BadInput(f"budget: {year!r} är inget år")
        updated[str(int(year))] = parse_amount(amount, f"budget {year}")
    case.budget_requested = updated
    return updated


FIELDS: dict[str, FieldSpec] = {
    spec.name: spec
    for spec in (
        FieldSpec("title", "titel", _title),
        FieldSpec("inriktning", "inriktning", _inriktning),
        FieldSpec("malgrupp", "målgrupp", _text("malgrupp", "målgruppen")),
        FieldSpec("syfte", "syfte", _text("syfte", "syftet")),
        FieldSpec("mal", "mål", _text("mal", "målen")),
        FieldSpec("start", "startdatum", _date("start_date", "startdatum")),
        FieldSpec("end", "slutdatum", _date("end_date", "slutdatum")),
        FieldSpec("owner_party", "insatsägare", _owner_party),
        FieldSpec("parties", "parter", _parties),
        FieldSpec("project_owner", "projektägare", _project_owner),
        FieldSpec("budget", "sökt budget (tkr per år)", _budget),
        FieldSpec(
            "followup_plan", "uppföljningsplan", _text("followup_plan", "uppföljningsplanen")
        ),
        FieldSpec("recommendation", "rekommendation", _recommendation),
        FieldSpec(
            "recommendation_motivation",
            "motivering till rekommendationen",
            _text("recommendation_motivation", "motiveringen"),
        ),
        FieldSpec(
            "decision_paragraph",
            "protokollsparagraf",
            lambda case, raw, ctx: _set_paragraph(case, raw),
        ),
        FieldSpec(
            "agreement_signed_on", "avtal undertecknat", _date("agreement_signed_on", "avtalsdatum")
        ),
        FieldSpec(
            "final_report_on", "slutrapport inkommen", _date("final_report_on", "slutrapportdatum")
        ),
    )
}

FIELDS_BY_SUBJECT: dict[str, dict[str, FieldSpec]] = {"insats": FIELDS, "styrdokument": {}}


def field_label(name: str) -> str:
    """How forms and refusals name a case field: 'insatsägare' for owner_party."""
    spec = FIELDS.get(name)
    return spec.label if spec else name


def field_labels(names: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return tuple(field_label(name) for name in names)


def fields_text(names: tuple[str, ...] | list[str]) -> str:
    """Fields as one may type them, each with its label: 'owner_party (insatsägare), ...'."""
    return ", ".join(f"{name} ({field_label(name)})" for name in names) or "inga"


def missing(name: str) -> str:
    """A condition's sentence for a field that is not filled in, with the way to supply it."""
    return f"{field_label(name)} saknas; ange {field_label(name)} (--set {name}=…)"


def _set_paragraph(case: Case, raw: Any) -> Any:
    case.decision_paragraph = check_one_line(str(raw), "paragrafen", max_length=40)
    return case.decision_paragraph


def parse_assignments(pairs: list[str]) -> dict[str, Any]:
    """Read ["budget.2013=1500", "title=X"] into {"budget": {"2013": "1500"}, "title": "X"}."""
    values: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise BadInput(f"--set {pair!r}: skriv NYCKEL=VÄRDE, t.ex. --set budget.2014=750")
        if "." in key:
            head, _, sub = key.partition(".")
            values.setdefault(head, {})
            if not isinstance(values[head], dict):
                raise BadInput(f"--set {pair!r}: {head} anges antingen helt eller per del")
            values[head][sub] = value
        else:
            values[key] = value
    return values


def apply_fields(
    case: Case, values: dict[str, Any], allowed: tuple[str, ...] | None, ctx: FieldContext
) -> dict[str, Any]:
    """Put the given values on the case; returns what was recorded, for the audit event."""
    for key in values:
        if key not in FIELDS:
            raise BadInput(f"okänt fält {key!r}; kända fält: {fields_text(list(FIELDS))}")
        if allowed is not None and key not in allowed:
            raise BadInput(
                f"fältet {key!r} ({field_label(key)}) kan inte anges i detta steg; "
                f"tillåtna här: {fields_text(allowed)}"
            )
    for key, raw in values.items():
        ctx.changed[key] = FIELDS[key].apply(case, raw, ctx)
    return ctx.changed
