"""Demo board meetings from seed 004, driven through the real services with the clock set to
each day, so the protocols, §§ and audit trail are real ones.

The board's decision of 2012-11-23 on the seed-004 insatser (§§ 45–50, the förbund's paper
protocols of 2012 having used §§ 1–40), after the beredningsgrupp's recommendation of
2012-10-15. The board year 2013 ("Förslag styrelsemöten 2013"): the seven meetings, their days
and places are the seed's; times the seed leaves open, the matters and their wording, and two
applications for 2014 (decided 28 November) are invented ("demo"). 28 November holds §§ 61–72
(domain.md §9, record 9), kallelse 2013-11-21. Today's work: a board meeting held four days ago
whose protocol is still to be written (two applications and a slutrapport on its agenda) and
the next meeting a week from today, its kallelse due, its agenda still to be built.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timedelta

from workflow.app import App
from workflow.clock import STOCKHOLM, fixed_clock
from workflow.services import cases
from workflow.services.board import (
    agenda,
    anslag,
    beredning,
    closing,
    decisions,
    justering,
    meetings,
    protocol,
)
from workflow.services.board.paragraphs import reserve
from workflow.services.board.views import MeetingView
from workflow.services.organisation.forbund import resolve_forbund
from workflow.services.organisation.organs import ensure_organ

DOMAIN = "akst.example"

# (day, start, end, place, justerare, [(title, proposal or None for information)])
BOARD_YEAR_2013: list[tuple[date, time, time, str, str, list[tuple[str, str | None]]]] = [
    (
        date(2013, 2, 22),
        time(13, 0),
        time(16, 0),
        "Ale",
        "ledamot.fk",
        [
            (
                "Årsredovisning 2012",
                "att godkänna årsredovisningen för 2012 och överlämna den till medlemmarna och revisorerna",
            ),
            (
                "Förbättringsområden kommunikation och information 2013",
                "att fastställa förbättringsområdena enligt bilaga A till verksamhetsplanen",
            ),
            ("Information från förbundschefen", None),
        ],
    ),
    (
        date(2013, 3, 20),
        time(9, 0),
        time(12, 0),
        "Kungälv",
        "ledamot.vgr",
        [
            (
                "Kompetensutveckling 2013 från den gemensamma utbildningsgruppen",
                "att ställa 40 tkr till förfogande för utbildningsinsatser 2013",
            ),
            (
                "Informationsdag för LLG den 12 april i Ale",
                "att genomföra informationsdagen enligt förbundschefens förslag",
            ),
            ("Lägesrapporter från insatserna", None),
        ],
    ),
    (
        date(2013, 5, 20),
        time(15, 0),
        time(16, 30),
        "Tjörn",
        "ledamot.af",
        [
            ("Årlig konferens 2013 – återkoppling", None),
            ("Revisionsberättelse 2012", None),
            ("Uppföljning av insatserna i SUS", None),
        ],
    ),
    (
        date(2013, 6, 14),
        time(9, 0),
        time(12, 0),
        "Stenungsund",
        "ledamot.fk",
        [
            (
                "Utgångspunkten – implementering i ordinarie verksamhet",
                "att uppdra åt förbundschefen att med Kungälvs kommun ta fram en plan för implementering första kvartalet 2014",
            ),
            (
                "Frukostmöte med företagare och lokala politiker",
                "att genomföra frukostmöten under hösten 2013",
            ),
            ("Lägesrapporter från insatserna", None),
        ],
    ),
    (
        date(2013, 9, 20),
        time(13, 0),
        time(16, 0),
        "Ale",
        "ledamot.af",
        [
            ("Delårsrapport per den 30 juni 2013", "att godkänna delårsrapporten"),
            (
                "Uppdrag till de lokala ledningsgrupperna om teamens organisation",
                "att ge de lokala ledningsgrupperna i uppdrag att lämna förslag om teamens organisation",
            ),
            ("Verksamhetsplan med budget 2014 – första utkast", None),
        ],
    ),
    (
        date(2013, 10, 18),
        time(13, 0),
        time(16, 0),
        "Kungälv",
        "ledamot.vgr",
        [
            (
                "Verksamhetsplan med budget 2014 – samråd med medlemmarna",
                "att sända förslaget till verksamhetsplan med budget 2014 på samråd till medlemmarna",
            ),
            ("Utvärderingar från payoff.nu", None),
            ("Lägesrapporter från insatserna", None),
        ],
    ),
    (
        date(2013, 11, 28),
        time(14, 0),
        time(16, 0),
        "Tjörn",
        "ledamot.fk",
        [
            (
                "Verksamhetsplan med budget 2014",
                "att fastställa verksamhetsplan med budget 2014 om 6 635 tkr, varav 1 000 tkr utrymme för nya insatser",
            ),
            ("Sammanträdesplan 2014", "att fastställa sammanträdesplanen för 2014"),
            ("Implementering av Utgångspunkten 2014", None),
        ],
    ),
]

# Two applications for 2014's "utrymme för nya insatser" (demo), decided 28 November 2013.
APPLICATIONS_2014 = [
    (
        "Arbetsträning i sociala företag",
        "bevilja",
        ["Ale kommun", "Arbetsförmedlingen", "Försäkringskassan"],
        "Ale kommun",
        {"2014": 400},
        "Fyller behovet av träningsplatser sedan INCORP AB flyttat från Ale.",
    ),
    (
        "Hälsocoacher på vårdcentralerna",
        "avsla",
        ["Västra Götalandsregionen", "Kungälvs kommun"],
        "Västra Götalandsregionen",
        {"2014": 650},
        "Ligger inom regionens ordinarie uppdrag; samverkansvinsten är otydlig.",
    ),
]


def _email(local_part: str) -> str:
    return f"{local_part}@{DOMAIN}"


def _at(day: date, clock: time = time(10, 0)) -> datetime:
    return datetime.combine(day, clock, STOCKHOLM)


def _applications(app: App, forbund: str) -> list[str]:
    """Idea in August, registered and put on beredning in September, recommended 30 October."""
    refs: list[tuple[str, str, str]] = []
    for index, (title, outcome, parties, owner, budget, motivation) in enumerate(APPLICATIONS_2014):
        when = lambda day, i=index: dataclasses.replace(  # noqa: E731
            app, clock=fixed_clock(_at(day) + timedelta(minutes=i))
        )
        view = cases.submit_idea(
            when(date(2013, 8, 26)),
            actor_email=_email("handlaggare"),
            values={
                "title": title,
                "inriktning": "individ",
                "malgrupp": "Personer 18–64 år långt från arbetsmarknaden",
                "syfte": "Samordnad rehabilitering mot arbete",
                "mal": "Hälften av deltagarna i arbete, studier eller arbetssökande efter ett år.",
                "start": "2014-01-01",
                "end": "2014-12-31",
                "owner_party": owner,
                "parties": parties,
                "budget": budget,
                "followup_plan": "Delårsrapport 30 juni, slutrapport 31 mars 2015.",
            },
            forbund=forbund,
        )
        ref = cases.fire(
            when(date(2013, 9, 9)), ref=view.ref, trigger="registrera",
            actor_email=_email("sekreterare"), forbund=forbund,
        ).ref  # fmt: skip
        cases.fire(
            when(date(2013, 9, 30)), ref=ref, trigger="starta_beredning",
            actor_email=_email("chef"), forbund=forbund,
        )  # fmt: skip
        refs.append((ref, outcome, motivation))
    group = meetings.create_meeting(
        dataclasses.replace(app, clock=fixed_clock(_at(date(2013, 10, 14)))),
        actor_email=_email("chef"),
        starts=_at(date(2013, 10, 30), time(9, 0)),
        ends=_at(date(2013, 10, 30), time(11, 0)),
        place="Kungälv",
        organ="beredningsgrupp",
        forbund=forbund,
    )
    at_group = dataclasses.replace(app, clock=fixed_clock(_at(date(2013, 10, 30), time(11, 0))))
    beredning.add_note(
        at_group, ref=refs[0][0], actor_email=_email("beredning.af"), meeting=str(group.number),
        text="AF kan anvisa deltagare från jobb- och utvecklingsgarantin.", forbund=forbund,
    )  # fmt: skip
    for ref, outcome, motivation in refs:
        beredning.record_recommendation(
            at_group, ref=ref, actor_email=_email("chef"), outcome=outcome,
            motivation=motivation, meeting=str(group.number), forbund=forbund,
            dissent="Regionens representant ansåg att insatsen borde prövas som pilot."
            if outcome == "avsla" else None,
        )  # fmt: skip
    return [r for r, _, _ in refs]


def hold_board_meeting(
    app: App,
    forbund: str,
    day: date,
    start: time,
    end: time,
    place: str,
    justerare: str,
    matters: list[tuple[str, str | None]],
    case_refs: list[str],
    closings: list[tuple[str, str, str | None]] | None = None,
) -> MeetingView:
    """Kallelse a week before, protocol at the meeting, justering a week later, anslag next day.

    `closings` are (dnr, outcome, reason) of insatser whose end the board decides there.
    """

    def at(when: datetime) -> App:
        return dataclasses.replace(app, clock=fixed_clock(when))

    before = at(_at(day - timedelta(days=8)))
    meeting = meetings.create_meeting(
        before, actor_email=_email("sekreterare"), starts=_at(day, start), ends=_at(day, end),
        place=place, forbund=forbund,
    )  # fmt: skip
    for ref, outcome, reason in closings or []:
        closing.propose(
            before, ref=ref, meeting=meeting.number, outcome=outcome, reason=reason,
            actor_email=_email("chef"), forbund=forbund,
        )  # fmt: skip
    # Only the cases of that day: the demo's current cases exist already in the database.
    agenda.build_agenda(
        before, ref=meeting.number, actor_email=_email("chef"), add=case_refs,
        include_ready=False, forbund=forbund,
    )  # fmt: skip
    for title, proposal in matters:
        agenda.add_matter(
            before, ref=meeting.number, title=title, proposal=proposal,
            information=proposal is None, actor_email=_email("chef"), forbund=forbund,
        )  # fmt: skip
    if day == date(2013, 3, 20):
        meetings.set_attendance(
            before, ref=meeting.number, actor_email=_email("sekreterare"),
            absent=[_email("ledamot.af")], serving=[_email("ersattare.af")], forbund=forbund,
        )  # fmt: skip
    meetings.record_kallelse_sent(
        at(_at(day - timedelta(days=7), time(9, 0))), ref=meeting.number,
        actor_email=_email("sekreterare"), forbund=forbund,
    )  # fmt: skip
    during = at(_at(day, end))
    protocol.open_protocol(
        during, ref=meeting.number, actor_email=_email("sekreterare"),
        justerare=[_email(justerare)], forbund=forbund,
    )  # fmt: skip
    decisions.follow_recommendations(
        during, ref=meeting.number, actor_email=_email("sekreterare"), forbund=forbund
    )
    justering.send_for_justering(
        at(_at(day + timedelta(days=3))), ref=meeting.number, actor_email=_email("sekreterare"),
        forbund=forbund,
    )  # fmt: skip
    justering.approve(
        at(_at(day + timedelta(days=6))), ref=meeting.number, actor_email=_email("ordforande"),
        forbund=forbund,
    )  # fmt: skip
    justering.approve(
        at(_at(day + timedelta(days=7), time(11, 0))), ref=meeting.number,
        actor_email=_email(justerare), forbund=forbund,
    )  # fmt: skip
    return anslag.post_anslag(
        at(_at(day + timedelta(days=8))), ref=meeting.number, actor_email=_email("sekreterare"),
        forbund=forbund,
    )  # fmt: skip


def decide_seed_insatser(app: App, forbund: str, refs: list[str]) -> MeetingView:
    """The seed-004 insatser from beredning to a justerat bifall: recommended by the
    beredningsgrupp on 2012-10-15, decided by the board with its verksamhetsplan for 2013 on
    2012-11-23 (§§ 45–50; the year's paper protocols had used §§ 1–40)."""
    group = meetings.create_meeting(
        dataclasses.replace(app, clock=fixed_clock(_at(date(2012, 10, 1)))),
        actor_email=_email("chef"),
        starts=_at(date(2012, 10, 15), time(9, 0)),
        ends=_at(date(2012, 10, 15), time(11, 0)),
        place="Kungälv",
        organ="beredningsgrupp",
        forbund=forbund,
    )
    at_group = dataclasses.replace(app, clock=fixed_clock(_at(date(2012, 10, 15), time(11, 0))))
    for ref in refs:
        beredning.record_recommendation(
            at_group, ref=ref, actor_email=_email("chef"), outcome="bevilja",
            motivation="Beredningsgruppen tillstyrker fortsatt finansiering 2013–2014.",
            meeting=str(group.number), forbund=forbund,
        )  # fmt: skip
    with app.db.transaction() as session:
        board = ensure_organ(session, resolve_forbund(session, forbund), "styrelse")
        reserve(session, board.id, 2012, 40)  # type: ignore[arg-type]
    return hold_board_meeting(
        app,
        forbund,
        date(2012, 11, 23),
        time(13, 0),
        time(16, 0),
        "Kungälv",
        "ledamot.fk",
        [
            (
                "Verksamhetsplan med budget 2013",
                "att fastställa verksamhetsplan med budget 2013 om 6 340 tkr",
            )
        ],
        refs,
    )


def load_meetings_demo(app: App, forbund: str) -> list[MeetingView]:
    """The board year 2013, then today's meetings (module doc)."""
    held = []
    for day, start, end, place, justerare, matters in BOARD_YEAR_2013:
        refs = _applications(app, forbund) if day == date(2013, 11, 28) else []
        held.append(
            hold_board_meeting(app, forbund, day, start, end, place, justerare, matters, refs)
        )
    today = app.clock().astimezone(STOCKHOLM).date()
    held.append(_held_four_days_ago(app, forbund, today))
    # The next meeting: its agenda is built when the cases are ready (README).
    held.append(
        meetings.create_meeting(
            app,
            actor_email=_email("sekreterare"),
            starts=_at(today + timedelta(days=7), time(13, 0)),
            ends=_at(today + timedelta(days=7), time(16, 0)),
            place="Stenungsund",
            forbund=forbund,
        )
    )
    return held


def _held_four_days_ago(app: App, forbund: str, today: date) -> MeetingView:
    """Held four days ago, its protocol still to be written (the reminder to justera it is
    due): the applications recommended two weeks ago, and the slutrapport of Föreningspool
    Tjörn, ended in 2014."""

    def at(when: datetime) -> App:
        return dataclasses.replace(app, clock=fixed_clock(when))

    day = today - timedelta(days=4)
    meeting = meetings.create_meeting(
        at(_at(today - timedelta(days=13))), actor_email=_email("sekreterare"),
        starts=_at(day, time(13, 0)), ends=_at(day, time(16, 0)), place="Kungälv",
        forbund=forbund,
    )  # fmt: skip
    agenda.build_agenda(
        at(_at(today - timedelta(days=12))), ref=meeting.number, actor_email=_email("chef"),
        forbund=forbund,
    )  # fmt: skip
    for title, outcome in ENDED_2014:
        closing.propose(
            at(_at(today - timedelta(days=12), time(11, 0))), ref=_ref_of(app, forbund, title),
            meeting=meeting.number, outcome=outcome, actor_email=_email("chef"), forbund=forbund,
        )  # fmt: skip
    return meetings.record_kallelse_sent(
        at(_at(today - timedelta(days=11), time(9, 0))), ref=meeting.number,
        actor_email=_email("sekreterare"), forbund=forbund,
    )  # fmt: skip


# The insatser of seed 004 whose slutrapport the board takes note of at today's meeting.
ENDED_2014 = [("Föreningspool Tjörn", "implementerad")]


def _ref_of(app: App, forbund: str, title: str) -> str:
    page = cases.list_cases(app, forbund=forbund, filters=cases.CaseFilter(text=title), limit=500)
    return next(c.ref for c in page.items if c.title == title)
