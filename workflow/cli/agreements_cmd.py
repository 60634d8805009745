"""`finsam agreements ...` (avtal, report plan, signatures, start) and `finsam payments ...`."""

from __future__ import annotations

from datetime import date

import click

from workflow.app import App
from workflow.cli.budget_cmd import parse_year_amounts
from workflow.cli.context import get_app, pass_app
from workflow.cli.output import date_option, emit, json_option, print_pairs, print_table
from workflow.services.funding import agreements as agreement_service
from workflow.services.funding import payments as payment_service
from workflow.services.funding.agreements import AgreementView
from workflow.services.funding.payments import PaymentView
from workflow.vocabulary import status_label


@click.group("agreements", help="Avtal: upprätta med rapportplan, underteckna, starta insatsen.")
def agreements() -> None:
    pass


def _state_label(state: str) -> str:
    """A case state as the deployment's lifecycle names it."""
    app = get_app(click.get_current_context())
    return app.lifecycles["insats"].lifecycle.label_of(state)


def _print_agreement(view: AgreementView) -> None:
    print_pairs(
        [
            ("Dnr", view.ref),
            ("Insats", view.title),
            ("Beslut", view.decision_paragraph),
            ("Period", f"{view.start} – {view.end}"),
            ("Belopp", ", ".join(f"{y}: {t} tkr" for y, t in view.amounts.items())),
            ("Betalningsvillkor", view.payment_terms),
            ("Förtida avslut", view.early_termination),
            ("Undertecknat förbundet", view.forbund_signed_on),
            ("Undertecknat insatsägaren", view.owner_signed_on),
            ("Avtalets status", status_label("agreement", view.status)),
            ("Insatsens tillstånd", _state_label(view.case_state)),
        ]
    )
    click.echo("")
    click.echo("Rapportplan")
    print_table(
        ["Nr", "Rapport", "Period", "Senast", "Status"],
        [
            [
                r.id,
                r.kind_label,
                f"{r.period_start} – {r.period_end}",
                r.due_on,
                status_label("report", r.status),
            ]
            for r in view.reports
        ],
    )


@agreements.command(
    "create", help="Upprätta avtalet efter justerat bifall, för den beslutade perioden."
)
@click.argument("ref", metavar="DNR")
@click.option("--amount", "amounts", multiple=True, metavar="ÅR=TKR", help="Annars det beviljade.")
@click.option("--payment-terms", help="Betalningsvillkor (annars förbundets standard).")
@click.option("--early-termination", help="Klausul om förtida avslut.")
@click.option("--as", "actor", required=True, metavar="EMAIL")
@json_option
@pass_app()
def create_command(
    app: App,
    ref: str,
    amounts: tuple[str, ...],
    payment_terms: str | None,
    early_termination: str | None,
    actor: str,
    as_json: bool,
) -> None:
    view = agreement_service.create(
        app,
        ref=ref,
        amounts=parse_year_amounts(amounts) or None,
        payment_terms=payment_terms,
        early_termination=early_termination,
        actor_email=actor,
        forbund=app.settings.forbund,
    )
    emit(as_json, view.to_json(), lambda: _print_agreement(view))


@agreements.command(
    "sign", help="Registrera underskrifter; insatsen startar när startdagen kommit."
)
@click.argument("ref", metavar="DNR")
@date_option("--forbund-signed", help="Förbundets underskrift.")
@date_option("--owner-signed", help="Insatsägarens underskrift.")
@click.option("--as", "actor", required=True, metavar="EMAIL")
@json_option
@pass_app()
def sign_command(
    app: App,
    ref: str,
    forbund_signed: date | None,
    owner_signed: date | None,
    actor: str,
    as_json: bool,
) -> None:
    view = agreement_service.sign(
        app,
        ref=ref,
        forbund_signed_on=forbund_signed,
        owner_signed_on=owner_signed,
        actor_email=actor,
        forbund=app.settings.forbund,
    )
    emit(
        as_json,
        view.to_json(),
        lambda: click.echo(
            f"{view.ref}: avtalet är {status_label('agreement', view.status)}; insatsen är i "
            f"tillståndet ”{_state_label(view.case_state)}”"
        ),
    )


@agreements.command("show", help="Visa avtalet och dess rapportplan.")
@click.argument("ref", metavar="DNR")
@json_option
@pass_app()
def show_command(app: App, ref: str, as_json: bool) -> None:
    view = agreement_service.get(app, ref=ref, forbund=app.settings.forbund)
    emit(as_json, view.to_json(), lambda: _print_agreement(view))


@agreements.command(
    "start-due", help="Starta insatser med undertecknat avtal vars startdag kommit."
)
@click.option("--as", "actor", required=True, metavar="EMAIL")
@json_option
@pass_app()
def start_due_command(app: App, actor: str, as_json: bool) -> None:
    started = agreement_service.start_due(app, actor_email=actor, forbund=app.settings.forbund)
    emit(
        as_json,
        started,
        lambda: click.echo(
            f"Startade: {', '.join(started)}" if started else "Inga insatser att starta"
        ),
    )


@click.group("payments", help="Utbetalningar; väntar tills föregående rapport är godkänd.")
def payments() -> None:
    pass


def _print_payments(views: list[PaymentView]) -> None:
    print_table(
        ["Nr", "Dnr", "År", "Belopp (tkr)", "Begärd", "Status", "Utbetald", "Väntar på"],
        [
            [
                p.id,
                p.ref,
                p.year,
                p.amount_tkr,
                p.requested_on,
                status_label("payment", p.status),
                p.paid_on,
                p.waits_for,
            ]
            for p in views
        ],
        empty="(inga utbetalningar)",
    )


@payments.command("request", help="Begär en utbetalning av beviljade medel.")
@click.argument("ref", metavar="DNR")
@click.option("--year", required=True)
@click.option("--amount", required=True, help="Belopp i tkr.")
@click.option("--as", "actor", required=True, metavar="EMAIL")
@json_option
@pass_app()
def request_command(app: App, ref: str, year: str, amount: str, actor: str, as_json: bool) -> None:
    view = payment_service.request(
        app, ref=ref, year=year, amount=amount, actor_email=actor, forbund=app.settings.forbund
    )

    def human() -> None:
        if view.status == "utbetald":
            click.echo(f"{view.ref}: {view.amount_tkr} tkr för {view.year} utbetalt {view.paid_on}")
        else:
            click.echo(
                f"{view.ref}: {view.amount_tkr} tkr hålls inne tills {view.waits_for} är godkänd"
            )

    emit(as_json, view.to_json(), human)


@payments.command("list", help="Lista en insats utbetalningar.")
@click.argument("ref", metavar="DNR")
@json_option
@pass_app()
def list_command(app: App, ref: str, as_json: bool) -> None:
    views = payment_service.list_payments(app, ref=ref, forbund=app.settings.forbund)
    emit(as_json, [v.to_json() for v in views], lambda: _print_payments(views))
