"""`finsam people ...`: who works in the förbund, with which roles; adding, changing and
deactivating them (every change names who made it, `--as`)."""

from __future__ import annotations

import sys
from dataclasses import asdict

import click

from workflow.app import App
from workflow.cli.context import pass_app
from workflow.cli.output import emit, json_option, print_pairs
from workflow.cli.paged import emit_pages, page_options
from workflow.services.organisation import people as people_service
from workflow.services.organisation.people import KEEP, Keep, PersonView
from workflow.vocabulary import ROLE_LABELS, Role

ACTOR = click.option("--as", "actor", required=True, metavar="EMAIL", help="Vem som gör ändringen.")
ROLE_CHOICES = ", ".join(r.value for r in Role)


@click.group("people", help="Personer och roller i förbundet.")
def people() -> None:
    pass


def _roles(view: PersonView) -> str:
    return ", ".join(ROLE_LABELS[Role(r)] for r in view.roles)


def _status(view: PersonView) -> str:
    if view.active or view.deactivated_at is None:
        return "aktiv"
    return f"inaktiverad {view.deactivated_at:%Y-%m-%d}"


def _data(view: PersonView) -> dict[str, object]:
    return asdict(view)


def _emit_person(as_json: bool, view: PersonView, done: str) -> None:
    def human() -> None:
        click.echo(done)
        click.echo("")
        print_pairs(
            [
                ("Namn", view.name),
                ("E-post", view.email),
                ("Part", view.party or "–"),
                ("Roller", _roles(view) or "–"),
                ("Status", _status(view)),
            ]
        )

    emit(as_json, _data(view), human)


@people.command("list", help="Lista personerna och deras roller, efter namn, en sida i taget.")
@page_options
@json_option
@pass_app()
def list_command(app: App, limit: int, after: str | None, all_pages: bool, as_json: bool) -> None:
    forbund = app.settings.forbund
    emit_pages(
        as_json=as_json,
        fetch=lambda start, size: people_service.people(app, forbund, after=start, limit=size),
        after=after,
        limit=limit,
        all_pages=all_pages,
        to_json=_data,
        headers=["Namn", "E-post", "Roller", "Part", "Status"],
        row=lambda v: [v.name, v.email, _roles(v), v.party, _status(v)],
        empty="(inga personer)",
        more="Fler personer",
    )


@people.command("show", help="Visa en person.")
@click.argument("email")
@json_option
@pass_app()
def show_command(app: App, email: str, as_json: bool) -> None:
    view = people_service.get_person(app, email=email, forbund=app.settings.forbund)
    _emit_person(as_json, view, f"{view.name} <{view.email}>")


@people.command("add", help="Lägg till en person med roller.")
@click.option("--email", required=True, help="E-postadress (personens inloggning).")
@click.option("--name", required=True, help="Namn.")
@click.option(
    "--role", "roles", multiple=True, metavar="ROLL", help=f"En gång per roll: {ROLE_CHOICES}."
)
@click.option("--party", help="Parten personen kommer från.")
@ACTOR
@json_option
@pass_app()
def add_command(
    app: App,
    email: str,
    name: str,
    roles: tuple[str, ...],
    party: str | None,
    actor: str,
    as_json: bool,
) -> None:
    view = people_service.create_person(
        app,
        actor_email=actor,
        name=name,
        email=email,
        roles=list(roles),
        party=party,
        forbund=app.settings.forbund,
    )
    _emit_person(as_json, view, f"{view.name} är tillagd.")


@people.command("roles", help="Ge en person roller eller ta bort roller.")
@click.argument("email")
@click.option(
    "--add", "added", multiple=True, metavar="ROLL", help="Roll att ge; en gång per roll."
)
@click.option("--remove", "removed", multiple=True, metavar="ROLL", help="Roll att ta bort.")
@ACTOR
@json_option
@pass_app()
def roles_command(
    app: App,
    email: str,
    added: tuple[str, ...],
    removed: tuple[str, ...],
    actor: str,
    as_json: bool,
) -> None:
    view = people_service.change_roles(
        app,
        actor_email=actor,
        email=email,
        add=added,
        remove=removed,
        forbund=app.settings.forbund,
    )
    _emit_person(as_json, view, f"Rollerna för {view.name} är ändrade.")


@people.command("update", help="Ändra en persons namn, e-post eller part.")
@click.argument("email")
@click.option("--name", help="Nytt namn.")
@click.option("--email", "new_email", help="Ny e-postadress.")
@click.option("--party", help="Ny part.")
@click.option("--no-party", is_flag=True, help="Personen kommer inte från någon part.")
@ACTOR
@json_option
@pass_app()
def update_command(
    app: App,
    email: str,
    name: str | None,
    new_email: str | None,
    party: str | None,
    no_party: bool,
    actor: str,
    as_json: bool,
) -> None:
    if party and no_party:
        raise click.UsageError("ange --party eller --no-party, inte båda")
    chosen: str | Keep | None = None if no_party else party if party else KEEP
    view = people_service.update_person(
        app,
        actor_email=actor,
        email=email,
        name=name,
        new_email=new_email,
        party=chosen,
        forbund=app.settings.forbund,
    )
    _emit_person(as_json, view, f"{view.name} är ändrad.")


@people.command("deactivate", help="Inaktivera en person: hen kan inte längre utföra något.")
@click.argument("email")
@ACTOR
@json_option
@pass_app()
def deactivate_command(app: App, email: str, actor: str, as_json: bool) -> None:
    view = people_service.deactivate_person(
        app, actor_email=actor, email=email, forbund=app.settings.forbund
    )
    _emit_person(as_json, view, f"{view.name} är inaktiverad och kan inte längre utföra något.")


@people.command("activate", help="Återaktivera en inaktiverad person.")
@click.argument("email")
@ACTOR
@json_option
@pass_app()
def activate_command(app: App, email: str, actor: str, as_json: bool) -> None:
    view = people_service.reactivate_person(
        app, actor_email=actor, email=email, forbund=app.settings.forbund
    )
    _emit_person(as_json, view, f"{view.name} är aktiv igen.")


@people.command("password", help="Sätt ett nytt lösenord för inloggning på webben.")
@click.argument("email")
@click.option("--stdin", "from_stdin", is_flag=True, help="Läs lösenordet från stdin (en rad).")
@pass_app()
def password_command(app: App, email: str, from_stdin: bool) -> None:
    from workflow.services.access import passwords

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(
            "Nytt lösenord", hide_input=True, confirmation_prompt="Upprepa lösenordet"
        )
    name = passwords.set_password(
        app,
        email=email,
        password=password,
        forbund=app.settings.forbund,
        by="finsam people password",
    )
    click.echo(
        f"Nytt lösenord satt för {name} <{email.strip().lower()}>; tidigare inloggningar är avslutade."
    )


@people.command(
    "identity",
    help="Koppla en identitet hos förbundets inloggningstjänst (OIDC) till en person.",
)
@click.argument("email")
@click.option("--issuer", required=True, help="Inloggningstjänstens adress (issuer i config).")
@click.option("--subject", required=True, help="Identiteten där: subject eller HSA-id.")
@pass_app()
def identity_command(app: App, email: str, issuer: str, subject: str) -> None:
    from workflow.services.access import identities

    linked = identities.link_identity(
        app,
        email=email,
        issuer=issuer,
        subject=subject,
        forbund=app.settings.forbund,
        by="finsam people identity",
    )
    click.echo(
        f"{linked.name} <{linked.email}> loggar nu in som {linked.subject} hos {linked.issuer}."
    )


# `finsam people token ...` (workflow/cli/tokens_cmd.py): loaded with `people`, not before.
from workflow.cli.tokens_cmd import token as _token  # noqa: E402

people.add_command(_token)
