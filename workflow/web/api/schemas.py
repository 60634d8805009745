"""The JSON API's documents (pydantic): what it answers and what it takes.

Incoming documents forbid unknown keys (a misspelt field is a 400 naming it, never silently
dropped) and refuse text no database can store (NUL, lone surrogates), so that a bad request
is always a 400 and never reaches the database as a 500.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from workflow.services.cases import CaseView, EventView, Step


def _storable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("texten får inte innehålla NUL-tecken")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("texten är inte giltig Unicode") from None
    return value


Text = Annotated[str, AfterValidator(_storable)]
FieldValue = Text | int | list[Text] | dict[Text, Text | int]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Problem(BaseModel):
    """An error (RFC 9457): `detail` is the CLI's line for it, `exit_code` the CLI's code."""

    type: str
    title: str
    status: int
    detail: str
    exit_code: int | None = None
    failures: list[dict[str, str]] | None = None


class EventOut(BaseModel):
    seq: int
    at: datetime
    trigger: str
    step_label: str
    from_state: str | None
    from_label: str
    to_state: str
    to_label: str
    actor: str
    comment: str | None
    data: dict[str, Any]

    @classmethod
    def of(cls, event: EventView) -> EventOut:
        return cls(
            seq=event.seq,
            at=event.at,
            trigger=event.trigger,
            step_label=event.step_label,
            from_state=event.from_state,
            from_label=event.from_label,
            to_state=event.to_state,
            to_label=event.to_label,
            actor=event.actor,
            comment=event.comment,
            data=event.data,
        )


class CaseOut(BaseModel):
    """A case as a list shows it. `version` is also its ETag: send it back in If-Match."""

    ref: str
    dnr: str | None
    title: str
    state: str
    state_label: str
    version: int
    inriktning: str
    inriktning_label: str
    malgrupp: str | None
    syfte: str | None
    mal: str | None
    start: date | None
    end: date | None
    owner_party: str | None
    parties: list[str]
    project_owner: str | None
    budget_requested: dict[str, int]
    followup_plan: str | None
    recommendation: str | None
    recommendation_label: str
    recommendation_motivation: str | None
    decision_paragraph: str | None
    agreement_signed_on: date | None
    final_report_on: date | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: CaseView) -> CaseOut:
        return cls(**_fields(view, cls))


class CaseDetail(CaseOut):
    """A case with its history, oldest event first."""

    history: list[EventOut]

    @classmethod
    def of(cls, view: CaseView) -> CaseDetail:
        return cls(**_fields(view, CaseOut), history=[EventOut.of(event) for event in view.history])


def _fields(view: CaseView, model: type[BaseModel]) -> dict[str, Any]:
    return {name: getattr(view, name) for name in model.model_fields if name != "history"}


class CasePage(BaseModel):
    """One page of cases; `next_after` goes in `after` for the next page (null: the last)."""

    items: list[CaseOut]
    next_after: str | None


class StepOut(BaseModel):
    """A step from the case's state, judged for the caller: `allowed`, or `reasons` saying
    why not and what would make it possible; `fields` are what its body may set."""

    trigger: str
    label: str
    to_state: str
    to_label: str
    fields: list[str]
    field_labels: list[str]
    needs_comment: bool
    allowed: bool
    reasons: list[str]

    @classmethod
    def of(cls, step: Step) -> StepOut:
        return cls(
            trigger=step.trigger,
            label=step.label,
            to_state=step.to_state,
            to_label=step.to_label,
            fields=list(step.fields),
            field_labels=list(step.field_labels),
            needs_comment=step.needs_comment,
            allowed=step.allowed,
            reasons=list(step.reasons),
        )


class StepList(BaseModel):
    ref: str
    state: str
    state_label: str
    version: int
    steps: list[StepOut]


class IdeaIn(_In):
    """A new idea: a title and whatever else is known so far (the application's fields)."""

    title: Text = Field(max_length=200)
    inriktning: Text | None = None
    malgrupp: Text | None = None
    syfte: Text | None = None
    mal: Text | None = None
    start: date | None = None
    end: date | None = None
    owner_party: Text | None = None
    parties: list[Text] | None = None
    project_owner: Text | None = None
    budget: dict[Text, int] | None = Field(
        default=None, description='Sökt budget, tkr per år: {"2027": 500}'
    )
    followup_plan: Text | None = None
    comment: Text | None = Field(default=None, description="Kommentar till händelsen.")

    def values(self) -> dict[str, Any]:
        """The fields given, as the service takes them (the CLI's file has the same keys)."""
        given = self.model_dump(exclude_none=True, exclude={"comment"})
        for name in ("start", "end"):
            if name in given:
                given[name] = given[name].isoformat()
        return given


class StepIn(_In):
    """A step's comment and the case fields it records (only those the step allows: see
    GET /cases/{ref}/steps; any other is a 400)."""

    comment: Text | None = None
    fields: dict[Text, FieldValue] = Field(default_factory=dict)

    def values(self) -> dict[str, Any]:
        def plain(value: Any) -> Any:
            if isinstance(value, dict):
                return {str(k): str(v) for k, v in value.items()}
            if isinstance(value, list):
                return [str(v) for v in value]
            return str(value)

        return {key: plain(value) for key, value in self.fields.items()}
