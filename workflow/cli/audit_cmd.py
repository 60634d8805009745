"""`finsam audit verify`: recompute every förbund's hash chain."""

from __future__ import annotations

import click

from workflow.app import App
from workflow.cli.context import pass_app
from workflow.cli.output import emit, json_option
from workflow.errors import ExitCode
from workflow.services.cases import audit as audit_service


@click.group("audit", help="Granskningsloggen (hashkedja per förbund).")
def audit() -> None:
    pass


@audit.command("verify", help="Kontrollera att ingen händelse har ändrats eller tagits bort.")
@json_option
@pass_app()
def verify_command(app: App, as_json: bool) -> None:
    reports = audit_service.verify_all(app)

    def human() -> None:
        for report in reports:
            if report.ok:
                click.echo(f"{report.forbund}: kedjan är hel ({report.events} händelser)")
            else:
                click.echo(
                    f"{report.forbund}: kedjan är bruten vid händelse {report.broken_at}: {report.problem}"
                )

    emit(as_json, [{**r.__dict__, "ok": r.ok} for r in reports], human)
    if not all(r.ok for r in reports):
        broken = next(r for r in reports if not r.ok)
        click.echo(
            f"fel: granskningsloggen för {broken.forbund} är bruten vid händelse {broken.broken_at}",
            err=True,
        )
        click.get_current_context().exit(ExitCode.CHAIN_BROKEN)
