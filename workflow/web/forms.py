"""The case forms: the widgets for the fields a step records, and a posted form read back
into the values the case services take (`cases.fire(values=...)`, `cases.submit_idea`).

A form carries only the fields of its step (`sets:` in states/). What a posted form holds
beyond them is handed to the service as it is, so that the service refuses it in its own
words (400) instead of the page dropping it. Only fields that differ from the case as it is
are passed on, so that the history records what the person changed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData

from workflow.case_fields import field_label
from workflow.services.cases import CaseView
from workflow.vocabulary import INRIKTNING_LABELS, RECOMMENDATION_LABELS

# Fields of every form that are no case field.
META_FIELDS = frozenset({"csrf_token", "version", "trigger", "comment"})

# How each case field is entered; every field of case_fields.FIELDS has one.
KINDS = {
    "title": "text",
    "inriktning": "choice",
    "malgrupp": "textarea",
    "syfte": "textarea",
    "mal": "textarea",
    "start": "date",
    "end": "date",
    "owner_party": "party",
    "parties": "parties",
    "project_owner": "email",
    "budget": "budget",
    "followup_plan": "textarea",
    "recommendation": "choice",
    "recommendation_motivation": "textarea",
    "decision_paragraph": "text",
    "agreement_signed_on": "date",
    "final_report_on": "date",
}

CHOICES = {
    "inriktning": [(str(k), v) for k, v in INRIKTNING_LABELS.items()],
    "recommendation": [(str(k), v) for k, v in RECOMMENDATION_LABELS.items()],
}

# Where a field's value is on a CaseView.
_VIEW_ATTRIBUTE = {"budget": "budget_requested"}


def case_url(ref: str) -> str:
    """The case page's address: /arenden/2026/003-01 (the dnr's slash kept) or /arenden/ide-4."""
    return "/arenden/" + quote(ref, safe="/")


@dataclass
class Widget:
    """One field of a form, as the template draws it."""

    name: str
    label: str
    kind: str
    value: Any
    choices: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None
    required: bool = False

    @property
    def hint(self) -> str:
        if self.kind == "date":
            return "Skriv datumet som ÅÅÅÅ-MM-DD, till exempel 2027-01-15."
        if self.kind == "parties":
            return "Välj minst två parter; alla kommuner räknas tillsammans som en part."
        if self.kind == "budget":
            return "Hela tusental kronor (tkr) per år; lämna tomt för år utan budget."
        if self.kind == "email":
            return "Projektägarens e-postadress, som hen loggar in med."
        return ""


def current_value(case: CaseView | None, name: str) -> Any:
    if case is None:
        return {} if name == "budget" else [] if name == "parties" else None
    value = getattr(case, _VIEW_ATTRIBUTE.get(name, name), None)
    if isinstance(value, date):
        return value.isoformat()
    return value


def budget_years(case: CaseView | None, this_year: int, submitted: dict[str, Any]) -> list[int]:
    """The years a budget form offers: this year and the three after, and any year the case
    or the form already has."""
    years = set(range(this_year, this_year + 4))
    for source in (current_value(case, "budget") or {}, submitted.get("budget") or {}):
        years.update(int(y) for y in source if str(y).isdigit())
    return sorted(years)


def widgets(
    names: Iterable[str],
    *,
    case: CaseView | None,
    parties: list[str],
    this_year: int,
    submitted: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    required: Iterable[str] = (),
) -> list[Widget]:
    """The widgets of these fields, filled with what the person sent (after a refusal) or
    else with the case's values."""
    submitted = submitted or {}
    errors = errors or {}
    must = set(required)
    result = []
    for name in names:
        kind = KINDS.get(name, "text")
        value = submitted[name] if name in submitted else current_value(case, name)
        if kind == "budget":
            given = {str(k): v for k, v in (value or {}).items()}
            value = [
                (year, given.get(str(year), ""))
                for year in budget_years(case, this_year, submitted)
            ]
        choices = CHOICES.get(name, [])
        if kind in {"party", "parties"}:
            choices = [(p, p) for p in parties]
        result.append(
            Widget(
                name=name,
                label=field_label(name)[:1].upper() + field_label(name)[1:],
                kind=kind,
                value=value,
                choices=choices,
                error=sentence(errors[name]) if name in errors else None,
                required=name in must,
            )
        )
    return result


# The services word their refusals for every channel and end them with the way out on the
# command line ("...; se 'finsam cases list'"). A page has its own ways out (links, the form
# again), so the clause that names a command is left off there; the API keeps it.
_CLI_HINT = re.compile(r";[^;']*'finsam [^']*'")
# ... and an option named in passing: "börja om från första sidan (utan --after)".
_CLI_OPTION = re.compile(r" \(utan --[a-z-]+\)")


def sentence(error: Exception | str) -> str:
    """A service's refusal as a sentence on a page: capitalised, ending in a full stop,
    without the command-line hint."""
    text = _CLI_OPTION.sub("", _CLI_HINT.sub("", str(error))).strip().rstrip(";,")
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def read_form(form: FormData, shown: Iterable[str]) -> dict[str, Any]:
    """Every case field of a posted form: {"title": "...", "parties": [...], "budget":
    {"2027": "600"}}. A field name the form did not show is kept too (the service refuses
    it). `shown`: the fields the form drew; a parties field drawn with nothing ticked is []."""
    values: dict[str, Any] = {}
    for key in dict.fromkeys(form.keys()):
        if key in META_FIELDS:
            continue
        if key.startswith("budget."):
            amount = form.get(key)
            values.setdefault("budget", {})
            if isinstance(values["budget"], dict):
                values["budget"][key.removeprefix("budget.")] = str(amount or "").strip()
            continue
        items = [v for v in form.getlist(key) if isinstance(v, str)]
        values[key] = items if key == "parties" else (items[-1] if items else "")
    if "parties" in shown and "parties" not in values:
        values["parties"] = []
    return values


def changed_values(values: dict[str, Any], case: CaseView | None) -> dict[str, Any]:
    """What the service should record: fields given that differ from the case (all given ones
    for a new idea), empty ones left out where the case has nothing either."""
    result: dict[str, Any] = {}
    for name, raw in values.items():
        now = current_value(case, name)
        if name == "budget" and isinstance(raw, dict):
            before = {str(k): str(v) for k, v in (now or {}).items()}
            years = {
                year: amount
                for year, amount in raw.items()
                if amount != "" and before.get(year) != amount.replace(" ", "")
            }
            if years:
                result[name] = years
            continue
        if name == "parties" and isinstance(raw, list):
            if sorted(raw) != sorted(now or []) and (raw or now):
                result[name] = raw
            continue
        text = raw.strip() if isinstance(raw, str) else raw
        if text == (now if now is not None else ""):
            continue
        if text == "" and now is None:
            continue
        result[name] = text
    return result
