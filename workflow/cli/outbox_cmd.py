"""`finsam outbox ...`, `finsam mail test`, `finsam scheduler` and `finsam health`."""

from __future__ import annotations

import dataclasses
import logging

import click

from workflow.app import App
from workflow.cli.context import pass_app
from workflow.cli.output import emit, json_option, print_pairs, print_table
from workflow.cli.paged import emit_pages, page_options
from workflow.clock import show
from workflow.errors import BadInput, Unavailable
from workflow.services.reminders import health, mailer, outbox, outbox_admin
from workflow.vocabulary import STATUS_LABELS as VOCABULARY_STATUS
from workflow.vocabulary import status_label

STATUS_LABELS = VOCABULARY_STATUS["reminder"]


@click.group("outbox", help="Utkorgen: e-post som väntar, har skickats eller misslyckats.")
def outbox_group() -> None:
    pass


@outbox_group.command("list", help="Lista meddelanden i utkorgen, äldst först, en sida i taget.")
@click.option("--failed", is_flag=True, help="Bara misslyckade (visas för förbundschefen).")
@click.option(
    "--status", type=click.Choice(list(outbox.OUTBOX_STATUSES)), help="Bara denna status."
)
@page_options
@json_option
@pass_app(notifications="read")
def outbox_list(
    app: App,
    failed: bool,
    status: str | None,
    limit: int,
    after: str | None,
    all_pages: bool,
    as_json: bool,
) -> None:
    wanted = "failed" if failed else status
    forbund = app.settings.forbund
    no_relay = not app.settings.mail.smtp_host
    pending_seen: list[bool] = []

    def note(items: list[outbox.MessageView]) -> None:
        pending_seen.append(any(v.status == "pending" for v in items))

    if not as_json:
        relay = health.relay_status(app)
        if relay.status == "down":
            click.echo(_relay_line(relay))
    emit_pages(
        as_json=as_json,
        fetch=lambda start, size: outbox.list_messages(
            app, forbund=forbund, status=wanted, after=start, limit=size
        ),
        after=after,
        limit=limit,
        all_pages=all_pages,
        to_json=dataclasses.asdict,
        headers=["Nr", "Till", "Ämne", "Status", "Försök", "Nästa försök", "Skickad", "Fel"],
        row=lambda v: [
            v.id,
            v.to,
            v.subject,
            STATUS_LABELS.get(v.status, v.status),
            v.attempts,
            v.next_attempt_at,
            v.sent_at,
            v.last_error,
        ],
        empty="(utkorgen är tom)",
        more="Fler meddelanden",
        seen=note,
    )
    if not as_json and no_relay and any(pending_seen):
        click.echo("Ingen SMTP-server är inställd ([mail] smtp_host): meddelandena väntar här.")


def _relay_line(relay: health.RelayStatus) -> str:
    since = f" sedan {relay.since:%Y-%m-%d %H:%M}" if relay.since else ""
    probe = f"; nästa försök {relay.next_probe_at:%H:%M}" if relay.next_probe_at else ""
    return (
        f"SMTP-servern är nere{since}: {relay.cause_text} ({relay.detail}); "
        f"{relay.waiting} meddelanden väntar{probe}"
    )


@outbox_group.command(
    "show", help="Visa ett meddelande så som det skickas: mottagare, text, försök."
)
@click.argument("number", type=int, metavar="NR")
@json_option
@pass_app(notifications="read")
def outbox_show(app: App, number: int, as_json: bool) -> None:
    detail = outbox_admin.show_message(app, message_id=number, forbund=app.settings.forbund)

    def human() -> None:
        for name, value in detail.headers:
            click.echo(f"{name}: {value}")
        click.echo("")
        click.echo(detail.text.rstrip("\n"))
        click.echo("")
        outcome = STATUS_LABELS.get(detail.status, detail.status)
        if detail.sent_at:
            outcome += f" {detail.sent_at:%Y-%m-%d %H:%M}"
        if detail.status == "pending" and detail.next_attempt_at:
            outcome += f", nästa försök {detail.next_attempt_at:%Y-%m-%d %H:%M}"
        pairs: list[tuple[str, object]] = [
            ("Nr", detail.id),
            ("Slag", detail.kind),
            ("Skriven", detail.created_at),
            ("Försök", detail.attempts),
            ("Utfall", outcome),
        ]
        if detail.failure_text:
            pairs.append(("Orsak", f"{detail.failure_text} ({detail.failure_cause})"))
        if detail.last_error:
            pairs.append(("Senaste svar", detail.last_error))
        print_pairs(pairs)

    emit(as_json, dataclasses.asdict(detail), human)


@outbox_group.command(
    "retry", help="Skicka ett misslyckat meddelande igen, eller alla misslyckade av en orsak."
)
@click.argument("number", type=int, metavar="[NR]", required=False)
@click.option(
    "--cause",
    type=click.Choice(list(outbox.FAILURE_CAUSES)),
    help="Alla misslyckade meddelanden med denna orsak.",
)
@click.option("--as", "actor", required=True, metavar="EMAIL", help="Vem som begär det.")
@json_option
@pass_app(notifications="check")
def outbox_retry(
    app: App, number: int | None, cause: str | None, actor: str, as_json: bool
) -> None:
    if (number is None) == (cause is None):
        raise BadInput(
            "ange ett meddelandenummer eller --cause, inte båda; se 'finsam outbox retry --help'"
        )
    result = outbox_admin.retry(
        app, actor_email=actor, message_id=number, cause=cause, forbund=app.settings.forbund
    )
    emit(
        as_json,
        dataclasses.asdict(result),
        lambda: click.echo(
            f"{len(result.ids)} meddelanden läggs i kön igen (samma Message-ID): "
            + (", ".join(str(i) for i in result.ids) or "inga misslyckade med den orsaken")
        ),
    )


@click.command("health", help="Driftläget: SMTP-servern, schemaläggarna och incidenter.")
@json_option
@pass_app(notifications="read")
def health_command(app: App, as_json: bool) -> None:
    relay = health.relay_status(app)
    schedulers = health.scheduler_status(app)
    found = health.incidents(app, forbund=app.settings.forbund)
    planned = health.whole_plan(app, forbund=app.settings.forbund)
    data = {
        "relay": dataclasses.asdict(relay),
        "schedulers": [dataclasses.asdict(s) for s in schedulers],
        "incidents": [dataclasses.asdict(i) for i in found],
        "whole_plan": dataclasses.asdict(planned),
    }

    def human() -> None:
        if relay.status == "down":
            click.echo(_relay_line(relay))
        elif relay.status == "not_configured":
            click.echo(f"Ingen SMTP-server är inställd; {relay.waiting} meddelanden väntar.")
        else:
            click.echo(f"SMTP-servern svarar; {relay.waiting} meddelanden väntar.")
        click.echo("")
        print_table(
            ["Schemaläggare", "Slag", "Läge", "Startad", "Senaste svep", "Senaste utskick", "Fel"],
            [
                [
                    s.name,
                    s.kind,
                    SCHEDULER_LABELS[s.state],
                    s.started_at,
                    s.swept_at,
                    s.delivered_at,
                    s.last_error,
                ]
                for s in schedulers
            ],
            empty="(ingen schemaläggare har kört)",
        )
        click.echo("")
        click.echo(_whole_plan_line(planned))
        click.echo("")
        if not found:
            click.echo("Inga incidenter.")
        for incident in found:
            click.echo(f"Incident: {incident.text}")

    emit(as_json, data, human)


SCHEDULER_LABELS = {"running": "kör", "stale": "SVARAR INTE", "stopped": "stoppad"}


@click.group("mail", help="E-postinställningar.")
def mail_group() -> None:
    pass


@mail_group.command("test", help="Skicka ett testmeddelande direkt till SMTP-servern.")
@click.option(
    "--to", "to_address", required=True, metavar="ADRESS", help="Mottagarens e-postadress."
)
@json_option
@pass_app(schema=False, notifications="check")
def mail_test(app: App, to_address: str, as_json: bool) -> None:
    outcome = mailer.send_test(app.settings.mail, to_address, show(app.clock(), app.settings.zone))
    data = {"to": to_address, "result": outcome.result, "detail": outcome.detail}
    emit(
        as_json,
        data,
        lambda: print_pairs(
            [
                ("Till", to_address),
                ("Resultat", status_label("delivery", outcome.result)),
                ("Svar", outcome.detail),
            ]
        ),
    )
    if outcome.result in ("relay_down", "deferred", "unknown"):
        raise Unavailable(f"SMTP-servern tog inte emot testmeddelandet: {outcome.detail}")
    if outcome.result != "delivered":
        raise BadInput(f"testmeddelandet nekades: {outcome.detail}; kontrollera adressen")


@click.command("scheduler", help="Kör klockan och utskicket (avsluta med SIGTERM eller Ctrl-C).")
@click.option("--once", is_flag=True, help="Ett svep och en utskicksrunda, sedan avsluta.")
@json_option
@pass_app(notifications="check")
def scheduler_command(app: App, once: bool, as_json: bool) -> None:
    from workflow.scheduler import run_forever, run_once

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    # APScheduler's own lines (job added, run, skipped while the previous tick runs) are noise.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    totals = run_once(app) if once else run_forever(app)
    emit(
        as_json,
        dataclasses.asdict(totals),
        lambda: click.echo(
            f"{totals.claimed} påminnelser till utkorgen, {totals.sent} skickade, "
            f"{totals.retried} försöks igen, {totals.failed} misslyckade"
            + (
                " (SMTP-servern nås inte eller är inte inställd; meddelandena väntar)"
                if totals.waiting
                else ""
            )
        ),
    )


def register(group: click.Group) -> None:
    group.add_command(outbox_group)
    group.add_command(mail_group)
    group.add_command(scheduler_command)
    group.add_command(health_command)


def _whole_plan_line(planned: health.WholePlan) -> str:
    if planned.started_at is None:
        return (
            "Påminnelserna har inte planerats för hela förbundet ännu (dagens första svep gör det)."
        )
    started = f"{planned.started_at:%Y-%m-%d %H:%M}"
    if planned.finished_at is None:
        return f"Planeringen av hela förbundets påminnelser startade {started} och är inte klar."
    return (
        f"Hela förbundets påminnelser planerades senast {started} "
        f"(klart {planned.finished_at:%H:%M}); varje svep planerar däremellan det som ska ut."
    )
