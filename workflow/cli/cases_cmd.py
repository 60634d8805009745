"""`finsam cases ...`: list, show, submit an idea, fire a lifecycle step."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import click
import yaml

from workflow.app import App
from workflow.case_fields import parse_assignments
from workflow.cli.context import pass_app
from workflow.cli.output import emit, json_option, print_pairs, print_table
from workflow.cli.paged import emit_pages, page_options
from workflow.errors import BadInput
from workflow.lifecycle.definition import Lifecycle
from workflow.services import cases as case_service
from workflow.services.cases import CaseView


@click.group("cases", help="Insatser: lista, visa, lämna in idéer och utför steg i livscykeln.")
def cases() -> None:
    pass


def _period(view: CaseView) -> str:
    if view.start is None and view.end is None:
        return ""
    return f"{view.start or '?'} – {view.end or '?'}"


@cases.command(
    "list", help="Lista förbundets insatser, en sida i taget (registrerade efter dnr, sedan idéer)."
)
@click.option("--state", help="Visa bara insatser i detta tillstånd (t.ex. pagaende).")
@click.option("--inriktning", help="Bara denna inriktning (individ eller struktur).")
@click.option("--year", type=int, help="Bara insatser vars period berör detta år.")
@click.option("--party", help="Bara insatser där denna part (namn eller id) deltar eller äger.")
@click.option("--search", "text", help="Sök i dnr och titel (skiftlägesokänsligt).")
@click.option("--owner", "owner_email", metavar="EMAIL", help="Bara denna projektägares insatser.")
@click.option("--as", "viewer", metavar="EMAIL", help="Bara de insatser denna person får se.")
@page_options
@json_option
@pass_app()
def list_command(
    app: App,
    state: str | None,
    inriktning: str | None,
    year: int | None,
    party: str | None,
    text: str | None,
    owner_email: str | None,
    viewer: str | None,
    limit: int,
    after: str | None,
    all_pages: bool,
    as_json: bool,
) -> None:
    filters = case_service.CaseFilter(
        state=state,
        inriktning=inriktning,
        year=year,
        party=party,
        text=text,
        project_owner_email=owner_email,
        viewer_email=viewer,
    )
    forbund = app.settings.forbund
    emit_pages(
        as_json=as_json,
        fetch=lambda start, size: case_service.list_cases(
            app, forbund=forbund, filters=filters, after=start, limit=size
        ),
        after=after,
        limit=limit,
        all_pages=all_pages,
        to_json=CaseView.to_json,
        headers=["Dnr", "Titel", "Tillstånd", "Rekommendation", "Insatsägare", "Period", "Version"],
        row=lambda v: [
            v.ref,
            v.title,
            v.state_label,
            v.recommendation_label,
            v.owner_party,
            _period(v),
            v.version,
        ],
        empty="(inga insatser)",
        more="Fler ärenden",
    )


def _print_case(view: CaseView, lifecycle: Lifecycle) -> None:
    budget = ", ".join(f"{year}: {amount} tkr" for year, amount in view.budget_requested.items())
    print_pairs(
        [
            ("Dnr", view.ref),
            ("Titel", view.title),
            ("Tillstånd", view.state_label),
            ("Rekommendation", view.recommendation_label),
            ("Motivering", view.recommendation_motivation),
            ("Beslut §", view.decision_paragraph),
            ("Inriktning", view.inriktning_label),
            ("Målgrupp", view.malgrupp),
            ("Syfte", view.syfte),
            ("Mål", view.mal),
            ("Period", _period(view)),
            ("Insatsägare", view.owner_party),
            ("Parter", view.parties),
            ("Projektägare", view.project_owner),
            ("Sökt budget", budget),
            ("Uppföljningsplan", view.followup_plan),
            ("Avtal undertecknat", view.agreement_signed_on),
            ("Slutrapport", view.final_report_on),
            ("Version", view.version),
            ("Senast ändrad", view.updated_at),
        ]
    )
    if view.history:
        click.echo("")
        click.echo("Händelser")
        print_table(
            ["Nr", "Tid", "Steg", "Från", "Till", "Av", "Kommentar"],
            [
                [e.seq, e.at, e.step_label, e.from_label, e.to_label, e.actor, e.comment]
                for e in view.history
            ],
        )


@cases.command("show", help="Visa en insats med dess händelser.")
@click.argument("ref", metavar="DNR")
@click.option(
    "--as", "viewer", metavar="EMAIL", help="Visa som denna person ser det (bara sina ärenden)."
)
@json_option
@pass_app()
def show_command(app: App, ref: str, viewer: str | None, as_json: bool) -> None:
    view = case_service.get_case(app, ref=ref, forbund=app.settings.forbund, viewer_email=viewer)
    emit(as_json, view.to_json(), lambda: _print_case(view, app.lifecycles["insats"].lifecycle))


def _read_submission(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"kan inte läsa {path}: {exc.strerror}") from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise BadInput(
            f"{path}: kan inte tolkas som {'JSON' if path.suffix == '.json' else 'YAML'}: {exc}".splitlines()[
                0
            ]
        ) from None
    if not isinstance(data, dict):
        raise BadInput(f"{path}: ska innehålla fält som nyckel: värde (t.ex. title: ...)")
    return data


@cases.command("submit", help="Lämna in en ny idé från en YAML- eller JSON-fil.")
@click.option("--file", "path", required=True, type=click.Path(path_type=Path), help="Idéns fält.")
@click.option("--as", "actor", required=True, metavar="EMAIL", help="Vem som lämnar in.")
@click.option("--comment", help="Kommentar till händelsen.")
@json_option
@pass_app()
def submit_command(app: App, path: Path, actor: str, comment: str | None, as_json: bool) -> None:
    view = case_service.submit_idea(
        app,
        actor_email=actor,
        values=_read_submission(path),
        forbund=app.settings.forbund,
        comment=comment,
    )
    emit(
        as_json,
        view.to_json(),
        lambda: click.echo(
            f"Idén är inlämnad som {view.ref}: {view.title} (tillstånd: {view.state_label}; "
            "registreringen ger den ett diarienummer)"
        ),
    )


@cases.command("fire", help="Utför ett steg (TRIGGER) i en insats livscykel.")
@click.argument("ref", metavar="DNR")
@click.argument("trigger")
@click.option("--as", "actor", required=True, metavar="EMAIL", help="Vem som utför steget.")
@click.option("--comment", help="Motivering eller kommentar (sparas i granskningsloggen).")
@click.option(
    "--set", "assignments", multiple=True, metavar="KEY=VALUE", help="Fält att registrera."
)
@click.option(
    "--expect-version", type=int, help="Versionen du läste; ändrad sedan ger konflikt (5)."
)
@json_option
@pass_app()
def fire_command(
    app: App,
    ref: str,
    trigger: str,
    actor: str,
    comment: str | None,
    assignments: tuple[str, ...],
    expect_version: int | None,
    as_json: bool,
) -> None:
    view = case_service.fire(
        app,
        ref=ref,
        trigger=trigger,
        actor_email=actor,
        forbund=app.settings.forbund,
        comment=comment,
        values=parse_assignments(list(assignments)),
        expected_version=expect_version,
    )
    lifecycle = app.lifecycles["insats"].lifecycle
    emit(
        as_json,
        view.to_json(),
        lambda: click.echo(
            f"{view.ref}: ”{lifecycle.step_label(trigger)}” utfört; tillstånd nu "
            f"”{view.state_label}” (version {view.version})"
        ),
    )


@cases.command(
    "actions", help="Visa stegen på en insats nu: vilka personen kan ta, och vem som kan."
)
@click.argument("ref", metavar="DNR")
@click.option("--as", "actor", required=True, metavar="EMAIL")
@json_option
@pass_app()
def actions_command(app: App, ref: str, actor: str, as_json: bool) -> None:
    forbund = app.settings.forbund
    steps = case_service.steps_for(app, ref=ref, actor_email=actor, forbund=forbund)
    others = case_service.others_can(app, ref=ref, actor_email=actor, forbund=forbund)
    data = {
        "ref": ref,
        "state": others.state,
        "state_label": others.state_label,
        "steps": [dataclasses.asdict(step) for step in steps],
        "elsewhere": [{"label": label, "where": where} for label, where in others.elsewhere],
    }

    def human() -> None:
        click.echo(f"{ref} är ”{others.state_label}”. Steg härifrån för {actor}:")
        print_table(
            ["Steg", "Kommando", "Till", "Du", "Vad som krävs"],
            [
                [
                    step.label,
                    step.trigger,
                    step.to_label,
                    "ja" if step.allowed else "nej",
                    "; ".join(step.reasons)
                    or ("en motivering (--comment)" if step.needs_comment else ""),
                ]
                for step in steps
            ],
            empty=f"(inga steg som tas för hand; {others.text()})",
        )
        for label, where in others.elsewhere:
            click.echo(f"”{label}” görs i {where}.")
        if steps and not any(step.allowed for step in steps):
            click.echo("Inget av stegen är ditt nu; kolumnen Vad som krävs säger vem som kan.")

    emit(as_json, data, human)
