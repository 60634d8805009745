"""`finsam lifecycle show`: the lifecycle as the engine reads it."""

from __future__ import annotations

import click

from workflow.app import App
from workflow.cli.context import pass_app
from workflow.cli.output import emit, print_table
from workflow.conditions import CONDITIONS
from workflow.lifecycle.definition import SERVICES, TAGS
from workflow.lifecycle.diagram import mermaid
from workflow.lifecycle.refusals import who_may


@click.group("lifecycle", help="Livscykler som data (states/).")
def lifecycle() -> None:
    pass


@lifecycle.command("show", help="Visa tillstånd och övergångar.")
@click.option("--name", default="insats", show_default=True, help="insats eller styrdokument.")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "mermaid"]), default="table", show_default=True
)
@click.option("--json", "as_json", is_flag=True, help="Skriv ut som JSON för skript.")
@pass_app(schema=False)
def show_command(app: App, name: str, fmt: str, as_json: bool) -> None:
    if name not in app.lifecycles.engines:
        raise click.BadParameter(
            f"okänd livscykel {name!r}; välj bland: {', '.join(app.lifecycles.engines)}"
        )
    definition = app.lifecycles[name].lifecycle
    data = {
        "name": definition.name,
        "file": str(definition.path),
        "initial": definition.initial,
        "states": [
            {"name": s.name, "label": s.label, "final": s.final, "tags": sorted(s.tags)}
            for s in definition.states.values()
        ],
        "transitions": [
            {
                "trigger": t.trigger,
                "label": t.label,
                "from": list(t.sources),
                "to": t.dest,
                "roles": sorted(t.roles),
                "relations": {role: list(names) for role, names in t.relations},
                "who_may": who_may(definition, [t]),
                "conditions": list(t.conditions),
                "sets": list(t.sets),
                "effects": list(t.effects),
                "service": t.service,
            }
            for t in definition.transitions
        ],
    }

    def human() -> None:
        if fmt == "mermaid":
            click.echo(mermaid(definition))
            return
        click.echo(f"Livscykel: {definition.label} ({definition.path})")
        click.echo(f"Start: {definition.label_of(definition.initial)}")
        click.echo("")
        described = CONDITIONS[definition.subject]
        print_table(
            ["Steg", "Kommando", "Från", "Till", "Vem", "Villkor"],
            [
                [
                    t.label,
                    t.trigger,
                    [definition.label_of(s) for s in t.sources],
                    definition.label_of(t.dest),
                    who_may(definition, [t])
                    if t.service is None
                    else f"görs i {SERVICES[definition.subject][t.service]}",
                    [described[c].description for c in t.conditions],
                ]
                for t in definition.transitions
            ],
        )
        tagged = [(tag, text) for tag, text in TAGS[definition.subject].items()]
        if tagged:
            click.echo("")
            print_table(
                ["Regel för tillstånd", "Tagg i filen", "Tillstånd"],
                [
                    [text, tag, [definition.label_of(s) for s in sorted(definition.tagged(tag))]]
                    for tag, text in tagged
                ],
            )

    emit(as_json, data, human)
