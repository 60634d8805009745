"""`finsam people token ...`: a person's personal API tokens (create, list, revoke).

The secret is printed once, at creation, and stored only as its SHA-256: keep it then, or
revoke the token and make a new one.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, time, timedelta

import click

from workflow.app import App
from workflow.cli.context import pass_app
from workflow.cli.output import emit, json_option, print_table
from workflow.clock import show
from workflow.errors import BadInput
from workflow.services.access import tokens as token_service
from workflow.services.access.tokens import TokenView

OPERATOR = "finsam people token"


@click.group("token", help="Personliga API-nycklar (Authorization: Bearer) för en person.")
def token() -> None:
    pass


def _expiry(app: App, day: str | None) -> datetime | None:
    """A token given --expires ÅÅÅÅ-MM-DD works through that day (local time)."""
    if day is None:
        return None
    try:
        last = datetime.strptime(day.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise BadInput(f"--expires: {day!r} är inget datum; skriv ÅÅÅÅ-MM-DD") from None
    return datetime.combine(last + timedelta(days=1), time(0), tzinfo=app.settings.zone)


def _status(view: TokenView) -> str:
    if view.revoked_at is not None:
        return f"återkallad {view.revoked_at:%Y-%m-%d}"
    if not view.active:
        return "har gått ut"
    return "aktiv"


@token.command("create", help="Skapa en API-nyckel; hemligheten visas bara nu.")
@click.argument("email")
@click.option("--name", required=True, help="Vad nyckeln används till (t.ex. rapportskript).")
@click.option("--expires", metavar="ÅÅÅÅ-MM-DD", help="Sista dagen nyckeln gäller.")
@json_option
@pass_app()
def create_command(app: App, email: str, name: str, expires: str | None, as_json: bool) -> None:
    made = token_service.create_token(
        app,
        email=email,
        name=name,
        forbund=app.settings.forbund,
        expires_at=_expiry(app, expires),
        by=OPERATOR,
    )

    def human() -> None:
        click.echo(f"API-nyckeln {made.token.name!r} är skapad för {email.strip().lower()}.")
        click.echo("Spara hemligheten nu; den visas inte igen:")
        click.echo(made.secret)

    emit(as_json, {"secret": made.secret, **asdict(made.token)}, human)


@token.command("list", help="Lista personens API-nycklar (aldrig hemligheterna).")
@click.argument("email")
@json_option
@pass_app()
def list_command(app: App, email: str, as_json: bool) -> None:
    views = token_service.list_tokens(app, email=email, forbund=app.settings.forbund)
    emit(
        as_json,
        [asdict(v) for v in views],
        lambda: print_table(
            ["Id", "Namn", "Början", "Skapad", "Senast använd", "Gäller till", "Status"],
            [
                [
                    v.id,
                    v.name,
                    v.prefix + "…",
                    show(v.created_at),
                    show(v.last_used_at) if v.last_used_at else "–",
                    show(v.expires_at) if v.expires_at else "tills vidare",
                    _status(v),
                ]
                for v in views
            ],
            empty="(inga API-nycklar)",
        ),
    )


@token.command(
    "revoke", help="Återkalla en API-nyckel (id eller namn); den släpper inte in någon mer."
)
@click.argument("email")
@click.argument("token_ref", metavar="NYCKEL")
@json_option
@pass_app()
def revoke_command(app: App, email: str, token_ref: str, as_json: bool) -> None:
    view = token_service.revoke_token(
        app, email=email, token=token_ref, forbund=app.settings.forbund, by=OPERATOR
    )
    emit(
        as_json,
        asdict(view),
        lambda: click.echo(
            f"API-nyckeln {view.name!r} är återkallad och släpper inte in någon mer."
        ),
    )
