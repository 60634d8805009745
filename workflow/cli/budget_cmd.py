"""`finsam budget ...`: the yearly frame, its cost lines, grants, outcome and the report."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from workflow.app import App
from workflow.cli.context import pass_app
from workflow.cli.output import date_option, emit, json_option, print_pairs, print_table
from workflow.errors import BadInput
from workflow.services.funding import budget, budget_report
from workflow.services.funding.budget import YearFigures


def parse_year_amounts(pairs: tuple[str, ...], option: str = "--amount") -> dict[str, str]:
    amounts: dict[str, str] = {}
    for pair in pairs:
        year, sep, amount = pair.partition("=")
        if not sep:
            raise BadInput(f"{option} {pair!r}: skriv ÅR=TKR, t.ex. {option} 2014=750")
        amounts[year.strip()] = amount.strip()
    return amounts


@click.group("budget", help="Förbundets budget: ram per år, beviljade medel, utfall och rapport.")
def budget_group() -> None:
    pass


def _print_figures(fig: YearFigures) -> None:
    print_pairs(
        [
            ("År", fig.year),
            ("Finansiell ram", f"{fig.frame_tkr} tkr"),
            ("Överskott från föregående år", f"{fig.surplus_in_tkr} tkr"),
            ("Kostnader", f"{fig.costs_tkr} tkr"),
            ("Över-/underskott", f"{fig.result_tkr:+d} tkr"),
            ("Kvar för nya insatser", f"{fig.room_for_new_tkr} tkr"),
        ]
    )
    for warning in fig.warnings:
        click.echo(f"VARNING: {warning}")


@budget_group.command(
    "frame", help="Lägg in eller ändra årets finansiella ram (bidrag enligt FINSAM-fördelningen)."
)
@click.option("--year", required=True, help="Budgetår.")
@click.option("--total", required=True, help="Medelstilldelning från parterna i tkr.")
@click.option("--surplus", help="Överskott från föregående år i tkr (annars förra årets resultat).")
@date_option("--adopted", help="Dag då styrelsen fastställde budgeten (annars i dag).")
@click.option("--paragraph", help="Beslutets paragraf, t.ex. '§ 44'.")
@click.option("--as", "actor", required=True, metavar="EMAIL")
@json_option
@pass_app()
def frame_command(
    app: App,
    year: str,
    total: str,
    surplus: str | None,
    adopted: date | None,
    paragraph: str | None,
    actor: str,
    as_json: bool,
) -> None:
    fig = budget.set_frame(
        app,
        year=year,
        total=total,
        surplus_in=surplus,
        adopted_on=adopted,
        paragraph=paragraph,
        actor_email=actor,
        forbund=app.settings.forbund,
    )
    emit(as_json, fig.to_json(), lambda: _print_figures(fig))


@budget_group.command(
    "item", help="Lägg till eller ändra en post i ramen (inte en beviljad insats)."
)
@click.option("--year", required=True)
@click.option(
    "--section",
    required=True,
    type=click.Choice(list(budget.SECTIONS)),
    help="insatser (övriga insatser), reserv (utrymme för nya insatser), utvardering, administration.",
)
@click.option("--label", required=True, help="Postens namn, t.ex. 'motiverande insatser'.")
@click.option("--amount", required=True, help="Belopp i tkr.")
@click.option("--group", default="", help="Rubrik inom administrationen, t.ex. 'Styrelsen'.")
@click.option(
    "--inriktning", type=click.Choice(["individ", "struktur"]), help="För fördelningen 80/20."
)
@click.option("--as", "actor", required=True, metavar="EMAIL")
@json_option
@pass_app()
def item_command(
    app: App,
    year: str,
    section: str,
    label: str,
    amount: str,
    group: str,
    inriktning: str | None,
    actor: str,
    as_json: bool,
) -> None:
    fig = budget.set_item(
        app,
        year=year,
        section=section,
        label=label,
        amount=amount,
        group=group,
        inriktning=inriktning,
        actor_email=actor,
        forbund=app.settings.forbund,
    )
    emit(as_json, fig.to_json(), lambda: _print_figures(fig))


@budget_group.command("grant", help="Registrera beviljade medel per år efter styrelsens bifall.")
@click.argument("ref", metavar="DNR")
@click.option(
    "--amount", "amounts", multiple=True, metavar="ÅR=TKR", help="Annars det sökta beloppet."
)
@click.option("--paragraph", help="Beslutets paragraf (annars ärendets).")
@date_option("--decided", help="Beslutsdag (annars i dag).")
@click.option(
    "--over-frame", is_flag=True, help="Bevilja trots att ramen överskrids (varningen sparas)."
)
@click.option("--as", "actor", required=True, metavar="EMAIL")
@json_option
@pass_app()
def grant_command(
    app: App,
    ref: str,
    amounts: tuple[str, ...],
    paragraph: str | None,
    decided: date | None,
    over_frame: bool,
    actor: str,
    as_json: bool,
) -> None:
    result = budget.grant(
        app,
        ref=ref,
        amounts=parse_year_amounts(amounts) or None,
        paragraph=paragraph,
        decided_on=decided,
        over_frame=over_frame,
        actor_email=actor,
        forbund=app.settings.forbund,
    )

    def human() -> None:
        years = ", ".join(f"{y}: {t} tkr" for y, t in result.amounts.items())
        click.echo(f"{result.ref}: beviljat {years} ({result.decision_paragraph})")
        for year, room in result.room_after.items():
            click.echo(f"Kvar för nya insatser {year}: {room} tkr")
        for warning in result.warnings:
            click.echo(f"VARNING: {warning}")

    emit(as_json, result.to_json(), human)


@budget_group.command("outcome", help="Registrera utfall och/eller prognos för en insats ett år.")
@click.argument("ref", metavar="DNR")
@click.option("--year", required=True)
@click.option("--utfall", help="Utfall i tkr.")
@click.option("--prognos", help="Prognos i tkr.")
@click.option("--as", "actor", required=True, metavar="EMAIL")
@json_option
@pass_app()
def outcome_command(
    app: App,
    ref: str,
    year: str,
    utfall: str | None,
    prognos: str | None,
    actor: str,
    as_json: bool,
) -> None:
    line = budget.set_outcome(
        app,
        ref=ref,
        year=year,
        utfall=utfall,
        prognos=prognos,
        actor_email=actor,
        forbund=app.settings.forbund,
    )
    emit(as_json, line.to_json(), lambda: _print_lines([line]))


def _print_lines(lines: list[budget.LineView]) -> None:
    print_table(
        ["Dnr", "Insats", "År", "Beviljat", "Utbetalt", "Utfall", "Prognos", "Beslut"],
        [
            [
                v.ref,
                v.title,
                v.year,
                v.granted_tkr,
                v.paid_tkr,
                v.utfall_tkr,
                v.prognos_tkr,
                v.decision_paragraph,
            ]
            for v in lines
        ],
        empty="(inga beviljade medel)",
    )


@budget_group.command(
    "lines", help="Visa en insats budgetrader: beviljat, utbetalt, utfall, prognos."
)
@click.argument("ref", metavar="DNR")
@json_option
@pass_app()
def lines_command(app: App, ref: str, as_json: bool) -> None:
    lines = budget.lines_of(app, ref=ref, forbund=app.settings.forbund)
    emit(as_json, [v.to_json() for v in lines], lambda: _print_lines(lines))


@budget_group.command("report", help="Budgetrapport i form av tabellen 'Finansiell ram'.")
@click.option("--year", "years", multiple=True, required=True, help="Ett eller flera år.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "xlsx"]), default="table")
@click.option("--out", type=click.Path(path_type=Path), help="Skriv till fil (krävs för xlsx).")
@json_option
@pass_app()
def report_command(
    app: App, years: tuple[str, ...], fmt: str, out: Path | None, as_json: bool
) -> None:
    if fmt == "xlsx" and out is None:
        raise BadInput("xlsx skrivs till en fil; ange --out budget.xlsx")
    report = budget_report.build(app, years=list(years), forbund=app.settings.forbund)
    if fmt == "xlsx":
        _write(out, budget_report.to_xlsx(report))  # type: ignore[arg-type]
    elif out is not None:
        text = (
            budget_report.to_csv(report)
            if fmt == "csv"
            else "\n".join(budget_report.table_lines(report)) + "\n"
        )
        _write(out, text.encode("utf-8-sig" if fmt == "csv" else "utf-8"))
    if as_json:
        emit(True, {**report.to_json(), "written_to": str(out) if out else None}, lambda: None)
    elif out is not None:
        click.echo(f"Budgetrapporten för {', '.join(map(str, report.years))} är skriven till {out}")
    elif fmt == "csv":
        click.echo(budget_report.to_csv(report), nl=False)
    else:
        click.echo("\n".join(budget_report.table_lines(report)))


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise BadInput(
            f"kan inte skriva {path}: {exc.strerror}; ange en annan fil med --out"
        ) from None
