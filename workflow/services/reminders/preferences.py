"""How each person wants their reminders: per rule, e-mail at once, a daily or weekly digest,
or only on the start page. A rule the förbund marks `compulsory: true` in rules.yaml is always
mailed at once, whatever the person chose.

    preferences_for(app, email=..., forbund=...)      -> one RulePreference per rule
    set_preferences(app, email=..., choices={rule: delivery}, forbund=...)
    choices_in(session, forbund_id), delivery_of(...) -> what the sweep honours

A change is one audit event (subject `access`, the person) in the person's förbund.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from workflow.errors import BadInput
from workflow.models.personal import NotificationPreference
from workflow.services.cases import audit
from workflow.services.organisation.people import Actor

if TYPE_CHECKING:
    from workflow.app import App
    from workflow.reminder_rules import Notifications, Rule

IMMEDIATE = "immediate"
DAILY = "daily"
WEEKLY = "weekly"
START_PAGE = "start_page"
DELIVERY_LABELS = {
    IMMEDIATE: "E-post direkt",
    DAILY: "Daglig sammanfattning per e-post",
    WEEKLY: "Veckosammanfattning per e-post",
    START_PAGE: "Bara på startsidan",
}
DIGESTS = (DAILY, WEEKLY)
SUBJECT = "access"
TRIGGER = "andra_paminnelseval"


@dataclass(frozen=True)
class RulePreference:
    rule: str
    label: str
    delivery: str
    compulsory: bool

    @property
    def delivery_label(self) -> str:
        return DELIVERY_LABELS[self.delivery]


def _rules(app: App) -> dict[str, Rule]:
    if app.notifications is None:
        raise BadInput("påminnelsereglerna är inte inlästa; starta via App.create")
    return app.notifications.rules


def effective(rule: Rule, chosen: str | None) -> str:
    """What applies: the förbund's compulsory rule wins over the person's choice."""
    if rule.compulsory or chosen not in DELIVERY_LABELS:
        return IMMEDIATE
    return chosen  # type: ignore[return-value]


def choices_in(session: Session, forbund_id: int) -> dict[tuple[int, str], str]:
    """Every choice of the förbund's people, (person id, rule) -> delivery, in one query: the
    sweep reads them once per batch of reminders."""
    from workflow.models import Person

    rows = session.exec(
        select(
            NotificationPreference.person_id,
            NotificationPreference.rule,
            NotificationPreference.delivery,
        )
        .join(Person, col(Person.id) == col(NotificationPreference.person_id))
        .where(Person.forbund_id == forbund_id)
    ).all()
    return {(person_id, rule): delivery for person_id, rule, delivery in rows}


def delivery_of(
    notifications: Notifications,
    chosen: Mapping[tuple[int, str], str],
    person_id: int,
    rule_id: str,
) -> str:
    """What applies to this person for this rule (no choice, or a compulsory rule: at once)."""
    rule = notifications.rules.get(rule_id)
    if rule is None:
        return IMMEDIATE
    return effective(rule, chosen.get((person_id, rule_id)))


def _person(session: Session, forbund: str | None, email: str):  # type: ignore[no-untyped-def]
    from workflow.services.access.tokens import _owner

    return _owner(session, forbund, email)


def preferences_for(app: App, *, email: str, forbund: str | None = None) -> list[RulePreference]:
    """Every rule of rules.yaml with what applies to this person, in the file's order."""
    rules = _rules(app)
    with app.db.reading() as session:
        _, person = _person(session, forbund, email)
        chosen = dict(
            session.exec(
                select(NotificationPreference.rule, NotificationPreference.delivery).where(
                    NotificationPreference.person_id == person.id
                )
            ).all()
        )
    return [
        RulePreference(rule.id, rule.label, effective(rule, chosen.get(rule.id)), rule.compulsory)
        for rule in rules.values()
    ]


def set_preferences(
    app: App, *, email: str, choices: Mapping[str, str], forbund: str | None = None
) -> list[RulePreference]:
    """Save the person's choices (rule id -> delivery), all or nothing. A compulsory rule
    accepts only e-mail at once; an unknown rule or delivery is refused."""
    rules = _rules(app)
    for rule_id, delivery in choices.items():
        rule = rules.get(rule_id)
        if rule is None:
            raise BadInput(f"okänd påminnelse {rule_id!r}")
        if delivery not in DELIVERY_LABELS:
            raise BadInput(
                f"okänt val {delivery!r} för {rule.label}; välj "
                + ", ".join(DELIVERY_LABELS[d].lower() for d in DELIVERY_LABELS)
            )
        if rule.compulsory and delivery != IMMEDIATE:
            raise BadInput(
                f"förbundet kräver att ”{rule.label}” skickas med e-post direkt; det går inte "
                "att välja bort"
            )
    now = app.clock()
    with app.db.transaction() as session:
        organisation, person = _person(session, forbund, email)
        rows = {
            row.rule: row
            for row in session.exec(
                select(NotificationPreference).where(NotificationPreference.person_id == person.id)
            )
        }
        changed: dict[str, str] = {}
        for rule_id, delivery in choices.items():
            row = rows.get(rule_id)
            before = row.delivery if row is not None else IMMEDIATE
            if before == delivery:
                continue
            if row is None:
                row = NotificationPreference(
                    person_id=person.id,  # type: ignore[arg-type]
                    rule=rule_id,
                    delivery=delivery,
                    updated_at=now,
                )
            row.delivery, row.updated_at = delivery, now
            session.add(row)
            changed[rule_id] = delivery
        if changed:
            session.flush()
            head = audit.lock_chain(session, organisation.id)  # type: ignore[arg-type]
            audit.append(
                session,
                head,
                subject_kind=SUBJECT,
                subject_id=person.id,  # type: ignore[arg-type]
                subject_ref=person.email[:60],
                from_state=None,
                to_state="paminnelseval",
                trigger=TRIGGER,
                actor=Actor(person.id, person.name, person.email, frozenset()),  # type: ignore[arg-type]
                at=now,
                comment=f"{person.name} ändrade hur påminnelser når hen",
                data={"choices": changed},
            )
    return preferences_for(app, email=email, forbund=forbund)
