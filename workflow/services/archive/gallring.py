"""Gallring: records are disposed of only by a rule of the förbund's dokumenthanteringsplan.

The plan is data (config/dokumenthanteringsplan.yaml): a kind of record, how many years it is
kept and from which of its dates. `dispose` runs it for one förbund in one transaction:
  1. takes the förbund's chain lock and checks the person may (action dispose_records),
  2. per rule, finds the records whose date is older than today minus keep_years,
  3. deletes them and appends one audit event per kind naming the rule, the count and the
     ids, so the chain grows (and verifies) and says what went and why.
Audit events themselves are never disposed of: the chain would no longer verify.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete, exists, select
from sqlmodel import Session, col

from workflow.app import App
from workflow.clock import local_date
from workflow.errors import DefinitionError
from workflow.models import BudgetFrame, FrameContribution, OutboxMessage, Reminder
from workflow.services.cases import audit
from workflow.services.cases.change import begin_change

PLAN_FILE = "dokumenthanteringsplan.yaml"


@dataclass(frozen=True)
class Kind:
    label: str
    date_field: str  # the `from:` a rule of this kind must name
    find: Callable[[Session, int, datetime, date], list[int]]
    remove: Callable[[Session, list[int]], None]


def _ids(rows: Any) -> list[int]:
    return [int(i) for i in rows if i is not None]


def _utskick(session: Session, forbund_id: int, before: datetime, _day: date) -> list[int]:
    return _ids(
        session.connection()
        .execute(
            select(col(OutboxMessage.id)).where(
                col(OutboxMessage.forbund_id) == forbund_id,
                col(OutboxMessage.status).in_(("sent", "failed")),
                col(OutboxMessage.created_at) < before,
                (col(OutboxMessage.sent_at) < before) | col(OutboxMessage.sent_at).is_(None),
            )
        )
        .scalars()
    )


def _paminnelse(session: Session, forbund_id: int, _before: datetime, day: date) -> list[int]:
    still_mailed = exists().where(col(OutboxMessage.reminder_id) == col(Reminder.id))
    return _ids(
        session.connection()
        .execute(
            select(col(Reminder.id)).where(
                col(Reminder.forbund_id) == forbund_id,
                col(Reminder.status).in_(("sent", "cancelled", "skipped")),
                col(Reminder.send_on) < day,
                ~still_mailed,
            )
        )
        .scalars()
    )


def _fordelning(session: Session, forbund_id: int, before: datetime, _day: date) -> list[int]:
    return _ids(
        session.connection()
        .execute(
            select(col(FrameContribution.id))
            .join(BudgetFrame, col(BudgetFrame.id) == col(FrameContribution.frame_id))
            .where(
                col(BudgetFrame.forbund_id) == forbund_id,
                col(FrameContribution.superseded_at) < before,
            )
        )
        .scalars()
    )


def _deleter(model: Any) -> Callable[[Session, list[int]], None]:
    def remove(session: Session, ids: list[int]) -> None:
        for start in range(0, len(ids), 500):
            session.connection().execute(
                delete(model).where(model.id.in_(ids[start : start + 500]))
            )

    return remove


def _bilaga(session: Session, forbund_id: int, before: datetime, _day: date) -> list[int]:
    """Attachments of insatser that have ended (closed), added before the day."""
    from workflow.models import Attachment, Insats

    return _ids(
        session.connection()
        .execute(
            select(col(Attachment.id))
            .join(Insats, col(Insats.id) == col(Attachment.insats_id))
            .where(
                col(Attachment.forbund_id) == forbund_id,
                col(Attachment.added_at) < before,
                col(Insats.state).like("avslutad%"),
            )
        )
        .scalars()
    )


def _remove_bilagor(session: Session, ids: list[int]) -> None:
    """The rows go now; their files once the change has committed (see `dispose`), if no
    other attachment holds the same content."""
    from workflow.models import Attachment

    hashes = session.info.setdefault("gallrade_bilagor", set())
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        hashes.update(
            session.connection()
            .execute(select(col(Attachment.sha256)).where(col(Attachment.id).in_(chunk)))
            .scalars()
        )
        session.connection().execute(delete(Attachment).where(col(Attachment.id).in_(chunk)))


KINDS = {
    "utskick": Kind("skickad e-post", "sent", _utskick, _deleter(OutboxMessage)),
    "paminnelse": Kind("påminnelser", "send_on", _paminnelse, _deleter(Reminder)),
    "ersatt_fordelning": Kind(
        "ersatta fördelningar av budgetramen",
        "superseded",
        _fordelning,
        _deleter(FrameContribution),
    ),
    # Not in the shipped plan: attachments are case records and kept, unless a förbund's
    # dokumenthanteringsplan names a rule (from: added; only insatser that have ended).
    "bilaga": Kind("bilagor till avslutade insatser", "added", _bilaga, _remove_bilagor),
}


@dataclass(frozen=True)
class Rule:
    kind: str
    keep_years: int
    date_field: str


def _rules(raw: Any, where: str) -> dict[str, Rule]:
    if not isinstance(raw, list):
        raise DefinitionError(f"{where}: ska vara en lista med regler")
    rules: dict[str, Rule] = {}
    for index, item in enumerate(raw):
        key = f"{where}[{index}]"
        if not isinstance(item, dict):
            raise DefinitionError(f"{key}: ska ha kind, keep_years och from")
        kind = item.get("kind")
        if kind not in KINDS:
            raise DefinitionError(f"{key}.kind: okänt slag {kind!r}; kända: {', '.join(KINDS)}")
        years = item.get("keep_years")
        if not isinstance(years, int) or isinstance(years, bool) or years < 0:
            raise DefinitionError(f"{key}.keep_years: ska vara ett helt antal år (0 eller fler)")
        if item.get("from") != KINDS[kind].date_field:
            raise DefinitionError(
                f"{key}.from: för {kind} räknas tiden från {KINDS[kind].date_field}"
            )
        rules[kind] = Rule(kind, years, KINDS[kind].date_field)
    return rules


def load_plan(path: Path, forbund: str) -> dict[str, Rule]:
    """The rules that hold for `forbund`: its own, else the default of each kind."""
    if not path.is_file():
        return {}  # no plan: nothing may be disposed of
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise DefinitionError(f"{path}: inte giltig YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise DefinitionError(f"{path}: ska ha rules (och forbund)")
    rules = _rules(raw.get("rules", []), f"{path}: rules")
    own = (raw.get("forbund") or {}).get(forbund)
    if own is not None:
        rules.update(_rules(own, f"{path}: forbund.{forbund}"))
    return rules


def plan_path(app: App) -> Path:
    return app.settings.data_dir("config") / PLAN_FILE


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


@dataclass
class Disposal:
    kind: str
    label: str
    keep_years: int
    kept_since: date  # records dated before this day go
    ids: list[int] = field(default_factory=list)


def dispose(
    app: App, *, actor_email: str, forbund: str | None = None, dry_run: bool = False
) -> list[Disposal]:
    """Dispose of what the plan lets go (steps in the module doc); `dry_run` only counts."""
    now = app.clock()
    today = local_date(now, app.settings.zone)
    with app.db.transaction() as session:
        organisation, head, actor = begin_change(session, forbund, actor_email)
        app.actions.require(actor, "dispose_records")
        rules = load_plan(plan_path(app), organisation.slug)
        found = []
        for kind, rule in rules.items():
            day = _years_before(today, rule.keep_years)
            before = datetime.combine(day, time(0), app.settings.zone).astimezone(UTC)
            spec = KINDS[kind]
            ids = sorted(spec.find(session, organisation.id, before, day))
            found.append(Disposal(kind, spec.label, rule.keep_years, day, ids))
            if dry_run or not ids:
                continue
            spec.remove(session, ids)
            audit.append(
                session,
                head,
                subject_kind="gallring",
                subject_id=0,
                subject_ref=f"{kind} före {day.isoformat()}",
                from_state="bevarad",
                to_state="gallrad",
                trigger="gallra",
                actor=actor,
                at=now,
                data={
                    "kind": kind,
                    "rule": {"keep_years": rule.keep_years, "from": rule.date_field},
                    "before": day.isoformat(),
                    "count": len(ids),
                    "ids": ids,
                },
            )
        hashes = set(session.info.pop("gallrade_bilagor", set()))
    if hashes:
        from workflow.services import attachments

        attachments.remove_unreferenced(app, hashes)
    return found
