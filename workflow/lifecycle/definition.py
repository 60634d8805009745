"""Load a lifecycle definition from states/*.yaml and check it before anything runs.

A broken definition stops start-up with one line naming the file and the key: an unknown
state, role, condition, field or effect; a state nothing leads to; a dead end that is not final.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from workflow.case_fields import FIELDS_BY_SUBJECT
from workflow.conditions import CONDITIONS, RELATIONS
from workflow.errors import DefinitionError
from workflow.vocabulary import Role

EFFECTS = {"insats": {"assign_dnr"}, "styrdokument": set()}
# Steps that people do not fire themselves: a service performs them as part of a record of its
# own (`service:` on a transition), so the record and the case can never disagree. The text
# says where the step happens instead, for the refusal of a direct attempt.
SERVICES: dict[str, dict[str, str]] = {
    "insats": {
        "beredning": "beredningens rekommendation ('finsam meetings recommend')",
        "agenda": "styrelsens dagordning ('finsam meetings agenda')",
        "protocol": "styrelsens protokoll ('finsam meetings decide', 'follow' och 'justera')",
        "agreements": "avtalet ('finsam agreements sign' och 'start-due')",
        "closure": (
            "en § av styrelsens protokoll ('finsam closure propose', sedan "
            "'finsam meetings decide' eller 'follow')"
        ),
    },
    "styrdokument": {},
}
# State tags the services look for (states/*.yaml, `tags:` on a state): which states a rule
# applies to is data, so a förbund that renames or adds a state does not change code.
TAGS: dict[str, dict[str, str]] = {
    "insats": {
        "funding_open": "insatsen tar emot rapporter och utbetalningar",
        "reporting": "insatsen löper: rapporter och slutdatum påminns",
        "agreement_open": "ett avtal kan upprättas",
        "grantable": "beviljade medel kan registreras",
        "closed": "ärendet är avslutat",
    },
    "styrdokument": {
        "in_force": "dokumentet gäller och kan behöva förnyas",
    },
}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# transitions adds these to the model it drives; a trigger of the same name would clash.
_RESERVED = {"trigger", "state", "may_trigger", "machine"}

# libyaml's safe loader where it is built (a sixth of the time of the pure-Python one).
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class StateDef:
    name: str
    label: str
    final: bool
    tags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class TransitionDef:
    trigger: str
    label: str
    sources: tuple[str, ...]
    dest: str
    roles: frozenset[str]
    conditions: tuple[str, ...]
    sets: tuple[str, ...]
    effects: tuple[str, ...]
    # The service that performs this step (SERVICES); None: people fire it themselves.
    service: str | None = None
    # (role, relations): someone acting in that role may take the step only on a case they
    # have one of these relations to (conditions.RELATIONS); roles not named need none.
    relations: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def relations_for(self, role: str) -> tuple[str, ...]:
        return next((names for named, names in self.relations if named == role), ())

    def permits(self, roles: frozenset[str] | set[str], held: frozenset[str] | None) -> bool:
        """Whether someone with these roles, and these relations to the case, may take the
        step (None: relations not considered, only the roles)."""
        for role in self.roles & roles:
            needed = self.relations_for(role)
            if not needed or held is None or held.intersection(needed):
                return True
        return False


@dataclass(frozen=True)
class Lifecycle:
    name: str
    subject: str
    label: str
    path: Path
    initial: str
    create_roles: frozenset[str]
    states: dict[str, StateDef]
    transitions: tuple[TransitionDef, ...]
    # How a case's history names its first event (`create_label:` in the file).
    create_label: str = "Skapad"

    def transition(self, trigger: str, source: str) -> TransitionDef | None:
        return next(
            (t for t in self.transitions if t.trigger == trigger and source in t.sources), None
        )

    def triggers(self) -> list[str]:
        return list(dict.fromkeys(t.trigger for t in self.transitions))

    def available(
        self,
        state: str,
        roles: set[str] | frozenset[str],
        held: frozenset[str] | None = None,
    ) -> list[TransitionDef]:
        """What someone with these roles (and these relations to the case; None: relations not
        considered) may fire themselves from this state. Conditions are not checked; steps a
        service performs are not offered."""
        return [t for t in self.people_steps(state) if t.permits(roles, held)]

    def people_steps(self, state: str) -> list[TransitionDef]:
        """Every step people fire themselves from this state, whoever may."""
        return [t for t in self.transitions if state in t.sources and t.service is None]

    def step_label(self, trigger: str, source: str | None = None) -> str:
        """How people read a step (or the first event, `create_label`) in a case's history."""
        found = self.transition(trigger, source) if source is not None else None
        found = found or next((t for t in self.transitions if t.trigger == trigger), None)
        if found is not None:
            return found.label
        return self.create_label if source is None else trigger

    def tagged(self, tag: str) -> frozenset[str]:
        """The states carrying `tag` (a name from TAGS; an unknown one is a programming error)."""
        if tag not in TAGS[self.subject]:
            raise KeyError(f"no state tag {tag!r} for {self.subject}")
        return frozenset(name for name, state in self.states.items() if tag in state.tags)

    def label_of(self, state: str | None) -> str:
        if state is None:
            return ""
        known = self.states.get(state)
        return known.label if known else state


class _Reader:
    """Reads one file, remembering where it is so every error names the file and the key."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, problem: str) -> DefinitionError:
        return DefinitionError(f"{self.path}: {key}: {problem}")

    def mapping(self, value: Any, key: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, "ska vara en mappning (nyckel: värde)")
        return value

    def names(self, value: Any, key: str) -> tuple[str, ...]:
        if value is None:
            return ()
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise self.fail(key, "ska vara ett namn eller en lista av namn")
        return tuple(items)

    def text(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "saknas eller är inte text")
        return value


def load_lifecycle(path: Path) -> Lifecycle:
    reader = _Reader(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except FileNotFoundError:
        raise DefinitionError(f"{path}: filen saknas") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"rad {mark.line + 1}" if mark else "okänd rad"
        raise DefinitionError(
            f"{path}: {where}: ogiltig YAML ({getattr(exc, 'problem', exc)})"
        ) from None
    doc = reader.mapping(raw, "(filen)")
    subject = reader.text(doc.get("subject"), "subject")
    if subject not in CONDITIONS:
        raise reader.fail(
            "subject", f"okänt ärendeslag {subject!r}; kända: {', '.join(CONDITIONS)}"
        )
    known_roles = {r.value for r in Role}

    def roles(value: Any, key: str) -> frozenset[str]:
        found = reader.names(value, key)
        for role in found:
            if role not in known_roles:
                raise reader.fail(
                    key, f"okänd roll {role!r}; kända: {', '.join(sorted(known_roles))}"
                )
        return frozenset(found)

    states: dict[str, StateDef] = {}
    for name, spec in reader.mapping(doc.get("states"), "states").items():
        key = f"states.{name}"
        if not isinstance(name, str) or not _NAME.match(name):
            raise reader.fail(key, "tillståndsnamn ska vara små bokstäver, siffror och _")
        spec = reader.mapping(spec or {}, key)
        tags = reader.names(spec.get("tags"), f"{key}.tags")
        for tag in tags:
            if tag not in TAGS[subject]:
                known = ", ".join(sorted(TAGS[subject])) or "inga"
                raise reader.fail(f"{key}.tags", f"okänd tagg {tag!r}; kända: {known}")
        states[name] = StateDef(
            name,
            reader.text(spec.get("label", name), f"{key}.label"),
            bool(spec.get("final")),
            frozenset(tags),
        )

    transitions: list[TransitionDef] = []
    raw_transitions = doc.get("transitions")
    if not isinstance(raw_transitions, list) or not raw_transitions:
        raise reader.fail("transitions", "ska vara en lista med minst en övergång")
    for index, item in enumerate(raw_transitions):
        key = f"transitions[{index}]"
        spec = reader.mapping(item, key)
        trigger = reader.text(spec.get("trigger"), f"{key}.trigger")
        key = f"transitions[{index}] ({trigger})"
        if (
            not _NAME.match(trigger)
            or trigger in _RESERVED
            or trigger.startswith(("is_", "may_", "to_"))
        ):
            raise reader.fail(f"{key}.trigger", f"ogiltigt eller reserverat namn {trigger!r}")
        sources = reader.names(spec.get("from"), f"{key}.from")
        dest = reader.text(spec.get("to"), f"{key}.to")
        for state in (*sources, dest):
            if state not in states:
                raise reader.fail(f"{key}.from/to", f"okänt tillstånd {state!r}")
        if not sources:
            raise reader.fail(f"{key}.from", "minst ett källtillstånd krävs")
        conditions = reader.names(spec.get("conditions"), f"{key}.conditions")
        for condition in conditions:
            if condition not in CONDITIONS[subject]:
                known = ", ".join(sorted(CONDITIONS[subject]))
                raise reader.fail(
                    f"{key}.conditions", f"okänt villkor {condition!r}; kända: {known}"
                )
        sets = reader.names(spec.get("sets"), f"{key}.sets")
        for field_name in sets:
            if field_name not in FIELDS_BY_SUBJECT[subject]:
                raise reader.fail(f"{key}.sets", f"okänt fält {field_name!r}")
        effects = reader.names(spec.get("effects"), f"{key}.effects")
        for effect in effects:
            if effect not in EFFECTS[subject]:
                raise reader.fail(f"{key}.effects", f"okänd effekt {effect!r}")
        service = spec.get("service")
        if service is not None and service not in SERVICES[subject]:
            known = ", ".join(sorted(SERVICES[subject])) or "inga"
            raise reader.fail(f"{key}.service", f"okänd tjänst {service!r}; kända: {known}")
        transition_roles = roles(spec.get("roles"), f"{key}.roles")
        if not transition_roles:
            raise reader.fail(f"{key}.roles", "minst en roll krävs")
        relations = _relations(reader, spec.get("relations"), f"{key}.relations", subject)
        for role, _ in relations:
            if role not in transition_roles:
                raise reader.fail(
                    f"{key}.relations.{role}", "rollen finns inte bland övergångens roller"
                )
        for source in sources:
            if any(t.trigger == trigger and source in t.sources for t in transitions):
                raise reader.fail(key, f"{trigger!r} från {source!r} finns redan")
        transitions.append(
            TransitionDef(
                trigger=trigger,
                label=str(spec.get("label", trigger)),
                sources=sources,
                dest=dest,
                roles=transition_roles,
                conditions=conditions,
                sets=sets,
                effects=effects,
                service=service,
                relations=relations,
            )
        )

    initial = reader.text(doc.get("initial"), "initial")
    if initial not in states:
        raise reader.fail("initial", f"okänt tillstånd {initial!r}")
    lifecycle = Lifecycle(
        name=reader.text(doc.get("lifecycle"), "lifecycle"),
        subject=subject,
        label=str(doc.get("label", subject)),
        path=path,
        initial=initial,
        create_roles=roles(doc.get("create_roles"), "create_roles"),
        states=states,
        transitions=tuple(transitions),
        create_label=reader.text(doc.get("create_label", "Skapad"), "create_label"),
    )
    _check_graph(lifecycle, reader)
    return lifecycle


def _relations(
    reader: _Reader, value: Any, key: str, subject: str
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """`relations: {role: [relation, ...]}`: each relation a name from conditions.RELATIONS."""
    if value is None:
        return ()
    found = []
    for role, names in reader.mapping(value, key).items():
        relation_names = reader.names(names, f"{key}.{role}")
        if not relation_names:
            raise reader.fail(f"{key}.{role}", "minst en relation krävs")
        for name in relation_names:
            if name not in RELATIONS[subject]:
                known = ", ".join(sorted(RELATIONS[subject])) or "inga"
                raise reader.fail(f"{key}.{role}", f"okänd relation {name!r}; kända: {known}")
        found.append((str(role), relation_names))
    return tuple(found)


def _check_graph(lifecycle: Lifecycle, reader: _Reader) -> None:
    reached = {lifecycle.initial}
    queue = deque([lifecycle.initial])
    while queue:
        current = queue.popleft()
        for t in lifecycle.transitions:
            if current in t.sources and t.dest not in reached:
                reached.add(t.dest)
                queue.append(t.dest)
    for name, state in lifecycle.states.items():
        if name not in reached:
            raise reader.fail(f"states.{name}", "kan inte nås från starttillståndet")
        leaves = any(name in t.sources for t in lifecycle.transitions)
        if not leaves and not state.final:
            raise reader.fail(
                f"states.{name}",
                "återvändsgränd: ingen övergång leder vidare och den är inte final",
            )
        if leaves and state.final:
            raise reader.fail(
                f"states.{name}", "ett final tillstånd kan inte ha utgående övergångar"
            )
