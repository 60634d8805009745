"""Entry point of `finsam`.

Exit codes: one table, in workflow/errors.py and README.md ("Exit codes"); each error carries
its own. Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from sqlalchemy.exc import DBAPIError

from workflow.channel import acting_through
from workflow.cli import (
    agreements_cmd,
    audit_cmd,
    backup_cmd,
    budget_cmd,
    cases_cmd,
    forbund_cmd,
    lifecycle_cmd,
    meetings_cmd,
    people_cmd,
    policies_cmd,
    reminders_cmd,
    reports_cmd,
    setup_cmd,
    tokens_cmd,
    web_cmd,
)
from workflow.errors import ExitCode, FinsamError


@click.group(
    name="finsam",
    help="finsam-workflow: ärendehantering för samordningsförbund (FINSAM).",
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option("--db", help="Databas-URL (SQLAlchemy); annars FINSAM_DATABASE_URL eller config.")
@click.option(
    "--config",
    type=click.Path(path_type=Path),
    help="Egen mapp med states/, config/ och notifications/ (FINSAM_CONFIG_DIR).",
)
@click.option("--forbund", help="Förbundets kortnamn när databasen har flera (FINSAM_FORBUND).")
@click.pass_context
def cli(ctx: click.Context, db: str | None, config: Path | None, forbund: str | None) -> None:
    # The App is built lazily (workflow.cli.context) so that --help needs no database.
    ctx.obj = {"overrides": {"database_url": db, "config_dir": config, "forbund": forbund}}


setup_cmd.register(cli)
forbund_cmd.register(cli)
cli.add_command(cases_cmd.cases)
cli.add_command(lifecycle_cmd.lifecycle)
cli.add_command(audit_cmd.audit)
cli.add_command(people_cmd.people)
people_cmd.people.add_command(tokens_cmd.token)
cli.add_command(meetings_cmd.meetings_group)
cli.add_command(budget_cmd.budget_group)
cli.add_command(agreements_cmd.agreements)
cli.add_command(agreements_cmd.payments)
cli.add_command(reports_cmd.reports)
cli.add_command(reports_cmd.uppfoljning)
cli.add_command(reports_cmd.closure)
reminders_cmd.register(cli)
policies_cmd.register(cli)
backup_cmd.register(cli)
web_cmd.register(cli)


def run(argv: list[str] | None = None) -> int:
    try:
        with acting_through("cli"):
            result = cli.main(args=argv, prog_name="finsam", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except FinsamError as error:
        click.echo(f"fel: {error}", err=True)
        return error.exit_code
    except click.exceptions.NoArgsIsHelpError as error:
        click.echo(error.ctx.get_help() if error.ctx else str(error))
        return ExitCode.OK
    except click.UsageError as error:
        hint = f"; se '{error.ctx.command_path} --help'" if error.ctx else ""
        click.echo(f"fel: {error.format_message()}{hint}", err=True)
        return ExitCode.BAD_INPUT
    except click.ClickException as error:
        click.echo(f"fel: {error.format_message()}", err=True)
        return ExitCode.BAD_INPUT
    except click.Abort:
        click.echo("avbrutet", err=True)
        return ExitCode.INTERRUPTED
    except DBAPIError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        click.echo(f"fel: databasen svarar inte som väntat: {reason}; kontrollera --db", err=True)
        return ExitCode.BAD_INPUT


def entry() -> None:
    sys.exit(run())
