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

from workflow.errors import DefinitionError, NotPermitted
from workflow.vocabulary import ROLE_LABELS, Role

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
        "manage_organisation",
    }
)


class _HasRoles(Protocol):
    @property
    def email(self) -> str: ...

    @property
    def roles(self) -> frozenset[str]: ...


@dataclass(frozen=True)
class ActionDef:
    name: str
    label: str
    roles: frozenset[str]


def roles_text(roles: frozenset[str] | set[str]) -> str:
    """Roles as people read them: 'förbundschef, sekreterare'."""
    return ", ".join(sorted(ROLE_LABELS[Role(r)] for r in roles)) or "ingen"


@dataclass(frozen=True)
class Actions:
    path: Path
    by_name: dict[str, ActionDef]

    def __getitem__(self, name: str) -> ActionDef:
        return self.by_name[name]

    def allows(self, actor: _HasRoles, name: str) -> bool:
        return bool(actor.roles & self.by_name[name].roles)

    def require(self, actor: _HasRoles, name: str) -> None:
        """Refuse, naming who may, unless the actor holds one of the action's roles."""
        action = self.by_name[name]
        if not actor.roles & action.roles:
            raise NotPermitted(
                f"{actor.email} får inte {action.label}; det får: {roles_text(action.roles)}"
            )


def load_actions(path: Path) -> Actions:
    def fail(key: str, problem: str) -> DefinitionError:
        return DefinitionError(f"{path}: {key}: {problem}")

    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
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
        found[name] = ActionDef(name, label.strip(), frozenset(roles))
    missing = KNOWN - found.keys()
    if missing:
        raise fail("actions", f"saknar {', '.join(sorted(missing))}")
    return Actions(path, found)
