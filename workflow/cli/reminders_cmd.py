"""`finsam reminders ...`: the reminders as planned, planning them now, and the rules.

The outbox, mail, scheduler and health commands are in outbox_cmd.py: they need the mailer and
its SMTP library, which listing reminders does not."""

from __future__ import annotations

import dataclasses

import click

from workflow.app import App
from workflow.cli.context import pass_app
from workflow.cli.output import emit, json_option, print_table
from workflow.cli.paged import emit_pages, page_options
from workflow.services.reminders import planner as reminders
from workflow.vocabulary import STATUS_LABELS as VOCABULARY_STATUS

STATUS_LABELS = VOCABULARY_STATUS["reminder"]


@click.group("reminders", help="Påminnelser: planerade, skickade och reglerna bakom dem.")
def reminders_group() -> None:
    pass


@reminders_group.command(
    "list", help="Lista förbundets påminnelser efter när de går ut, en sida i taget."
)
@click.option(
    "--due-before", type=click.DateTime(["%Y-%m-%d"]), help="Bara de som går ut före DATUM."
)
@click.option(
    "--status",
    type=click.Choice(list(reminders.REMINDER_STATUSES)),
    help="Bara denna status.",
)
@page_options
@json_option
@pass_app(notifications="read")
def list_command(
    app: App,
    due_before: object,
    status: str | None,
    limit: int,
    after: str | None,
    all_pages: bool,
    as_json: bool,
) -> None:
    before = due_before.date() if due_before is not None else None  # type: ignore[attr-defined]
    forbund = app.settings.forbund
    emit_pages(
        as_json=as_json,
        fetch=lambda start, size: reminders.list_reminders(
            app, forbund=forbund, due_before=before, status=status, after=start, limit=size
        ),
        after=after,
        limit=limit,
        all_pages=all_pages,
        to_json=dataclasses.asdict,
        headers=["Skickas", "Regel", "När", "Gäller", "Förfaller", "Status", "Mottagare"],
        row=lambda v: [
            v.send_at,
            v.rule_label,
            _step_when(app, v.rule, v.step),
            v.subject_ref,
            v.due_on,
            STATUS_LABELS.get(v.status, v.status),
            v.recipients,
        ],
        empty="(inga påminnelser)",
        more="Fler påminnelser",
    )


@reminders_group.command(
    "plan",
    help="Planera förbundets påminnelser nu (som varje svep gör), t.ex. efter ändrade regler.",
)
@json_option
@pass_app(notifications="check")
def plan_command(app: App, as_json: bool) -> None:
    result = reminders.plan_forbund(app, forbund=app.settings.forbund)
    data = {"created": result.created, "cancelled": result.cancelled, "moved": result.moved}
    emit(
        as_json,
        data,
        lambda: click.echo(
            f"{result.created} nya påminnelser, {result.cancelled} avplanerade, "
            f"{result.moved} flyttade"
        ),
    )


@reminders_group.command("rules", help="Visa påminnelsereglerna (notifications/rules.yaml).")
@json_option
@pass_app(schema=False, notifications="read")
def rules_command(app: App, as_json: bool) -> None:
    rules = reminders.rules_overview(app)
    rows = [
        [
            r["label"] + (" (obligatorisk)" if r["compulsory"] else ""),
            r["source_label"] + ("" if r["source_available"] else " (ej tillgänglig än)"),
            step["when"],
            step["to_labels"],
        ]
        for r in rules
        for step in r["steps"]
    ]
    emit(
        as_json,
        rules,
        lambda: print_table(["Regel", "Utgår från", "När", "Till"], rows),
    )


def _step_when(app: App, rule_id: str, step_key: str) -> str:
    """A reminder's step as people read it ('21 dagar före'), from notifications/rules.yaml."""
    rule = app.notifications.rules.get(rule_id) if app.notifications else None
    step = rule.step(step_key) if rule else None
    return step.when_text if step else step_key


def register(group: click.Group) -> None:
    group.add_command(reminders_group)
