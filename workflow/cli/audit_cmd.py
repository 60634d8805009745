"""`finsam audit verify`: recompute every förbund's hash chain (and compare with a witness)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from workflow.app import App
from workflow.cli.context import pass_app
from workflow.cli.output import emit, json_option
from workflow.errors import ExitCode
from workflow.services.archive import witness as witness_service
from workflow.services.cases import audit as audit_service


@click.group("audit", help="Granskningsloggen (hashkedja per förbund).")
def audit() -> None:
    pass


def _progress_line(forbund: str, done: int, total: int) -> None:
    """How far the check has come, rewritten in place on a terminal (never in a pipe or log)."""
    share = f" ({100 * done // total} %)" if total else ""
    click.echo(
        f"\r\033[Kkontrollerar {forbund}: {done:,} av {total:,} händelser{share}".replace(",", " "),
        nl=False,
        err=True,
    )


@audit.command("verify", help="Kontrollera att ingen händelse har ändrats eller tagits bort.")
@click.option(
    "--witness",
    type=click.Path(path_type=Path),
    metavar="FIL",
    help="Jämför också med vittnet från en säkerhetskopia (FIL.witness.json).",
)
@json_option
@pass_app()
def verify_command(app: App, witness: Path | None, as_json: bool) -> None:
    progress = _progress_line if sys.stderr.isatty() else None
    reports = audit_service.verify_all(app, progress=progress)
    if progress is not None:
        click.echo("\r\033[K", nl=False, err=True)  # the progress line goes; the result stays
    checks: list[witness_service.WitnessCheck] = []
    if witness is not None:
        document = witness_service.read(witness)
        with app.db.reading() as session:
            checks = witness_service.compare(session, document)

    def human() -> None:
        for report in reports:
            if report.ok:
                click.echo(f"{report.forbund}: kedjan är hel ({report.events} händelser)")
            else:
                click.echo(
                    f"{report.forbund}: kedjan är bruten vid händelse {report.broken_at}: {report.problem}"
                )

        for check in checks:
            if check.ok:
                click.echo(f"{check.forbund}: händelse {check.seq} stämmer med vittnet")
            else:
                click.echo(f"{check.forbund}: stämmer inte med vittnet: {check.problem}")

    data: object = [{**r.__dict__, "ok": r.ok} for r in reports]
    if witness is not None:
        data = {"chains": data, "witness": [c.__dict__ for c in checks]}
    emit(as_json, data, human)
    mismatch = next((c for c in checks if not c.ok), None)
    if mismatch is not None and all(r.ok for r in reports):
        click.echo(
            f"fel: granskningsloggen för {mismatch.forbund} stämmer inte med vittnet: {mismatch.problem}",
            err=True,
        )
        click.get_current_context().exit(ExitCode.CHAIN_BROKEN)
    if not all(r.ok for r in reports):
        broken = next(r for r in reports if not r.ok)
        click.echo(
            f"fel: granskningsloggen för {broken.forbund} är bruten vid händelse {broken.broken_at}",
            err=True,
        )
        click.get_current_context().exit(ExitCode.CHAIN_BROKEN)
