"""`finsam closure ...`: the end of an insats, from the board's decision to its follow-up."""

from __future__ import annotations

from datetime import date

import click

from workflow.app import App
from workflow.cli.context import pass_app
from workflow.cli.output import date_option, emit, json_option
from workflow.cli.paged import emit_pages, page_options
from workflow.services.board import closing
from workflow.services.funding import closure as closure_service


@click.group("closure", help="Avslut: slutrapporten till handlingarna, utfall, uppföljningsfrågor.")
def closure() -> None:
    pass


def _print_closure(view: closure_service.ClosureView) -> None:
    click.echo(
        f"{view.ref}: {view.state_label}; beslut {view.decision_paragraph or '–'}, "
        f"avslut {view.closing_paragraph or '–'}"
    )
    for q in view.follow_up:
        click.echo(f"Uppföljningsfråga {q['due_on']}: {q['question']}")


@closure.command(
    "propose",
    help="Ta upp avslutet på ett styrelsemötes dagordning: slutrapporten till handlingarna "
    "(implementerad, ej_implementerad) eller insatsen avbryts (avbruten).",
)
@click.argument("ref", metavar="DNR")
@click.option("--meeting", required=True, metavar="MÖTE", help="Styrelsens möte.")
@click.option("--outcome", required=True, type=click.Choice(list(closure_service.OUTCOMES)))
@click.option("--reason", help="Skälet (krävs för avbruten).")
@click.option("--proposal", help="Eget förslag till beslut ('Styrelsen beslutar att ...').")
@click.option("--as", "actor", required=True, metavar="EMAIL")
@json_option
@pass_app()
def propose_command(
    app: App,
    ref: str,
    meeting: str,
    outcome: str,
    reason: str | None,
    proposal: str | None,
    actor: str,
    as_json: bool,
) -> None:
    view = closing.propose(
        app,
        ref=ref,
        meeting=meeting,
        outcome=outcome,
        reason=reason,
        proposal=proposal,
        actor_email=actor,
        forbund=app.settings.forbund,
    )
    number = f" som § {view.paragraph}" if view.paragraph else ""
    emit(
        as_json,
        view.to_json(),
        lambda: click.echo(
            f"{view.ref}: '{view.title}' står på dagordningen för möte {view.meeting_id} "
            f"({view.meeting}){number}; beslutas med 'finsam meetings follow {view.meeting_id}' "
            "eller 'decide'"
        ),
    )


@closure.command("show", help="Visa hur en insats avslutades: beslut, avslut, uppföljning.")
@click.argument("ref", metavar="DNR")
@json_option
@pass_app()
def show_command(app: App, ref: str, as_json: bool) -> None:
    view = closure_service.get(app, ref=ref, forbund=app.settings.forbund)
    emit(as_json, view.to_json(), lambda: _print_closure(view))


@closure.command(
    "followups", help="Öppna uppföljningsfrågor efter implementerade insatser, en sida i taget."
)
@date_option("--due-by", help="Bara de som förfaller senast denna dag.")
@page_options
@json_option
@pass_app()
def followups_command(
    app: App, due_by: date | None, limit: int, after: str | None, all_pages: bool, as_json: bool
) -> None:
    forbund = app.settings.forbund
    emit_pages(
        as_json=as_json,
        fetch=lambda start, size: closure_service.follow_ups(
            app, due_by=due_by, forbund=forbund, after=start, limit=size
        ),
        after=after,
        limit=limit,
        all_pages=all_pages,
        to_json=lambda r: r,
        headers=["Nr", "Dnr", "Insats", "Månader", "Senast", "Fråga"],
        row=lambda r: [
            r["id"],
            r["ref"],
            r["title"],
            r["months_after"],
            r["due_on"],
            r["question"],
        ],
        empty="(inga uppföljningsfrågor)",
        more="Fler uppföljningsfrågor",
    )
