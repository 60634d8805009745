"""The demo's second förbund, Norra Västmanlands Samordningsförbund (seed 001, domain.md §9
record 7), set up the way a new förbund is: from a YAML file, through `forbund import`.

Then its year 2011 through the real services, each step at its own (demo) date: the
huvudmän's frame of 7 000 tkr for 2011, and the structural insats "Grundutbildning i
lösningsfokuserat arbetssätt" (150 tkr, demo amount) from idea in September 2010 through the
beredningsgrupp and the board's bifall on 10 December 2010 to its avtal and its start on
3 January 2011. The seed gives the frame, the insats and that it was granted for 2011; dates,
people and the meetings are invented.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time
from pathlib import Path

from sqlmodel import select

from workflow.app import App
from workflow.clock import STOCKHOLM, fixed_clock
from workflow.models import Forbund
from workflow.services import cases
from workflow.services.board import (
    agenda,
    anslag,
    beredning,
    decisions,
    justering,
    meetings,
    protocol,
)
from workflow.services.funding import agreements, budget
from workflow.services.organisation import forbund_import

SLUG = "nv"
FILE = Path(__file__).with_name("norra_vastmanland.yaml")
DOMAIN = "nv.example"
TITLE = "Grundutbildning i lösningsfokuserat arbetssätt"
FRAME_2011 = 7000
GRANT_2011 = 150  # demo amount (domain.md §9)

APPLICATION = {
    "title": TITLE,
    "inriktning": "struktur",
    "malgrupp": "Arbetsledare och professionella hos förbundets fyra parter",
    "syfte": "Ett gemensamt lösningsfokuserat arbetssätt i mötet med personer som behöver "
    "samordnad rehabilitering",
    "mal": "Arbetsledare och handläggare hos alla parter har gått grundutbildningen under 2011.",
    "start": "2011-01-01",
    "end": "2011-12-31",
    "owner_party": "Fagersta kommun",
    "parties": [
        "Fagersta kommun",
        "Norbergs kommun",
        "Skinnskattebergs kommun",
        "Landstinget Västmanland",
        "Försäkringskassan",
        "Arbetsförmedlingen",
    ],
    "project_owner": f"projektagare@{DOMAIN}",
    "budget": {"2011": GRANT_2011},
    "followup_plan": "Registreras och följs i SUS; slutrapport till styrelsen efter utbildningsåret.",
}


def _email(local_part: str) -> str:
    return f"{local_part}@{DOMAIN}"


def _at(day: date, clock: time = time(10, 0)) -> datetime:
    return datetime.combine(day, clock, STOCKHOLM)


def _on(app: App, day: date, clock: time = time(10, 0)) -> App:
    return dataclasses.replace(app, clock=fixed_clock(_at(day, clock)))


def load_norra_vastmanland(app: App) -> bool:
    """Set up the förbund and its 2011 (once; False when it is already there).

    Steps: import the YAML file (the installation founds the förbund); the idea, its
    registration and beredning; the beredningsgrupp's meeting and recommendation; the
    huvudmän's frame for 2011; the board meeting with kallelse, protocol, bifall and justering (which
    records the grant); the avtal, signed, and the start of the insats.
    """
    with app.db.reading() as session:
        if session.exec(select(Forbund).where(Forbund.slug == SLUG)).first() is not None:
            return False
    forbund_import.import_file(
        _on(app, date(2010, 9, 1)), FILE, actor_email=None, operator="finsam demo", channel="demo"
    )
    chef, sekreterare = _email("samordnare"), _email("sekreterare")
    ref = cases.submit_idea(
        _on(app, date(2010, 9, 13)),
        actor_email=_email("handlaggare"),
        values=APPLICATION,
        forbund=SLUG,
    ).ref
    ref = cases.fire(
        _on(app, date(2010, 9, 20)), ref=ref, trigger="registrera",
        actor_email=sekreterare, forbund=SLUG,
    ).ref  # fmt: skip
    cases.fire(
        _on(app, date(2010, 10, 4)), ref=ref, trigger="starta_beredning",
        actor_email=chef, forbund=SLUG,
    )  # fmt: skip
    group = meetings.create_meeting(
        _on(app, date(2010, 10, 11)), actor_email=chef, organ="beredningsgrupp",
        starts=_at(date(2010, 10, 25), time(9, 0)), ends=_at(date(2010, 10, 25), time(11, 0)),
        place="Fagersta", forbund=SLUG,
    )  # fmt: skip
    beredning.record_recommendation(
        _on(app, date(2010, 10, 25), time(11, 0)), ref=ref, actor_email=chef, outcome="bevilja",
        motivation="Ett gemensamt arbetssätt stärker samverkan mellan parterna (målområde 3).",
        meeting=str(group.number), forbund=SLUG,
    )  # fmt: skip
    budget.set_frame(
        _on(app, date(2010, 11, 15)),
        year=2011,
        total=FRAME_2011,
        adopted_on=date(2010, 11, 15),
        actor_email=chef,
        forbund=SLUG,
    )
    _board_meeting(app, ref, chef, sekreterare)
    agreements.create(_on(app, date(2010, 12, 20)), ref=ref, actor_email=chef, forbund=SLUG)
    agreements.sign(
        _on(app, date(2010, 12, 22)), ref=ref, actor_email=chef, forbund=SLUG,
        forbund_signed_on=date(2010, 12, 22), owner_signed_on=date(2010, 12, 21),
    )  # fmt: skip
    agreements.start_due(_on(app, date(2011, 1, 3)), actor_email=chef, forbund=SLUG)
    return True


def _board_meeting(app: App, ref: str, chef: str, sekreterare: str) -> None:
    """10 December 2010 in Fagersta: kallelse a week before, bifall, justering, anslag."""
    day = date(2010, 12, 10)
    before = _on(app, date(2010, 12, 1))
    meeting = meetings.create_meeting(
        before, actor_email=sekreterare, starts=_at(day, time(13, 0)), ends=_at(day, time(15, 0)),
        place="Fagersta", forbund=SLUG,
    )  # fmt: skip
    agenda.build_agenda(
        before, ref=meeting.number, actor_email=chef, add=[ref], include_ready=False, forbund=SLUG
    )
    agenda.add_matter(
        before, ref=meeting.number, title="Verksamhetsplan 2011",
        proposal="att fastställa verksamhetsplanen för 2011 inom huvudmännens ram om 7 000 tkr",
        actor_email=chef, forbund=SLUG,
    )  # fmt: skip
    meetings.record_kallelse_sent(
        _on(app, date(2010, 12, 2), time(9, 0)), ref=meeting.number, actor_email=sekreterare,
        forbund=SLUG,
    )  # fmt: skip
    during = _on(app, day, time(15, 0))
    protocol.open_protocol(
        during, ref=meeting.number, actor_email=sekreterare, justerare=[_email("ledamot.fk")],
        forbund=SLUG,
    )  # fmt: skip
    decisions.follow_recommendations(
        during, ref=meeting.number, actor_email=sekreterare, forbund=SLUG
    )
    justering.send_for_justering(
        _on(app, date(2010, 12, 13)), ref=meeting.number, actor_email=sekreterare, forbund=SLUG
    )
    justering.approve(
        _on(app, date(2010, 12, 15)), ref=meeting.number, actor_email=_email("ordforande"),
        forbund=SLUG,
    )  # fmt: skip
    justering.approve(
        _on(app, date(2010, 12, 16)), ref=meeting.number, actor_email=_email("ledamot.fk"),
        forbund=SLUG,
    )  # fmt: skip
    anslag.post_anslag(
        _on(app, date(2010, 12, 17)), ref=meeting.number, actor_email=sekreterare, forbund=SLUG
    )
