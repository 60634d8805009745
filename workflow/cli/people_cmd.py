"""`finsam people list`: who works in the förbund, with which roles."""

from __future__ import annotations

import click

from workflow.app import App
from workflow.cli.context import pass_app
from workflow.cli.output import emit, json_option, print_table
from workflow.services.organisation.people import people as people_service
from workflow.vocabulary import ROLE_LABELS, Role


@click.group("people", help="Personer och roller i förbundet.")
def people() -> None:
    pass


@people.command("list", help="Lista personerna och deras roller.")
@json_option
@pass_app()
def list_command(app: App, as_json: bool) -> None:
    actors = people_service(app, app.settings.forbund)
    data = [{"name": a.name, "email": a.email, "roles": sorted(a.roles)} for a in actors]
    emit(
        as_json,
        data,
        lambda: print_table(
            ["Namn", "E-post", "Roller"],
            [
                [d["name"], d["email"], ", ".join(ROLE_LABELS[Role(r)] for r in d["roles"])]
                for d in data
            ],
        ),
    )
