"""`finsam backup`, `finsam restore` and `finsam gallring`."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from workflow.app import App
from workflow.cli.context import pass_app
from workflow.cli.output import emit, json_option, print_table
from workflow.services.archive import backup as archive
from workflow.services.archive import gallring


@click.command("backup", help="Säkerhetskopiera SQLite-databasen medan systemet används.")
@click.option(
    "--to",
    "target",
    required=True,
    type=click.Path(path_type=Path),
    metavar="FIL",
    help="Ny fil för kopian; vittnesfilen FIL.witness.json skrivs bredvid.",
)
@json_option
@pass_app()
def backup_command(app: App, target: Path, as_json: bool) -> None:
    result = archive.backup(app, to=target)

    def human() -> None:
        click.echo(f"Säkerhetskopia: {result.path} (integritetskontroll: {result.integrity})")
        click.echo(f"Vittne: {result.witness}")
        for chain in result.chains:
            click.echo(
                f"  {chain['forbund']}: händelse {chain['seq']} {str(chain['head_hash'])[:16]}…"
            )

    emit(
        as_json,
        {**dataclasses.asdict(result), "path": str(result.path), "witness": str(result.witness)},
        human,
    )


@click.command("restore", help="Återställ en säkerhetskopia till en tom databas och verifiera den.")
@click.option(
    "--from",
    "source",
    required=True,
    type=click.Path(path_type=Path),
    metavar="FIL",
    help="Säkerhetskopian (från finsam backup).",
)
@json_option
@pass_app(schema=False)
def restore_command(app: App, source: Path, as_json: bool) -> None:
    result = archive.restore(app, source=source)

    def human() -> None:
        click.echo(f"Återställd: {result.path}")
        for report in result.reports:
            click.echo(f"{report.forbund}: kedjan är hel ({report.events} händelser)")
        if result.witness is not None:
            click.echo(f"Stämmer med vittnet {result.witness}")
        else:
            click.echo(
                "Inget vittne bredvid säkerhetskopian; kedjorna är kontrollerade, inte jämförda."
            )

    emit(
        as_json,
        {
            "path": str(result.path),
            "reports": [{**r.__dict__, "ok": r.ok} for r in result.reports],
            "witness": str(result.witness) if result.witness else None,
            "checks": [dataclasses.asdict(c) for c in result.checks],
        },
        human,
    )


@click.group("gallring", help="Gallring enligt dokumenthanteringsplanen (config/).")
def gallring_group() -> None:
    pass


@gallring_group.command("run", help="Gallra det planen tillåter; varje gallring loggas.")
@click.option("--dry-run", is_flag=True, help="Räkna bara, ta inte bort något.")
@click.option("--as", "actor", required=True, metavar="EMAIL", help="Vem som gallrar.")
@json_option
@pass_app()
def gallring_run(app: App, dry_run: bool, actor: str, as_json: bool) -> None:
    found = gallring.dispose(app, actor_email=actor, forbund=app.settings.forbund, dry_run=dry_run)

    def human() -> None:
        print_table(
            ["Slag", "Bevaras", "Gallras före", "Antal"],
            [[d.label, f"{d.keep_years} år", d.kept_since, len(d.ids)] for d in found],
            empty="(dokumenthanteringsplanen tillåter ingen gallring)",
        )
        if dry_run:
            click.echo("Provkörning: inget togs bort.")

    emit(as_json, [{**dataclasses.asdict(d), "count": len(d.ids)} for d in found], human)


def register(group: click.Group) -> None:
    group.add_command(backup_command)
    group.add_command(restore_command)
    group.add_command(gallring_group)
