"""`finsam policies ...`: the register of governing documents and their renewal."""

from __future__ import annotations

from datetime import date, datetime

import click

from workflow.app import App
from workflow.cli.context import pass_app
from workflow.cli.output import emit, json_option, print_pairs, print_table
from workflow.services.policies import documents as policies
from workflow.services.policies.documents import KINDS, PolicyView

DATE = click.DateTime(["%Y-%m-%d"])


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def _status(view: PolicyView) -> str:
    return f"{view.state_label} – FÖRSENAD" if view.overdue else view.state_label


@click.group(
    "policies", help="Styrdokument: förbundsordning, policy, verksamhetsplan ... och förnyelse."
)
def policies_group() -> None:
    pass


@policies_group.command("list", help="Lista styrdokumenten; försenade markeras.")
@click.option("--overdue", is_flag=True, help="Bara dokument vars sista förnyelsedag har passerat.")
@json_option
@pass_app()
def list_command(app: App, overdue: bool, as_json: bool) -> None:
    views = policies.list_policies(app, forbund=app.settings.forbund, overdue_only=overdue)
    emit(
        as_json,
        [v.to_json() for v in views],
        lambda: print_table(
            ["Ref", "Typ", "Titel", "Status", "Beslutat", "Av", "Förnyas senast", "Ägare"],
            [
                [
                    v.ref,
                    v.kind_label,
                    v.title,
                    _status(v),
                    v.decided_on,
                    v.decided_by,
                    v.renew_by,
                    v.owner,
                ]
                for v in views
            ],
            empty="(inga styrdokument)",
        ),
    )


def _print(view: PolicyView) -> None:
    print_pairs(
        [
            ("Ref", view.ref),
            ("Typ", view.kind_label),
            ("Titel", view.title),
            ("Status", _status(view)),
            ("Beslutat", view.decided_on),
            ("Beslutat av", view.decided_by),
            (
                "Förnyas vart",
                f"{view.renewal_years} år" if view.renewal_years else "gäller tills vidare",
            ),
            ("Förnyas senast", view.renew_by),
            ("Ägare", view.owner),
            ("Version", view.version),
        ]
    )


@policies_group.command("show", help="Visa ett styrdokument.")
@click.argument("ref")
@json_option
@pass_app()
def show_command(app: App, ref: str, as_json: bool) -> None:
    view = policies.get_policy(app, ref=ref, forbund=app.settings.forbund)
    emit(as_json, view.to_json(), lambda: _print(view))


@policies_group.command(
    "register", help="Registrera ett styrdokument (beslutat, eller som utkast)."
)
@click.option("--kind", required=True, type=click.Choice(list(KINDS)), help="Dokumenttyp.")
@click.option("--title", required=True, help="Titel.")
@click.option("--decided-on", type=DATE, help="Beslutsdag (utan: registreras som utkast).")
@click.option("--decided-by", help="Beslutande organ, t.ex. Styrelsen.")
@click.option("--owner", metavar="EMAIL", help="Ansvarig (får förnyelsepåminnelserna).")
@click.option("--renewal-years", type=int, help="Förnyas vart N år (policy 4, verksamhetsplan 1).")
@click.option("--renew-by", type=DATE, help="Sista dag för förnyelse (annars 31 dec sista året).")
@click.option("--dnr", help="Diarienummer.")
@click.option("--as", "actor", required=True, metavar="EMAIL", help="Vem som registrerar.")
@json_option
@pass_app()
def register_command(
    app: App,
    kind: str,
    title: str,
    decided_on: datetime | None,
    decided_by: str | None,
    owner: str | None,
    renewal_years: int | None,
    renew_by: datetime | None,
    dnr: str | None,
    actor: str,
    as_json: bool,
) -> None:
    view = policies.register(
        app,
        actor_email=actor,
        kind=kind,
        title=title,
        decided_on=_day(decided_on),
        decided_by=decided_by,
        owner_email=owner,
        renewal_years=renewal_years,
        renew_by=_day(renew_by),
        dnr=dnr,
        forbund=app.settings.forbund,
    )
    emit(
        as_json,
        view.to_json(),
        lambda: click.echo(f"Registrerat {view.ref}: {view.title} ({_status(view)})"),
    )


@policies_group.command("renew", help="Registrera ett nytt beslut om ett styrdokument (förnyelse).")
@click.argument("ref")
@click.option("--decided-on", type=DATE, help="Beslutsdag (annars i dag).")
@click.option("--decided-by", help="Beslutande organ.")
@click.option("--comment", required=True, help="Beslutet, t.ex. 'Styrelsen § 12'.")
@click.option("--as", "actor", required=True, metavar="EMAIL", help="Vem som registrerar.")
@json_option
@pass_app()
def renew_command(
    app: App,
    ref: str,
    decided_on: datetime | None,
    decided_by: str | None,
    comment: str,
    actor: str,
    as_json: bool,
) -> None:
    view = policies.renew(
        app,
        ref=ref,
        actor_email=actor,
        comment=comment,
        decided_on=_day(decided_on),
        decided_by=decided_by,
        forbund=app.settings.forbund,
    )
    emit(
        as_json,
        view.to_json(),
        lambda: click.echo(
            f"{view.ref} förnyat {view.decided_on}; förnyas nästa gång senast {view.renew_by or '–'}"
        ),
    )


@policies_group.command("fire", help="Utför ett steg i styrdokumentets livscykel (t.ex. upphav).")
@click.argument("ref")
@click.argument("trigger")
@click.option("--comment", help="Motivering (krävs för faststall och upphav).")
@click.option("--as", "actor", required=True, metavar="EMAIL", help="Vem som utför steget.")
@json_option
@pass_app()
def fire_command(
    app: App, ref: str, trigger: str, comment: str | None, actor: str, as_json: bool
) -> None:
    view = policies.fire(
        app,
        ref=ref,
        trigger=trigger,
        actor_email=actor,
        comment=comment,
        forbund=app.settings.forbund,
    )
    emit(as_json, view.to_json(), lambda: click.echo(f"{view.ref}: {_status(view)}"))


def register(group: click.Group) -> None:
    group.add_command(policies_group)
