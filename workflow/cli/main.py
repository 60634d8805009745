"""Entry point of `finsam`.

Exit codes: one table, in workflow/errors.py and README.md ("Exit codes"); each error carries
its own. Errors are one line on stderr, never a traceback.

Start-up is kept small: the command groups are a table (COMMANDS) and a group's module, with
its services, models and database library, is imported only when that group runs. `--help`
and `--version` import no database library at all (tests/test_startup.py, bench/startup.py).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import click

from workflow import __version__
from workflow.channel import acting_through
from workflow.errors import ExitCode, FinsamError

# name -> (module in workflow.cli, attribute, the short help `finsam --help` shows). The short
# help is the first sentence of the command's own help; tests/test_startup.py keeps them equal.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "agreements": (
        "agreements_cmd",
        "agreements",
        "Avtal: upprätta med rapportplan, underteckna, starta insatsen.",
    ),
    "audit": ("audit_cmd", "audit", "Granskningsloggen (hashkedja per förbund)."),
    "backup": (
        "backup_cmd",
        "backup_command",
        "Säkerhetskopiera SQLite-databasen medan systemet används.",
    ),
    "budget": (
        "budget_cmd",
        "budget_group",
        "Förbundets budget: ram per år, beviljade medel, utfall och rapport.",
    ),
    "cases": (
        "cases_cmd",
        "cases",
        "Insatser: lista, visa, lämna in idéer och utför steg i livscykeln.",
    ),
    "closure": (
        "closure_cmd",
        "closure",
        "Avslut: slutrapporten till handlingarna, utfall, uppföljningsfrågor.",
    ),
    "demo": (
        "setup_cmd",
        "demo_command",
        "Läs in demodata: förbunden Ale, Kungälv, Stenungsund och Tjörn samt Norra Västmanland.",
    ),
    "forbund": (
        "forbund_cmd",
        "forbund_group",
        "Förbund: skapa, visa, läs in och skriv ut som YAML.",
    ),
    "gallring": (
        "backup_cmd",
        "gallring_group",
        "Gallring enligt dokumenthanteringsplanen (config/).",
    ),
    "health": (
        "outbox_cmd",
        "health_command",
        "Driftläget: SMTP-servern, schemaläggarna och incidenter.",
    ),
    "init": ("setup_cmd", "init", "Skapa databasen eller uppgradera dess schema."),
    "lifecycle": ("lifecycle_cmd", "lifecycle", "Livscykler som data (states/)."),
    "mail": ("outbox_cmd", "mail_group", "E-postinställningar."),
    "meetings": (
        "meetings_cmd",
        "meetings_group",
        "Beredning, möten, dagordning, beslut, justering och anslag; protokoll som HTML/PDF.",
    ),
    "organs": (
        "forbund_cmd",
        "organs_group",
        "Organ (styrelse, beredningsgrupp, LSG ...) och deras ledamöter.",
    ),
    "outbox": (
        "outbox_cmd",
        "outbox_group",
        "Utkorgen: e-post som väntar, har skickats eller misslyckats.",
    ),
    "parties": ("forbund_cmd", "parties_group", "Förbundets parter (medlemmar)."),
    "payments": (
        "agreements_cmd",
        "payments",
        "Utbetalningar; väntar tills föregående rapport är godkänd.",
    ),
    "people": ("people_cmd", "people", "Personer och roller i förbundet."),
    "policies": (
        "policies_cmd",
        "policies_group",
        "Styrdokument: förbundsordning, policy, verksamhetsplan ... och förnyelse.",
    ),
    "reminders": (
        "reminders_cmd",
        "reminders_group",
        "Påminnelser: planerade, skickade och reglerna bakom dem.",
    ),
    "reports": (
        "reports_cmd",
        "reports",
        "Rapporter: lämna in, godkänn, begär komplettering, försenade.",
    ),
    "restore": (
        "backup_cmd",
        "restore_command",
        "Återställ en säkerhetskopia till en tom databas och verifiera den.",
    ),
    "scheduler": (
        "outbox_cmd",
        "scheduler_command",
        "Kör klockan och utskicket (avsluta med SIGTERM eller Ctrl-C).",
    ),
    "serve": (
        "web_cmd",
        "serve",
        "Starta webbtjänsten (sidor och API) med uvicorn.",
    ),
    "uppfoljning": (
        "reports_cmd",
        "uppfoljning",
        "Uppföljning Finsam: referens, registreringsdatum och CSV-export.",
    ),
}


def load_command(name: str) -> click.Command:
    """The command `name` of COMMANDS, its module imported now."""
    module, attr, _help = COMMANDS[name]
    command: click.Command = getattr(importlib.import_module(f"workflow.cli.{module}"), attr)
    return command


class LazyGroup(click.Group):
    """A group whose subcommands are imported when they are called, not when listed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        if cmd_name not in COMMANDS:
            return None
        return load_command(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # The table's short help, formatted as click formats a command's own: nothing imported.
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            if name in self.commands:
                rows.append((name, self.commands[name].get_short_help_str(limit)))
            else:
                stand_in = click.Command(name, help=COMMANDS[name][2])
                rows.append((name, stand_in.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(
    name="finsam",
    cls=LazyGroup,
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
@click.version_option(__version__, "--version", prog_name="finsam", message="%(prog)s %(version)s")
@click.pass_context
def cli(ctx: click.Context, db: str | None, config: Path | None, forbund: str | None) -> None:
    # The App is built lazily (workflow.cli.context) so that --help needs no database.
    ctx.obj = {
        **(ctx.obj or {}),
        "overrides": {"database_url": db, "config_dir": config, "forbund": forbund},
    }


def _database_error(error: Exception) -> str | None:
    """The one line for an error the database driver raised, or None if it is not one.

    sqlalchemy is looked up, not imported: a command that never opened a database cannot have
    raised its errors, and `--help` stays free of it.
    """
    exc_module = sys.modules.get("sqlalchemy.exc")
    if exc_module is None or not isinstance(error, exc_module.DBAPIError):
        return None
    reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
    return f"fel: databasen svarar inte som väntat: {reason}; kontrollera --db"


def run(argv: list[str] | None = None, *, freeze: bool = False) -> int:
    """Run one command; with `freeze` (a process of its own, see `entry`) the objects of
    start-up are set aside from the garbage collector once the App is built (cli/context.py)."""
    try:
        with acting_through("cli"):
            result = cli.main(
                args=argv, prog_name="finsam", standalone_mode=False, obj={"freeze": freeze}
            )
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
    except Exception as error:
        line = _database_error(error)
        if line is None:
            raise
        click.echo(line, err=True)
        return ExitCode.BAD_INPUT


def entry() -> None:
    # Only here, where the process is this one command: tests call run() many times in one
    # process and must not keep every earlier command's objects out of the collector's reach.
    sys.exit(run(freeze=True))
