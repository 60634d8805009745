"""Reminder rules and e-mail templates as data (notifications/), checked at start-up.

notifications/rules.yaml says, per rule: which source of due dates it watches, and the steps
(when relative to the due date, to whom, which template). notifications/templates/ holds, per
template, `<name>.subject.j2`, `<name>.txt.j2` and `<name>.html.j2` on one shared layout.

Every rule is rendered with its source's sample at load time, so an unknown role, an unknown
template variable or a bad offset stops start-up with one line naming the file and the key.
A command that only reads reminders loads the rules without rendering (`render=False`): the
rules are checked as ever, the templates only for being there, and Jinja2 is not imported.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from workflow.errors import DefinitionError
from workflow.services.reminders.due_dates import SOURCES, DueItem
from workflow.vocabulary import ROLE_LABELS, Role

if TYPE_CHECKING:  # Jinja2 is imported by the first render, not by reading the rules
    from jinja2 import Environment

# The person responsible for the dated thing (projektägare, document owner), not a role.
RESPONSIBLE = "ansvarig"
_OFFSET = re.compile(r"^([+-]?)(\d{1,4})d$")
_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# libyaml's parser when PyYAML has it (as the lifecycles' loader): the pure-Python one is a
# third of loading the rules.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
MONTHS = [
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
]
# Templates the code itself uses (not tied to a rule), with the context they are given.
SYSTEM_TEMPLATES = ("leveransfel", "losenordslank", "sammanfattning", "protokollsutdrag")


def swedish_date(value: date | None) -> str:
    """31 december 2022"""
    if value is None:
        return ""
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


@dataclass(frozen=True)
class Step:
    key: str
    # Either days relative to the due date, or a fixed MM-DD in the due date's year.
    offset_days: int | None
    month_day: tuple[int, int] | None
    to: tuple[str, ...]
    template: str
    escalation: bool

    def planned_on(self, due_on: date) -> date:
        """The calendar day of this step, before moving off weekends and holidays."""
        if self.month_day is not None:
            return date(due_on.year, *self.month_day)
        return due_on + timedelta(days=self.offset_days or 0)

    @property
    def when_text(self) -> str:
        if self.month_day is not None:
            return f"{self.month_day[1]} {MONTHS[self.month_day[0] - 1]}"
        days = self.offset_days or 0
        if days == 0:
            return "på dagen"
        unit = "dag" if abs(days) == 1 else "dagar"
        return f"{abs(days)} {unit} {'före' if days < 0 else 'efter'}"


@dataclass(frozen=True)
class Rule:
    id: str
    label: str
    source: str
    yearly_due: tuple[int, int] | None
    steps: tuple[Step, ...]
    # The förbund requires this rule's e-mail at once, whatever a person chose (rules.yaml
    # `compulsory: true`): a kallelse, say, must reach every member.
    compulsory: bool = False

    def step(self, key: str) -> Step | None:
        return next((s for s in self.steps if s.key == key), None)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def one_line(value: str) -> str:
    """A header value: every run of line breaks and control characters becomes one space."""
    return " ".join(_CONTROL.sub(" ", value).split())


# The page of each kind of subject a reminder is about, under [web] public_url.
SUBJECT_PAGES = {"report": "/rapporter/{id}"}


def subject_link(public_url: str, subject_kind: str, subject_id: int) -> str | None:
    """The address of the subject's page (for the mail's one link), if it has one."""
    page = SUBJECT_PAGES.get(subject_kind)
    if page is None:
        return None
    return public_url.rstrip("/") + page.format(id=subject_id)


def reminder_context(
    *,
    rule: Rule,
    step: Step,
    item: DueItem,
    today: date,
    forbund_name: str,
    recipient_name: str,
    link: str | None = None,
) -> dict[str, Any]:
    """What every reminder template sees (the sample at start-up has the same shape).

    `link` is the page behind the login where the reminded thing is done (a report's page),
    or None: the mail carries the minimum and the link, the rest is behind the login."""
    return {
        "forbund": {"name": forbund_name},
        "recipient": {"name": recipient_name},
        "rule": {"id": rule.id, "label": rule.label},
        "step": {"key": step.key, "escalation": step.escalation, "when": step.when_text},
        "subject": {
            "kind": item.subject_kind,
            "ref": item.ref,
            "title": item.title,
            **item.facts,
        },
        "due_on": item.due_on,
        # Positive: days left; 0: today; negative: days overdue.
        "days_left": (item.due_on - today).days,
        "today": today,
        "link": link,
    }


def notice_context(
    *, forbund_name: str, recipient_name: str, failed: dict[str, Any]
) -> dict[str, Any]:
    return {
        "forbund": {"name": forbund_name},
        "recipient": {"name": recipient_name},
        "failed": failed,
    }


SAMPLE_NOTICE = notice_context(
    forbund_name="Samordningsförbundet",
    recipient_name="Maria Lindqvist",
    failed={
        "to": "someone@example.se",
        "subject": "Påminnelse",
        "error": "550 mailbox unavailable",
        "message_id": "<x@example.se>",
    },
)


# A one-time link to choose a new password (workflow/services/access/links.py).
SAMPLE_PASSWORD_LINK = {
    "forbund": {"name": "Samordningsförbundet"},
    "recipient": {"name": "Maria Lindqvist"},
    "link": {"url": "https://finsam.example.se/nytt-losenord?nyckel=abc", "minutes": 60},
}


# The applicant's protocol extract after justering (workflow/services/board/utdrag.py).
SAMPLE_UTDRAG = {
    "forbund": {"name": "Samordningsförbundet"},
    "recipient": {"name": "Maria Lindqvist"},
    "utdrag": {
        "organ": "Styrelsen",
        "title": "Ansökan om medel till insatsen Steget vidare",
        "dnr": "2026/004-01",
        "meeting_day": "27 november 2026",
        "paragraph": 12,
        "year": 2026,
        "decision": "Bifall",
        "att_satser": ["att bevilja 600 tkr för 2027"],
        "conditions": None,
        "motivation": None,
        "motivation_label": "Motivering",
    },
}


def digest_context(
    *,
    forbund_name: str,
    recipient_name: str,
    delivery: str,
    items: list[dict[str, Any]],
) -> dict[str, Any]:
    """What the digest template (sammanfattning) sees: the reminders held for one person.

    Each item: subject (the reminder's subject line), text (its body without greeting and
    signature), rule_label, ref, due_on."""
    label, period = DIGEST_NAMES[delivery]
    return {
        "forbund": {"name": forbund_name},
        "recipient": {"name": recipient_name},
        "digest": {"kind": delivery, "label": label, "period": period, "count": len(items)},
        "items": items,
    }


# The digest kinds: (subject label, "dina påminnelser ..." phrase).
DIGEST_NAMES = {
    "daily": ("Dagens påminnelser", "för i dag"),
    "weekly": ("Veckans påminnelser", "för veckan"),
}

SAMPLE_DIGEST = digest_context(
    forbund_name="Samordningsförbundet",
    recipient_name="Maria Lindqvist",
    delivery="daily",
    items=[
        {
            "subject": "Dags att förnya: Policy för samverkan (senast 31 december 2026)",
            "text": "Policy för samverkan (sd-1) ska förnyas senast 31 december 2026.",
            "rule_label": "Styrdokument ska förnyas",
            "ref": "sd-1",
            "due_on": date(2026, 12, 31),
        }
    ],
)

SYSTEM_SAMPLES: dict[str, dict[str, Any]] = {
    "leveransfel": SAMPLE_NOTICE,
    "losenordslank": SAMPLE_PASSWORD_LINK,
    "sammanfattning": SAMPLE_DIGEST,
    "protokollsutdrag": SAMPLE_UTDRAG,
}


_BODY_ONLY = "{% block body %}{% endblock %}"


def _environment(loader: Any, *, autoescape: bool) -> Environment:
    from jinja2 import Environment, StrictUndefined

    env = Environment(loader=loader, autoescape=autoescape, undefined=StrictUndefined)
    env.filters["datum"] = swedish_date
    return env


class Templates:
    """Jinja2 environments over notifications/templates: HTML escapes, text and subject do not.
    Each is built on first use: checking that a template is there needs none."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @cached_property
    def _loader(self) -> Any:
        from jinja2 import FileSystemLoader

        return FileSystemLoader(str(self.folder))

    @cached_property
    def html(self) -> Environment:
        # Explicit: select_autoescape() matches *.html, not our *.html.j2.
        return _environment(self._loader, autoescape=True)

    @cached_property
    def text(self) -> Environment:
        return _environment(self._loader, autoescape=False)

    @cached_property
    def body(self) -> Environment:
        """The text part on a layout of its body alone: what a digest quotes of each reminder."""
        from jinja2 import ChoiceLoader, DictLoader

        loader = ChoiceLoader([DictLoader({"_layout.txt.j2": _BODY_ONLY}), self._loader])
        return _environment(loader, autoescape=False)

    def exists(self, name: str) -> bool:
        return all(
            (self.folder / f"{name}.{part}.j2").is_file() for part in ("subject", "txt", "html")
        )

    def render(self, name: str, context: dict[str, Any]) -> Rendered:
        subject = self.text.get_template(f"{name}.subject.j2").render(context)
        text = self.text.get_template(f"{name}.txt.j2").render(context)
        html = self.html.get_template(f"{name}.html.j2").render(context)
        return Rendered(subject=one_line(subject)[:400], text=text.strip() + "\n", html=html)

    def render_body(self, name: str, context: dict[str, Any]) -> str:
        """The text part's `body` block alone (no greeting, no signature), for a digest; the
        whole text part when the template has no such block."""
        return self.body.get_template(f"{name}.txt.j2").render(context).strip()


@dataclass(frozen=True)
class Notifications:
    folder: Path
    rules: dict[str, Rule]
    templates: Templates
    # A digest of the folder's files as loaded (_fingerprint): what the reminders were planned
    # from, so that the sweep plans anew when the rules or the templates change.
    fingerprint: str = ""

    def rule(self, rule_id: str) -> Rule | None:
        return self.rules.get(rule_id)


def _fail(path: Path, key: str, problem: str) -> DefinitionError:
    return DefinitionError(f"{path}: {key}: {problem}")


def _month_day(path: Path, key: str, value: Any) -> tuple[int, int]:
    match = _MONTH_DAY.match(str(value))
    if not match:
        raise _fail(path, key, f"ogiltigt datum {value!r}; skriv MM-DD, t.ex. 09-01")
    month, day = int(match[1]), int(match[2])
    try:
        date(2001, month, day)  # not a leap year: 02-29 would skip most years
    except ValueError:
        raise _fail(path, key, f"ogiltigt datum {value!r}; skriv MM-DD, t.ex. 09-01") from None
    return month, day


def _step(path: Path, key: str, raw: Any, templates: Templates) -> Step:
    if not isinstance(raw, dict):
        raise _fail(path, key, "ska vara en mappning med key, offset eller date, to, template")
    step_key = raw.get("key")
    if not isinstance(step_key, str) or not _NAME.match(step_key):
        raise _fail(path, f"{key}.key", "saknas eller är inte ett namn (små bokstäver, siffror, _)")
    key = f"{key} ({step_key})"
    # (`on:` would be read as the boolean true by YAML 1.1, hence `date:`.)
    if ("offset" in raw) == ("date" in raw):
        raise _fail(path, key, "ange antingen offset (t.ex. -21d) eller date (MM-DD)")
    offset_days = None
    month_day = None
    if "offset" in raw:
        match = _OFFSET.match(str(raw["offset"]).strip())
        if not match:
            raise _fail(
                path,
                f"{key}.offset",
                f"ogiltig förskjutning {raw['offset']!r}; skriv dagar som -21d, 0d eller +3d",
            )
        offset_days = int(match[2]) * (-1 if match[1] == "-" else 1)
    else:
        month_day = _month_day(path, f"{key}.date", raw["date"])
    to = raw.get("to")
    if isinstance(to, str):
        to = [to]
    if not isinstance(to, list) or not to or not all(isinstance(t, str) for t in to):
        raise _fail(path, f"{key}.to", "ange minst en mottagare (roll eller ansvarig)")
    known = {r.value for r in Role} | {RESPONSIBLE}
    for recipient in to:
        if recipient not in known:
            raise _fail(
                path,
                f"{key}.to",
                f"okänd roll {recipient!r}; kända: {', '.join(sorted(known))}",
            )
    template = raw.get("template")
    if not isinstance(template, str) or not template:
        raise _fail(path, f"{key}.template", "saknas")
    if not templates.exists(template):
        raise _fail(
            path,
            f"{key}.template",
            f"mallen {template!r} saknas; den behöver {template}.subject.j2, "
            f"{template}.txt.j2 och {template}.html.j2 i {templates.folder}",
        )
    return Step(
        key=step_key,
        offset_days=offset_days,
        month_day=month_day,
        to=tuple(to),
        template=template,
        escalation=bool(raw.get("escalation", False)),
    )


def _check_renders(
    path: Path, key: str, templates: Templates, name: str, context: dict[str, Any]
) -> None:
    """Render each part alone so that the error names the template file, and the rule key."""
    from jinja2 import TemplateError, TemplateNotFound, TemplateSyntaxError

    for part, env in (
        ("subject", templates.text),
        ("txt", templates.text),
        ("html", templates.html),
    ):
        file = templates.folder / f"{name}.{part}.j2"
        try:
            env.get_template(file.name).render(context)
        except TemplateSyntaxError as exc:
            where = exc.filename or file
            raise DefinitionError(
                f"{where}: rad {exc.lineno}: {exc.message} (används av {path.name} {key})"
            ) from None
        except TemplateNotFound as exc:
            raise DefinitionError(
                f"{file}: mallen {exc.name!r} saknas (används av {path.name} {key})"
            ) from None
        except TemplateError as exc:
            raise DefinitionError(
                f"{file}: går inte att fylla i med regelns exempeldata: {exc} (används av {path.name} {key})"
            ) from None


# Definitions already loaded and checked in this process, by what their files hold: a process
# that builds several Apps over the same folder (the web server and its scheduler, the test
# suite's thousand) reads, compiles and renders them once, about 0.2 s of CPU each time. A
# changed file is a new key, so an edit is checked again; a failed load is not kept.
_LOADED: dict[tuple[str, bool, str], Notifications] = {}


def _fingerprint(folder: Path) -> str:
    """A digest of every file under `folder`, names and contents (a few dozen small files)."""
    digest = hashlib.sha256()
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(folder)).encode() + b"\0")
        digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()


def load_notifications(folder: Path, *, render: bool = True) -> Notifications:
    """Read rules.yaml and the templates; render each with sample data or stop start-up.

    With render=False (a command that only reads reminders) the rules are checked all the
    same and each template only for its three files; none is compiled or rendered."""
    where, fingerprint = str(folder.resolve()), _fingerprint(folder)
    # A load that rendered the templates is also one that did not need to.
    loaded = _LOADED.get((where, True, fingerprint)) or _LOADED.get((where, render, fingerprint))
    if loaded is None:
        loaded = _LOADED[where, render, fingerprint] = replace(
            _load(folder, render=render), fingerprint=fingerprint
        )
    return loaded


def _load(folder: Path, *, render: bool) -> Notifications:
    path = folder / "rules.yaml"
    templates = Templates(folder / "templates")
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
    if not isinstance(raw, dict) or not isinstance(raw.get("rules"), dict):
        raise _fail(path, "rules", "ska vara en mappning regel-id: regel")
    rules: dict[str, Rule] = {}
    for rule_id, spec in raw["rules"].items():
        key = f"rules.{rule_id}"
        if not isinstance(rule_id, str) or not _NAME.match(rule_id):
            raise _fail(path, key, "regelns id ska vara små bokstäver, siffror och _")
        if not isinstance(spec, dict):
            raise _fail(path, key, "ska vara en mappning med label, source och steps")
        label = spec.get("label")
        if not isinstance(label, str) or not label.strip():
            raise _fail(path, f"{key}.label", "saknas")
        source_name = spec.get("source")
        if source_name not in SOURCES:
            raise _fail(
                path,
                f"{key}.source",
                f"okänd källa {source_name!r}; kända: {', '.join(sorted(SOURCES))}",
            )
        yearly_due = None
        if source_name == "yearly":
            if "due" not in spec:
                raise _fail(path, f"{key}.due", "källan yearly behöver due: MM-DD")
            yearly_due = _month_day(path, f"{key}.due", spec["due"])
        raw_steps = spec.get("steps")
        if not isinstance(raw_steps, list) or not raw_steps:
            raise _fail(path, f"{key}.steps", "ska vara en lista med minst ett steg")
        steps = tuple(
            _step(path, f"{key}.steps[{i}]", s, templates) for i, s in enumerate(raw_steps)
        )
        if len({s.key for s in steps}) != len(steps):
            raise _fail(path, f"{key}.steps", "två steg har samma key")
        compulsory = spec.get("compulsory", False)
        if not isinstance(compulsory, bool):
            raise _fail(path, f"{key}.compulsory", "ska vara true eller false")
        rule = Rule(rule_id, label.strip(), source_name, yearly_due, steps, compulsory)
        sample = SOURCES[source_name].sample
        if yearly_due is not None:
            sample = DueItem(**{**sample.__dict__, "due_on": date(2026, *yearly_due)})
        for step in steps if render else ():
            context = reminder_context(
                rule=rule,
                step=step,
                item=sample,
                today=step.planned_on(sample.due_on),
                forbund_name="Samordningsförbundet",
                recipient_name=ROLE_LABELS[Role.FORBUNDSCHEF],
                link=subject_link("http://127.0.0.1:8000", sample.subject_kind, 1),
            )
            _check_renders(
                path, f"{key}.steps ({step.key}).template", templates, step.template, context
            )
        rules[rule_id] = rule
    for name in SYSTEM_TEMPLATES:
        if not templates.exists(name):
            raise _fail(path, "(mallar)", f"systemmallen {name!r} saknas i {templates.folder}")
        if render:
            _check_renders(path, f"systemmallen {name}", templates, name, SYSTEM_SAMPLES[name])
    return Notifications(folder=folder, rules=rules, templates=templates)
