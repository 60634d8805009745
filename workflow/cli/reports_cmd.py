"""`finsam reports ...` and `finsam uppfoljning ...`.

`finsam closure ...` is in closure_cmd.py: it reads the board's meetings and paragraphs, which
listing reports and exporting the Uppföljning do not."""

from __future__ import annotations

import io
import sys
from datetime import date
from pathlib import Path
from typing import TextIO

import click

from workflow.app import App
from workflow.cli.context import pass_app
from workflow.cli.output import date_option, emit, json_option
from workflow.cli.paged import emit_pages, page_options
from workflow.errors import BadInput
from workflow.services.funding import reports as report_service
from workflow.services.funding import uppfoljning as uppfoljning_service
from workflow.services.funding.reports import ReportView


@click.group("reports", help="Rapporter: lämna in, godkänn, begär komplettering, försenade.")
def reports() -> None:
    pass


def _one(view: ReportView, what: str) -> None:
    click.echo(f"{view.ref}: {view.kind_label} (nr {view.id}, senast {view.due_on}) {what}")


_REPORT_HEADERS = ["Nr", "Dnr", "Insats", "Rapport", "Senast", "Status", "Inkommen", "Dagar sen"]


def _report_row(v: ReportView) -> list[object]:
    return [
        v.id,
        v.ref,
        v.title,
        v.kind_label,
        v.due_on,
        v.status_label,
        v.submitted_on,
        v.days_overdue,
    ]


@reports.command("list", help="Lista rapporter, för en insats eller hela förbundet.")
@click.argument("ref", metavar="[DNR]", required=False)
@click.option("--status", help="vantar, inkommen, komplettering, godkand eller ersatt.")
@page_options
@json_option
@pass_app()
def list_command(
    app: App,
    ref: str | None,
    status: str | None,
    limit: int,
    after: str | None,
    all_pages: bool,
    as_json: bool,
) -> None:
    forbund = app.settings.forbund
    emit_pages(
        as_json=as_json,
        fetch=lambda start, size: report_service.reports_page(
            app, ref=ref, status=status, forbund=forbund, after=start, limit=size
        ),
        after=after,
        limit=limit,
        all_pages=all_pages,
        to_json=ReportView.to_json,
        headers=_REPORT_HEADERS,
        row=_report_row,
        empty="(inga rapporter)",
        more="Fler rapporter",
    )


@reports.command("overdue", help="Rapporter som skulle ha kommit in men inte gjort det.")
@page_options
@json_option
@pass_app()
def overdue_command(
    app: App, limit: int, after: str | None, all_pages: bool, as_json: bool
) -> None:
    forbund = app.settings.forbund
    emit_pages(
        as_json=as_json,
        fetch=lambda start, size: report_service.overdue_page(
            app, forbund=forbund, after=start, limit=size
        ),
        after=after,
        limit=limit,
        all_pages=all_pages,
        to_json=ReportView.to_json,
        headers=_REPORT_HEADERS,
        row=_report_row,
        empty="(inga försenade rapporter)",
        more="Fler rapporter",
    )


@reports.command("submit", help="Lämna in en rapport (annars den tidigaste som väntar).")
@click.argument("ref", metavar="DNR")
@click.option("--report", "report_id", type=int, help="Rapportens nummer (se 'reports list').")
@click.option("--progress", required=True, help="Läget mot målen.")
@click.option("--utfall", help="Utfall i tkr.")
@click.option("--deviations", help="Avvikelser från plan och budget.")
@click.option("--women", help="Antal deltagare, kvinnor (bara antal).")
@click.option("--men", help="Antal deltagare, män (bara antal).")
@click.option("--other", help="Antal deltagare, övriga (bara antal).")
@click.option("--as", "actor", required=True, metavar="EMAIL")
@json_option
@pass_app()
def submit_command(
    app: App,
    ref: str,
    report_id: int | None,
    progress: str,
    utfall: str | None,
    deviations: str | None,
    women: str | None,
    men: str | None,
    other: str | None,
    actor: str,
    as_json: bool,
) -> None:
    view = report_service.submit(
        app,
        ref=ref,
        report_id=report_id,
        progress=progress,
        utfall=utfall,
        deviations=deviations,
        women=women,
        men=men,
        other=other,
        actor_email=actor,
        forbund=app.settings.forbund,
    )
    emit(as_json, view.to_json(), lambda: _one(view, "är inkommen"))


@reports.command("approve", help="Förbundschefen godkänner en inkommen rapport.")
@click.argument("ref", metavar="DNR")
@click.option("--report", "report_id", type=int)
@click.option("--comment")
@click.option("--as", "actor", required=True, metavar="EMAIL")
@json_option
@pass_app()
def approve_command(
    app: App, ref: str, report_id: int | None, comment: str | None, actor: str, as_json: bool
) -> None:
    view = report_service.approve(
        app,
        ref=ref,
        report_id=report_id,
        comment=comment,
        actor_email=actor,
        forbund=app.settings.forbund,
    )

    def human() -> None:
        _one(view, "är godkänd")
        if view.released_payments:
            click.echo(
                f"Utbetalningar som väntade är nu utbetalda: {', '.join(map(str, view.released_payments))}"
            )
        if view.held_payments:
            click.echo(
                "Utbetalningar som fortsatt väntar på en tidigare förfallen rapport: "
                + ", ".join(map(str, view.held_payments))
            )

    emit(as_json, view.to_json(), human)


@reports.command("complete", help="Förbundschefen begär komplettering av en inkommen rapport.")
@click.argument("ref", metavar="DNR")
@click.option("--report", "report_id", type=int)
@click.option("--comment", required=True, help="Vad som ska kompletteras.")
@click.option("--as", "actor", required=True, metavar="EMAIL")
@json_option
@pass_app()
def complete_command(
    app: App, ref: str, report_id: int | None, comment: str, actor: str, as_json: bool
) -> None:
    view = report_service.ask_completion(
        app,
        ref=ref,
        report_id=report_id,
        comment=comment,
        actor_email=actor,
        forbund=app.settings.forbund,
    )
    emit(as_json, view.to_json(), lambda: _one(view, "ska kompletteras"))


@click.group("uppfoljning", help="Uppföljning Finsam: referens, registreringsdatum och CSV-export.")
def uppfoljning() -> None:
    pass


@uppfoljning.command(
    "register", help="Spara referens och senaste registrering i Uppföljning Finsam."
)
@click.argument("ref", metavar="DNR")
@click.option("--external-ref", help="Insatsens id i Uppföljning Finsam.")
@date_option("--registered", help="Senaste registrering (budget/utfall, deltagare).")
@click.option("--preciserad-inriktning")
@click.option("--method", "uppfoljningsmetod", help="Uppföljningsmetod.")
@click.option("--esf/--no-esf", default=None, help="ESF-finansierad.")
@click.option("--as", "actor", required=True, metavar="EMAIL")
@json_option
@pass_app()
def register_command(
    app: App,
    ref: str,
    external_ref: str | None,
    registered: date | None,
    preciserad_inriktning: str | None,
    uppfoljningsmetod: str | None,
    esf: bool | None,
    actor: str,
    as_json: bool,
) -> None:
    view = uppfoljning_service.register(
        app,
        ref=ref,
        external_ref=external_ref,
        registered_on=registered,
        preciserad_inriktning=preciserad_inriktning,
        uppfoljningsmetod=uppfoljningsmetod,
        esf=esf,
        actor_email=actor,
        forbund=app.settings.forbund,
    )
    emit(
        as_json,
        view.to_json(),
        lambda: click.echo(
            f"{view.ref}: {view.external_ref or '(ingen referens)'}, senast registrerad {view.last_registered_on or '-'}"
        ),
    )


@uppfoljning.command("export", help="CSV med fälten Uppföljning Finsam frågar efter.")
@click.option("--year", help="Bara detta år.")
@click.option("--out", type=click.Path(path_type=Path), help="Skriv till fil.")
@json_option
@pass_app()
def export_command(app: App, year: str | None, out: Path | None, as_json: bool) -> None:
    forbund = app.settings.forbund
    if out is not None:
        target = _LazyFile(out)
        try:
            rows = uppfoljning_service.write_csv(app, target, year=year, forbund=forbund)
        except OSError as exc:
            raise BadInput(
                f"kan inte skriva {out}: {exc.strerror}; ange en annan fil med --out"
            ) from None
        finally:
            target.close()
        if as_json:
            emit(True, {"rows": rows, "written_to": str(out), "csv": None}, lambda: None)
        else:
            click.echo(f"{rows} rader skrivna till {out}")
    elif as_json:
        text = io.StringIO()
        rows = uppfoljning_service.write_csv(app, text, year=year, forbund=forbund)
        emit(True, {"rows": rows, "written_to": None, "csv": text.getvalue()}, lambda: None)
    else:
        # Streamed to stdout a batch at a time: the memory of a batch, whatever the rows.
        uppfoljning_service.write_csv(app, _Echo(), year=year, forbund=forbund)


class _Echo:
    """stdout as a file the CSV writer writes to. Straight to the stream: click.echo would
    look for terminal colour codes to strip in every batch of data when stdout is not a
    terminal (a regular-expression pass over all 37 MB of the export at 100 000 cases)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)


class _LazyFile:
    """A file opened at its first write (UTF-8 with BOM, as Excel reads CSV), so that an
    export refused before its first row leaves no empty file behind."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file: TextIO | None = None

    def write(self, text: str) -> int:
        if self.file is None:
            self.file = self.path.open("w", encoding="utf-8-sig", newline="")
        return self.file.write(text)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
