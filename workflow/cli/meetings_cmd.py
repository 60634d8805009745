"""`finsam meetings ...`: beredning, meetings, agenda, decisions, justering, anslag and papers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from workflow.app import App
from workflow.case_fields import parse_date
from workflow.cli.context import pass_app
from workflow.cli.output import emit, json_option, print_pairs, print_table
from workflow.cli.paged import emit_pages, page_options
from workflow.errors import BadInput
from workflow.models.meetings import SIGNER_LABELS, SignerRole
from workflow.services.board import (
    agenda,
    anslag,
    beredning,
    corrections,
    decisions,
    justering,
    meetings,
    papers,
    protocol,
    views,
)
from workflow.services.board.decisions import DecisionInput
from workflow.services.board.views import MeetingView, presence_label

MEETING = click.argument("ref", metavar="MÖTE")
ACTOR = click.option("--as", "actor", required=True, metavar="EMAIL", help="Vem som utför steget.")


@click.group(
    "meetings",
    help="Beredning, möten, dagordning, beslut, justering och anslag; protokoll som HTML/PDF.",
)
def meetings_group() -> None:
    pass


def _time_span(view: MeetingView) -> str:
    end = f"–{view.ends_at:%H:%M}" if view.ends_at else ""
    return f"{view.starts_at:%Y-%m-%d %H:%M}{end}"


def _print_meeting(view: MeetingView) -> None:
    protocol_status = view.protocol.status_label if view.protocol else "inget protokoll"
    print_pairs(
        [
            ("Möte", view.number),
            ("Organ", view.organ),
            ("Tid", _time_span(view)),
            ("Plats", view.place),
            ("Kallelse senast", view.kallelse_due),
            ("Kallelse skickad", view.kallelse_sent_at or "nej"),
            ("Protokoll", protocol_status),
        ]
    )
    if view.protocol:
        click.echo("")
        print_table(
            ["Underskrift", "Namn", "Justerat"],
            [["sekreterare", view.protocol.secretary, ""]]
            + [
                [SIGNER_LABELS.get(SignerRole(s.role), s.role), s.name, s.signed_at]
                for s in view.protocol.signers
            ],
        )
        if view.protocol.posted_on:
            click.echo(f"Anslaget {view.protocol.posted_on}, tas ned {view.protocol.taken_down_on}")
    click.echo("")
    print_table(
        ["Närvaro", "Namn", "Funktion"],
        [[presence_label(a.presence), a.name, a.capacity] for a in view.attendance],
        empty="(ingen närvarolista)",
    )
    click.echo("")
    print_table(
        ["Nr", "§", "Ärende", "Dnr", "Rekommendation", "Beslut", "Version"],
        [
            [
                i.agenda_no,
                i.paragraph,
                i.title,
                i.dnr,
                i.recommendation_label,
                i.decision_label,
                i.version,
            ]
            for i in view.items
        ],
        empty="(ingen dagordning; bygg den med 'finsam meetings agenda')",
    )


def _emit_meeting(as_json: bool, view: MeetingView, done: str | None = None) -> None:
    def human() -> None:
        if done:
            click.echo(done)
            click.echo("")
        _print_meeting(view)

    emit(as_json, view.to_json(), human)


@meetings_group.command("list", help="Lista möten efter tid, en sida i taget.")
@click.option("--year", type=int, help="Bara detta år.")
@click.option("--organ", help="Bara detta organ (styrelse, beredningsgrupp ...).")
@page_options
@json_option
@pass_app()
def list_command(
    app: App,
    year: int | None,
    organ: str | None,
    limit: int,
    after: str | None,
    all_pages: bool,
    as_json: bool,
) -> None:
    forbund = app.settings.forbund
    emit_pages(
        as_json=as_json,
        fetch=lambda start, size: views.list_meetings(
            app, forbund=forbund, year=year, organ=organ, after=start, limit=size
        ),
        after=after,
        limit=limit,
        all_pages=all_pages,
        to_json=lambda v: v.to_json(),
        headers=["Möte", "Organ", "Tid", "Plats", "Ärenden", "Protokoll"],
        row=lambda v: [
            v.number,
            v.organ,
            _time_span(v),
            v.place,
            sum(1 for i in v.items if i.dnr),
            v.protocol.status_label if v.protocol else "",
        ],
        empty="(inga möten)",
        more="Fler möten",
    )


@meetings_group.command("create", help="Kalla till ett möte.")
@click.option("--date", "starts", required=True, help="Start, lokal tid: 'ÅÅÅÅ-MM-DD TT:MM'.")
@click.option("--end", "ends", help="Slut, lokal tid: 'ÅÅÅÅ-MM-DD TT:MM'.")
@click.option("--place", required=True, help="Mötesplats.")
@click.option("--organ", default="styrelse", show_default=True, help="Organets typ.")
@click.option("--organ-name", help="Organets namn, om förbundet har flera av samma typ.")
@click.option("--kind", default="ordinarie", show_default=True, help="ordinarie eller extra.")
@ACTOR
@json_option
@pass_app()
def create_command(
    app: App,
    starts: str,
    ends: str | None,
    place: str,
    organ: str,
    organ_name: str | None,
    kind: str,
    actor: str,
    as_json: bool,
) -> None:
    view = meetings.create_meeting(
        app,
        actor_email=actor,
        starts=starts,
        ends=ends,
        place=place,
        organ=organ,
        organ_name=organ_name,
        kind=kind,
        forbund=app.settings.forbund,
    )
    _emit_meeting(as_json, view, f"Möte {view.number} skapat: {view.title}")


@meetings_group.command("show", help="Visa ett möte: närvaro, dagordning, §§ och beslut.")
@MEETING
@json_option
@pass_app()
def show_command(app: App, ref: str, as_json: bool) -> None:
    _emit_meeting(as_json, views.get_meeting(app, ref=ref, forbund=app.settings.forbund))


@meetings_group.command("attend", help="För närvaro: frånvarande, tjänstgörande ersättare, övriga.")
@MEETING
@click.option("--absent", multiple=True, metavar="EMAIL", help="Frånvarande ledamot.")
@click.option("--present", multiple=True, metavar="EMAIL", help="Närvarande (ångrar --absent).")
@click.option("--serving", multiple=True, metavar="EMAIL", help="Ersättare som tjänstgör.")
@click.option("--other", multiple=True, metavar="'NAMN, FUNKTION'", help="Övrig närvarande.")
@ACTOR
@json_option
@pass_app()
def attend_command(
    app: App,
    ref: str,
    absent: tuple[str, ...],
    present: tuple[str, ...],
    serving: tuple[str, ...],
    other: tuple[str, ...],
    actor: str,
    as_json: bool,
) -> None:
    view = meetings.set_attendance(
        app,
        ref=ref,
        actor_email=actor,
        absent=list(absent),
        present=list(present),
        serving=list(serving),
        others=list(other),
        forbund=app.settings.forbund,
    )
    _emit_meeting(as_json, view, "Närvaron är förd.")


@meetings_group.command("notice-sent", help="Registrera att kallelsen är skickad.")
@MEETING
@ACTOR
@json_option
@pass_app()
def notice_sent_command(app: App, ref: str, actor: str, as_json: bool) -> None:
    view = meetings.record_kallelse_sent(
        app, ref=ref, actor_email=actor, forbund=app.settings.forbund
    )
    _emit_meeting(as_json, view, "Kallelsen är registrerad som skickad.")


@meetings_group.command("note", help="Beredningsgruppens anteckning på ett ärende under beredning.")
@click.argument("dnr")
@click.option("--text", required=True, help="Anteckningen.")
@click.option("--meeting", metavar="MÖTE", help="Beredningsgruppens möte.")
@ACTOR
@json_option
@pass_app()
def note_command(
    app: App, dnr: str, text: str, meeting: str | None, actor: str, as_json: bool
) -> None:
    note = beredning.add_note(
        app, ref=dnr, actor_email=actor, text=text, meeting=meeting, forbund=app.settings.forbund
    )
    emit(as_json, note, lambda: click.echo(f"{dnr}: anteckningen är sparad."))


@meetings_group.command("recommend", help="Registrera beredningsgruppens rekommendation.")
@click.argument("dnr")
@click.option(
    "--outcome",
    required=True,
    help="bevilja, bevilja_med_villkor, komplettera eller avsla.",
)
@click.option("--motivation", required=True, help="Motivering.")
@click.option("--conditions", help="Villkor (bevilja_med_villkor).")
@click.option("--missing", multiple=True, help="Det som saknas (komplettera); en gång per sak.")
@click.option("--dissent", help="Avvikande mening, när gruppen inte var enig.")
@click.option("--meeting", metavar="MÖTE", help="Beredningsgruppens möte.")
@ACTOR
@json_option
@pass_app()
def recommend_command(
    app: App,
    dnr: str,
    outcome: str,
    motivation: str,
    conditions: str | None,
    missing: tuple[str, ...],
    dissent: str | None,
    meeting: str | None,
    actor: str,
    as_json: bool,
) -> None:
    view = beredning.record_recommendation(
        app,
        ref=dnr,
        actor_email=actor,
        outcome=outcome,
        motivation=motivation,
        conditions=conditions,
        missing_items=list(missing),
        dissent=dissent,
        meeting=meeting,
        forbund=app.settings.forbund,
    )
    emit(
        as_json,
        view,
        lambda: click.echo(
            f"{view.dnr}: rekommendationen '{view.outcome_label}' är registrerad; "
            f"tillstånd nu {view.case_state}"
        ),
    )


@meetings_group.command("beredning", help="Visa ett ärendes rekommendationer och anteckningar.")
@click.argument("dnr")
@json_option
@pass_app()
def beredning_command(app: App, dnr: str, as_json: bool) -> None:
    view = beredning.get_beredning(app, ref=dnr, forbund=app.settings.forbund)

    def human() -> None:
        print_table(
            ["Tid", "Rekommendation", "Motivering", "Villkor/saknas", "Avvikande mening"],
            [
                [
                    r.recorded_at,
                    r.outcome_label,
                    r.motivation,
                    r.conditions or "; ".join(r.missing_items),
                    r.dissent,
                ]
                for r in view.recommendations
            ],
            empty="(ingen rekommendation)",
        )
        click.echo("")
        print_table(
            ["Tid", "Av", "Anteckning"],
            [[n.created_at, n.author, n.text] for n in view.notes],
            empty="(inga anteckningar)",
        )

    emit(as_json, view.to_json(), human)


@meetings_group.command(
    "agenda", help="Bygg dagordningen: standardpunkter och ärenden redo för beslut."
)
@MEETING
@click.option("--add", multiple=True, metavar="DNR", help="Lägg bara till dessa ärenden.")
@click.option("--proposal-for", metavar="DNR", help="Ärendet vars förslag till beslut skrivs om.")
@click.option("--proposal", help="Förslag till beslut ('Styrelsen beslutar att ...').")
@click.option("--matter", metavar="RUBRIK", help="Beslutsärende utan insats (med --proposal).")
@click.option("--information", metavar="RUBRIK", help="Information att lägga till handlingarna.")
@ACTOR
@json_option
@pass_app()
def agenda_command(
    app: App,
    ref: str,
    add: tuple[str, ...],
    proposal_for: str | None,
    proposal: str | None,
    matter: str | None,
    information: str | None,
    actor: str,
    as_json: bool,
) -> None:
    if matter or information:
        view = agenda.add_matter(
            app,
            ref=ref,
            title=matter or information or "",
            proposal=proposal,
            information=information is not None,
            actor_email=actor,
            forbund=app.settings.forbund,
        )
        _emit_meeting(as_json, view, "Ärendet är tillagt på dagordningen.")
        return
    if (proposal_for is None) != (proposal is None):
        raise BadInput("ange både --proposal-for DNR och --proposal TEXT")
    if proposal_for and proposal:
        view = agenda.set_proposal(
            app,
            ref=ref,
            dnr=proposal_for,
            proposal=proposal,
            actor_email=actor,
            forbund=app.settings.forbund,
        )
    else:
        view = agenda.build_agenda(
            app, ref=ref, actor_email=actor, add=list(add), forbund=app.settings.forbund
        )
    _emit_meeting(as_json, view, "Dagordningen är uppdaterad.")


@meetings_group.command("protocol", help="Öppna mötets protokoll: justerare väljs, §§ numreras.")
@MEETING
@click.option("--justerare", multiple=True, required=True, metavar="EMAIL", help="Justerare.")
@click.option("--chair", metavar="EMAIL", help="Mötets ordförande, om inte organets.")
@ACTOR
@json_option
@pass_app()
def protocol_command(
    app: App, ref: str, justerare: tuple[str, ...], chair: str | None, actor: str, as_json: bool
) -> None:
    view = protocol.open_protocol(
        app,
        ref=ref,
        actor_email=actor,
        justerare=list(justerare),
        chair=chair,
        forbund=app.settings.forbund,
    )
    _emit_meeting(as_json, view, "Protokollet är öppnat.")


def _granted(pairs: tuple[str, ...]) -> dict[str, int] | None:
    if not pairs:
        return None
    granted: dict[str, int] = {}
    for pair in pairs:
        year, sep, amount = pair.partition("=")
        if not sep:
            raise BadInput(f"--granted {pair!r}: skriv ÅR=TKR, t.ex. 2013=1500")
        granted[year.strip()] = amount.strip()  # type: ignore[assignment]
    return granted


@meetings_group.command("decide", help="Registrera styrelsens beslut i en §.")
@MEETING
@click.argument("paragraph", type=int, metavar="§")
@click.option(
    "--decision",
    required=True,
    help="bifall, delvis_bifall, avslag, aterremiss, bordlaggning, lagga_till_handlingarna, beslut.",
)
@click.option(
    "--outcome",
    help="Avslutets utfall för insatsen: implementerad, ej_implementerad eller avbruten.",
)
@click.option("--att", "att_satser", multiple=True, help="Att-sats; en gång per sats.")
@click.option("--granted", multiple=True, metavar="ÅR=TKR", help="Beviljat belopp per år.")
@click.option("--conditions", help="Villkor för bifallet.")
@click.option("--motivation", help="Motivering; vid återremiss vad som ska göras.")
@click.option("--reservation", multiple=True, metavar="EMAIL[:TEXT]", help="Reservation.")
@click.option("--jav", multiple=True, metavar="EMAIL", help="Ledamot som anmäler jäv.")
@click.option("--expect-version", type=int, help="§:ns version du läste; ändrad ger konflikt (5).")
@click.option(
    "--over-frame", is_flag=True, help="Styrelsen beviljar trots att budgetramen överskrids."
)
@ACTOR
@json_option
@pass_app()
def decide_command(
    app: App,
    ref: str,
    paragraph: int,
    decision: str,
    att_satser: tuple[str, ...],
    granted: tuple[str, ...],
    conditions: str | None,
    motivation: str | None,
    reservation: tuple[str, ...],
    jav: tuple[str, ...],
    expect_version: int | None,
    over_frame: bool,
    outcome: str | None,
    actor: str,
    as_json: bool,
) -> None:
    view = decisions.record_decision(
        app,
        ref=ref,
        paragraph=paragraph,
        decision=DecisionInput(
            kind=decision,
            att_satser=list(att_satser),
            granted=_granted(granted),
            conditions=conditions,
            motivation=motivation,
            reservations=list(reservation),
            jav=list(jav),
            over_frame=over_frame,
            outcome=outcome,
        ),
        actor_email=actor,
        expected_version=expect_version,
        forbund=app.settings.forbund,
    )
    _emit_meeting(as_json, view, f"§ {paragraph}: beslutet är registrerat.")


@meetings_group.command("follow", help="Besluta enligt rekommendation och förslag (alla öppna §§).")
@MEETING
@click.option("--paragraph", multiple=True, type=int, metavar="§", help="Bara dessa §§.")
@click.option(
    "--over-frame", is_flag=True, help="Styrelsen beviljar trots att budgetramen överskrids."
)
@ACTOR
@json_option
@pass_app()
def follow_command(
    app: App, ref: str, paragraph: tuple[int, ...], over_frame: bool, actor: str, as_json: bool
) -> None:
    view = decisions.follow_recommendations(
        app,
        ref=ref,
        actor_email=actor,
        paragraphs=list(paragraph),
        forbund=app.settings.forbund,
        over_frame=over_frame,
    )
    _emit_meeting(as_json, view, "Besluten följer rekommendationerna.")


@meetings_group.command("send", help="Skicka protokollet för justering.")
@MEETING
@ACTOR
@json_option
@pass_app()
def send_command(app: App, ref: str, actor: str, as_json: bool) -> None:
    view = justering.send_for_justering(
        app, ref=ref, actor_email=actor, forbund=app.settings.forbund
    )
    _emit_meeting(as_json, view, "Protokollet är skickat för justering.")


@meetings_group.command("amend", help="Rätta ordalydelsen i en beslutad § (protokollet är utkast).")
@MEETING
@click.argument("paragraph", type=int, metavar="§")
@click.option("--att", "att_satser", multiple=True, help="Nya att-satser; ersätter de gamla.")
@click.option("--conditions", help="Villkor (tom sträng tar bort).")
@click.option("--motivation", help="Motivering (tom sträng tar bort).")
@click.option("--reservation", multiple=True, metavar="EMAIL[:TEXT]", help="Reservationer.")
@click.option("--no-reservations", is_flag=True, help="Ta bort alla reservationer.")
@click.option("--jav", multiple=True, metavar="EMAIL", help="Jäviga ledamöter.")
@click.option("--expect-version", type=int, help="§:ns version du läste; ändrad ger konflikt (5).")
@ACTOR
@json_option
@pass_app()
def amend_command(
    app: App,
    ref: str,
    paragraph: int,
    att_satser: tuple[str, ...],
    conditions: str | None,
    motivation: str | None,
    reservation: tuple[str, ...],
    no_reservations: bool,
    jav: tuple[str, ...],
    expect_version: int | None,
    actor: str,
    as_json: bool,
) -> None:
    view = corrections.amend_decision(
        app,
        ref=ref,
        paragraph=paragraph,
        actor_email=actor,
        att_satser=list(att_satser) or None,
        conditions=conditions,
        motivation=motivation,
        reservations=[] if no_reservations else (list(reservation) or None),
        jav=list(jav) or None,
        expected_version=expect_version,
        forbund=app.settings.forbund,
    )
    _emit_meeting(as_json, view, f"§ {paragraph}: ändringen är sparad.")


@meetings_group.command(
    "withdraw", help="Låt en obeslutad § utgå ur protokollet när dess ärende har gått vidare."
)
@MEETING
@click.argument("paragraph", type=int, metavar="§")
@click.option("--reason", required=True, help="Varför ärendet utgår.")
@click.option("--expect-version", type=int, help="§:ns version du läste; ändrad ger konflikt (5).")
@ACTOR
@json_option
@pass_app()
def withdraw_command(
    app: App,
    ref: str,
    paragraph: int,
    reason: str,
    expect_version: int | None,
    actor: str,
    as_json: bool,
) -> None:
    view = corrections.withdraw_paragraph(
        app,
        ref=ref,
        paragraph=paragraph,
        reason=reason,
        actor_email=actor,
        expected_version=expect_version,
        forbund=app.settings.forbund,
    )
    _emit_meeting(as_json, view, f"§ {paragraph}: ärendet utgår.")


@meetings_group.command("reopen", help="Ta tillbaka ett protokoll från justering till utkast.")
@MEETING
@click.option("--reason", required=True, help="Varför protokollet tas tillbaka.")
@ACTOR
@json_option
@pass_app()
def reopen_command(app: App, ref: str, reason: str, actor: str, as_json: bool) -> None:
    view = justering.return_to_draft(
        app, ref=ref, actor_email=actor, reason=reason, forbund=app.settings.forbund
    )
    _emit_meeting(as_json, view, "Protokollet är åter ett utkast; justeringarna har fallit.")


@meetings_group.command("justera", help="Ordförande eller justerare justerar protokollet.")
@MEETING
@ACTOR
@json_option
@pass_app()
def justera_command(app: App, ref: str, actor: str, as_json: bool) -> None:
    view = justering.approve(app, ref=ref, actor_email=actor, forbund=app.settings.forbund)
    status = view.protocol.status_label if view.protocol else ""
    _emit_meeting(as_json, view, f"Justerat av {actor}; protokollet: {status}.")


@meetings_group.command("anslag", help="Anslå det justerade protokollet.")
@MEETING
@click.option("--date", "posted", help="Dag då anslaget sätts upp (ÅÅÅÅ-MM-DD); annars i dag.")
@ACTOR
@json_option
@pass_app()
def anslag_command(app: App, ref: str, posted: str | None, actor: str, as_json: bool) -> None:
    posted_on: date | None = parse_date(posted, "--date") if posted else None
    view = anslag.post_anslag(
        app, ref=ref, actor_email=actor, posted_on=posted_on, forbund=app.settings.forbund
    )
    _emit_meeting(as_json, view, "Protokollet är anslaget.")


@meetings_group.command("export", help="Skriv en handling som HTML eller PDF.")
@MEETING
@click.option(
    "--paper",
    required=True,
    type=click.Choice(papers.PAPERS),
    help="dagordning, kallelse, protokoll eller utdrag.",
)
@click.option("--paragraph", type=int, metavar="§", help="§ för ett utdrag.")
@click.option(
    "--format", "fmt", type=click.Choice(["html", "pdf"]), default="pdf", show_default=True
)
@click.option(
    "--out", type=click.Path(path_type=Path), help="Fil att skriva; annars ett filnamn här."
)
@json_option
@pass_app()
def export_command(
    app: App,
    ref: str,
    paper: str,
    paragraph: int | None,
    fmt: str,
    out: Path | None,
    as_json: bool,
) -> None:
    rendered = papers.render(
        app, ref=ref, kind=paper, paragraph=paragraph, forbund=app.settings.forbund
    )
    target = out or Path(f"{rendered.filename}.{fmt}")
    content = rendered.pdf() if fmt == "pdf" else rendered.html.encode("utf-8")
    if not target.parent.is_dir():
        raise BadInput(f"mappen {target.parent} finns inte; ange en annan fil med --out")
    try:
        target.write_bytes(content)
    except OSError as exc:
        raise BadInput(f"kan inte skriva {target}: {exc.strerror}") from None
    data = {"paper": paper, "title": rendered.title, "path": str(target), "bytes": len(content)}
    emit(as_json, data, lambda: click.echo(f"{rendered.title} skriven till {target}"))
