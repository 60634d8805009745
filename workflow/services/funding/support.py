"""What the funding services share: reading amounts and counts, role checks, one audit event
per changed row, and the states in which an insats may still receive money or reports."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from workflow.errors import BadInput, NotPermitted
from workflow.lifecycle.definition import Lifecycle
from workflow.models import ForbundRef, Insats
from workflow.services.cases import case_ref, find_case

if TYPE_CHECKING:  # the audit chain and the people are imported by what writes or checks roles
    from workflow.services.cases import audit
    from workflow.services.organisation.people import Actor

# An insats can be reported on and paid while it runs and until the board closes it.


def parse_tkr(raw: Any, label: str) -> int:
    """Whole tkr, zero or more: '1 500' is 1500; '-5', '2.5', 'mycket' are refused."""
    if isinstance(raw, bool):
        raise BadInput(f"{label}: {raw!r} är inget belopp; ange hela tkr, 0 eller mer")
    if isinstance(raw, int):
        value = raw
    else:
        text = str(raw).strip().replace(" ", "").replace("\u00a0", "")
        if text.startswith("-") and text[1:].isdigit():
            raise BadInput(f"{label}: beloppet {raw} är negativt; ange hela tkr, 0 eller mer")
        if not text.isdigit():
            raise BadInput(f"{label}: {raw!r} är inget belopp; ange hela tkr, 0 eller mer")
        value = int(text)
    if value < 0:
        raise BadInput(f"{label}: beloppet {value} är negativt; ange hela tkr, 0 eller mer")
    return value


def parse_count(raw: Any, label: str) -> int:
    """An aggregate participant count: a whole number, zero or more."""
    if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
        raise BadInput(f"{label}: {raw!r} är inget heltal; ange antal deltagare som 0 eller mer")
    if isinstance(raw, int | float):
        value = int(raw)
    else:
        text = str(raw).strip()
        if not text.lstrip("-").isdigit():
            raise BadInput(
                f"{label}: {raw!r} är inget heltal; ange antal deltagare som 0 eller mer"
            )
        value = int(text)
    if value < 0:
        raise BadInput(f"{label}: {value} är negativt; ange antal deltagare som 0 eller mer")
    return value


def parse_year(raw: Any, label: str = "år") -> int:
    text = str(raw).strip()
    if not text.isdigit() or not 2000 <= int(text) <= 2100:
        raise BadInput(f"{label}: {raw!r} är inget år; skriv t.ex. 2014")
    return int(text)


def parse_amounts(raw: dict[Any, Any], label: str) -> dict[str, int]:
    """{year: tkr} with every year and amount checked."""
    return {
        str(parse_year(year, label)): parse_tkr(amount, f"{label} {year}")
        for year, amount in raw.items()
    }


def check_period(start: date, end: date) -> None:
    if end < start:
        raise BadInput(
            f"perioden slutar {end.isoformat()} före sin start {start.isoformat()}; "
            "ange ett slutdatum efter startdatum"
        )


def years_of(start: date, end: date) -> list[int]:
    return list(range(start.year, end.year + 1))


def open_case(
    session: Session, forbund: ForbundRef, ref: str, what: str, lifecycle: Lifecycle
) -> Insats:
    """The insats, if it still takes reports and money; a closed one is refused by name."""
    case = find_case(session, forbund, ref)
    if case.state not in lifecycle.tagged("funding_open"):
        closed = case.state in lifecycle.tagged("closed")
        reason = "är avslutad" if closed else "har inget avtal ännu"
        raise NotPermitted(
            f"{case_ref(case)} {reason} (tillstånd '{lifecycle.label_of(case.state)}'); "
            f"{what} går bara för insatser med avtal som inte är avslutade"
        )
    return case


def record(
    session: Session,
    head: audit.ChainHead,
    *,
    kind: str,
    row_id: int,
    ref: str | None,
    from_state: str | None,
    to_state: str,
    trigger: str,
    actor: Actor,
    now: datetime,
    data: dict[str, Any] | None = None,
    comment: str | None = None,
) -> None:
    """Exactly one audit event for one changed row."""
    from workflow.services.cases import audit  # only a write records, so only a write imports

    session.flush()
    audit.append(
        session,
        head,
        subject_kind=kind,
        subject_id=row_id,
        subject_ref=ref,
        from_state=from_state,
        to_state=to_state,
        trigger=trigger,
        actor=actor,
        at=now,
        comment=comment,
        data=data,
    )


def require_viewer(
    session: Session, app: Any, forbund: ForbundRef, email: str, action: str = "see_funding"
) -> Actor:
    """The person reading a förbund-wide funding list, if their roles allow `action`
    (states/actions.yaml see_funding: the förbundschef and admin)."""
    from workflow.services.organisation.people import find_actor

    actor = find_actor(session, forbund, email)
    app.actions.require_role(actor, action)
    return actor


def check_viewer(app: Any, *, viewer_email: str, forbund: str | None = None) -> None:
    """Refuse (NotPermitted) a person who may not read the förbund-wide funding lists, reading
    nothing else: for a page that acts first and shows a list only afterwards."""
    from workflow.services.organisation.forbund import resolve_forbund

    with app.db.reading() as session:
        require_viewer(session, app, resolve_forbund(session, forbund), viewer_email)
