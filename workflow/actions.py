"""Who may do what besides a lifecycle's steps: states/actions.yaml, checked at start-up.

The services ask for an action by name (`app.actions.require(actor, "keep_protocol")`); the
roles are data a förbund may change. Every name the code asks for must be in the file and
every name in the file must be one the code knows, so a typo stops start-up with one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml

from workflow.conditions import RELATIONS
from workflow.errors import DefinitionError, NotPermitted
from workflow.vocabulary import Role, role_label

# The actions the services ask for. A new rule adds its name here and its roles in the file.
KNOWN = frozenset(
    {
        "beredning_note",
        "record_recommendation",
        "call_meeting",
        "keep_attendance",
        "record_kallelse",
        "build_agenda",
        "write_proposal",
        "keep_protocol",
        "send_protocol",
        "reopen_protocol",
        "post_anslag",
        "justera_board_protocol",
        "set_frame",
        "set_frame_item",
        "record_outcome",
        "record_grant",
        "create_agreement",
        "sign_agreement",
        "start_insatser",
        "record_payment",
        "submit_report",
        "approve_report",
        "request_report_completion",
        "register_uppfoljning",
        "retry_mail",
        "dispose_records",
        "watch_forbund",
        "keep_diarium",
        "manage_organisation",
        "see_case",
        "see_funding",
        "answer_follow_up",
    }
)

# libyaml's safe loader where it is built (a sixth of the time of the pure-Python one).
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _HasRoles(Protocol):
    @property
    def id(self) -> int | None: ...

    @property
    def email(self) -> str: ...

    @property
    def roles(self) -> frozenset[str]: ...


# The actions act on insatser; their relations are the insats's (conditions.RELATIONS).
_SUBJECT = "insats"


@dataclass(frozen=True)
class ActionDef:
    name: str
    label: str
    roles: frozenset[str]
    # role -> relations of which one must hold on the case (as on a lifecycle step).
    relations: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def relations_for(self, role: str) -> tuple[str, ...]:
        return next((names for named, names in self.relations if named == role), ())

    def who_may(self) -> str:
        relations = RELATIONS[_SUBJECT]
        parts = []
        for role in sorted(self.roles, key=role_label):
            names = self.relations_for(role)
            needed = " eller ".join(relations[n].label for n in names)
            parts.append(f"{role_label(role)} (bara {needed})" if names else role_label(role))
        return ", ".join(parts)


@dataclass(frozen=True)
class Actions:
    path: Path
    by_name: dict[str, ActionDef]

    def __getitem__(self, name: str) -> ActionDef:
        return self.by_name[name]

    def allows(self, actor: _HasRoles, name: str, case: Any = None) -> bool:
        """Whether the actor may; an action whose roles have relations needs the case."""
        action = self.by_name[name]
        for role in action.roles & actor.roles:
            needed = action.relations_for(role)
            if not needed:
                return True
            if case is None:
                raise TypeError(f"action {name!r} has relations: pass the case")
            relations = RELATIONS[_SUBJECT]
            if any(relations[n].holds(case, actor.id) for n in needed):
                return True
        return False

    def require_role(self, actor: _HasRoles, name: str) -> None:
        """The role check alone, before the case is read: `require(..., case=)` afterwards
        checks the relation too."""
        action = self.by_name[name]
        if not actor.roles & action.roles:
            raise NotPermitted(
                f"{actor.email} får inte {action.label}; det får: {action.who_may()}"
            )

    def require(self, actor: _HasRoles, name: str, case: Any = None) -> None:
        """Refuse, naming who may, unless one of the actor's roles allows the action (on this
        case, for a role limited by a relation)."""
        action = self.by_name[name]
        self.require_role(actor, name)
        if self.allows(actor, name, case):
            return
        ref = getattr(case, "dnr", None) or "detta ärende"
        raise NotPermitted(
            f"{actor.email} får inte {action.label} för {ref}; det får: {action.who_may()}"
        )


def load_actions(path: Path) -> Actions:
    def fail(key: str, problem: str) -> DefinitionError:
        return DefinitionError(f"{path}: {key}: {problem}")

    try:
        raw: Any = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except FileNotFoundError:
        raise DefinitionError(f"{path}: filen saknas") from None
    except yaml.YAMLError as exc:
        raise DefinitionError(f"{path}: ogiltig YAML ({exc})".splitlines()[0]) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("actions"), dict):
        raise fail("actions", "ska vara en mappning av åtgärder")
    known_roles = {r.value for r in Role}
    found: dict[str, ActionDef] = {}
    for name, spec in raw["actions"].items():
        key = f"actions.{name}"
        if name not in KNOWN:
            raise fail(key, f"okänd åtgärd {name!r}; kända: {', '.join(sorted(KNOWN))}")
        if not isinstance(spec, dict):
            raise fail(key, "ska ha label och roles")
        label = spec.get("label")
        if not isinstance(label, str) or not label.strip():
            raise fail(f"{key}.label", "saknas eller är inte text")
        roles = spec.get("roles")
        if not isinstance(roles, list) or not roles or not all(isinstance(r, str) for r in roles):
            raise fail(f"{key}.roles", "ska vara en lista med minst en roll")
        for role in roles:
            if role not in known_roles:
                raise fail(
                    f"{key}.roles", f"okänd roll {role!r}; kända: {', '.join(sorted(known_roles))}"
                )
        relations = spec.get("relations") or {}
        if not isinstance(relations, dict):
            raise fail(f"{key}.relations", "ska vara en mappning roll: [relation, ...]")
        parsed = []
        for role, names in relations.items():
            names = [names] if isinstance(names, str) else names
            if role not in roles:
                raise fail(f"{key}.relations.{role}", "rollen finns inte bland åtgärdens roller")
            if not isinstance(names, list) or not names:
                raise fail(f"{key}.relations.{role}", "ska vara en lista med minst en relation")
            for relation in names:
                if relation not in RELATIONS[_SUBJECT]:
                    known = ", ".join(sorted(RELATIONS[_SUBJECT]))
                    raise fail(
                        f"{key}.relations.{role}", f"okänd relation {relation!r}; kända: {known}"
                    )
            parsed.append((role, tuple(names)))
        found[name] = ActionDef(name, label.strip(), frozenset(roles), tuple(parsed))
    missing = KNOWN - found.keys()
    if missing:
        raise fail("actions", f"saknar {', '.join(sorted(missing))}")
    return Actions(path, found)
