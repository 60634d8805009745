"""`finsam init` and `finsam demo`."""

from __future__ import annotations

import click

from workflow.app import App
from workflow.cli.context import pass_app
from workflow.cli.output import emit, json_option
from workflow.db import safe_url
from workflow.services import demo


@click.command("init", help="Skapa databasen eller uppgradera dess schema.")
@json_option
@pass_app(schema=False)
def init(app: App, as_json: bool) -> None:
    heads = app.db.migrate()
    url = safe_url(app.settings.database_url)
    emit(
        as_json,
        {"database": url, "schema": heads},
        lambda: click.echo(f"Databasen är klar: {url} (schema {', '.join(heads)})"),
    )


@click.command(
    "demo",
    help="Läs in demodata: förbunden Ale, Kungälv, Stenungsund och Tjörn samt Norra Västmanland.",
)
@json_option
@pass_app(schema=False)
def demo_command(app: App, as_json: bool) -> None:
    app.db.migrate()
    result = demo.load_demo(app)

    def human() -> None:
        for each in [result, *result.also]:
            if each.created:
                click.echo(
                    f"Demodata inläst: {each.forbund_name} ({each.forbund}), "
                    f"{each.people} personer, {each.cases} insatser."
                )
            else:
                click.echo(f"Demodata finns redan: {each.forbund_name} ({each.forbund}).")
        click.echo(f"Prova: finsam --forbund {result.forbund} cases list")

    emit(as_json, result, human)


def register(group: click.Group) -> None:
    group.add_command(init)
    group.add_command(demo_command)
