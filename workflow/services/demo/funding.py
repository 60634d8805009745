"""Demo funding data from seed 004: the frames for 2013 and 2014 (the "Finansiell ram" table),
the avtal of the seed-004 insatser (their budget lines came with the justering of their
bifall), a year of reports, payments and Uppföljning Finsam registrations, and the end of two
of them in 2014 with an approved slutrapport. Everything goes through the real services with
the clock set to the day it happened; figures marked demo in domain.md §9 are invented."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time
from typing import Any

from sqlmodel import select

from workflow.app import App
from workflow.clock import STOCKHOLM, fixed_clock
from workflow.models import Forbund, Insats
from workflow.services import cases
from workflow.services.cases import case_ref
from workflow.services.funding import agreements, budget, payments, reports, uppfoljning

# (section, group, label, tkr 2013, tkr 2014, inriktning) in the order of seed 004's table.
FRAME_ITEMS: list[tuple[str, str, str, int, int, str | None]] = [
    ("insatser", "", "motiverande insatser", 100, 100, "individ"),
    ("insatser", "", "träningsplatser (Kungälv/Ale)", 205, 215, "individ"),
    ("insatser", "", "information", 30, 35, "struktur"),
    ("insatser", "", "föreläsningar", 10, 10, "struktur"),
    ("insatser", "", "utbildningsinsatser (exkl. utb. i projekt)", 40, 45, "struktur"),
    ("insatser", "", "FYSS/FaR", 10, 10, "struktur"),
    ("reserv", "", "utrymme för nya insatser", 0, 1000, None),
    ("utvardering", "", "Utvärdering", 0, 0, "struktur"),
    ("administration", "Tjänsteman", "lön, resor, utb., telefon, data", 810, 850, None),
    ("administration", "Styrelsen", "Arvoden samt andra ersättningar", 130, 137, None),
    (
        "administration",
        "Styrelsen",
        "Övriga omkostnader, resor, utbildning, konferenser, förtäring vid styrelsemöte m.m.",
        30,
        30,
        None,
    ),
    ("administration", "", "Köp av Ekonomiadministration", 60, 65, None),
    ("administration", "", "Köp av SUS-insats och gemensam information i VG", 40, 40, None),
    ("administration", "", "Kostnad för revisorer", 50, 50, None),
]

# Seed 004: the 2013 budget was adopted 2012-11-23 with a surplus of about 100 tkr; the 2014
# budget with the VP on 2013-11-28 (domain.md §9, record 9), surplus carried from 2013.
# The §§ are those of the verksamhetsplan in the two meetings' protocols (demo/meetings.py).
FRAMES = [(2013, date(2012, 11, 23), 100, "§ 51"), (2014, date(2013, 11, 28), None, "§ 67")]

# A year of follow-up for two insatser (demo): (title, uppföljning ref, participants by report).
FOLLOWED = [
    ("Utgångspunkten", "UF-1402-0113", [(9, 7, 0), (14, 11, 1)]),
    ("Ale Teamet", "UF-1402-0114", [(12, 15, 0), (19, 22, 0)]),
]


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0), STOCKHOLM)


def adopt_frame(app: App, slug: str, year: int) -> None:
    """Seed 004's frame for `year`, adopted with the verksamhetsplan (FRAMES)."""
    index = [f[0] for f in FRAMES].index(year)
    chef = "chef@akst.example"
    _adopt_frame(
        lambda day, hour=10: dataclasses.replace(app, clock=fixed_clock(_at(day, hour))),
        index,
        hour=(9, 15)[index],
        chef=chef,
        slug=slug,
    )


def load_funding_demo(app: App, slug: str) -> None:
    """After the bifall of 2012-11-23 is justerat: the avtal, the start on 2013-01-01, a year
    of follow-up for two insatser, the frame for 2014, and two insatser ended in 2014."""

    def at(day: date, hour: int = 10) -> App:
        return dataclasses.replace(app, clock=fixed_clock(_at(day, hour)))

    chef, admin = (f"{who}@akst.example" for who in ("chef", "admin"))
    with app.db.reading() as session:
        forbund = session.exec(select(Forbund).where(Forbund.slug == slug)).one()
        funded = [
            (case_ref(c), c.title)
            for c in session.exec(
                select(Insats).where(Insats.forbund_id == forbund.id, Insats.state == "avtal")
            )
        ]
    refs: dict[str, str] = {}
    for ref, title in sorted(funded):
        agreements.create(at(date(2012, 12, 3)), ref=ref, actor_email=chef, forbund=slug)
        agreements.sign(
            at(date(2012, 12, 14)),
            ref=ref,
            actor_email=chef,
            forbund=slug,
            forbund_signed_on=date(2012, 12, 14),
            owner_signed_on=date(2012, 12, 12),
        )
        refs[title] = ref
    # Signed before the start date: each starts with the first working day of 2013.
    agreements.start_due(at(date(2013, 1, 2), 8), actor_email=chef, forbund=slug)
    for title, external, counts in FOLLOWED:
        if title in refs:
            _a_year_of_follow_up(at, refs[title], external, counts, chef, admin, slug)
    adopt_frame(app, slug, 2014)
    for title in ENDED_2014:
        if title in refs:
            _ended_2014(at, refs[title], chef, slug)


# Seed-004 insatser that ended on 2014-12-31 and handed in their slutrapport (demo): the board
# takes note of one at today's meeting (demo/meetings.py); the other waits for the next.
ENDED_2014 = ["Föreningspool Tjörn", "Jordhammars Växtkraft"]


def _ended_2014(at: Any, ref: str, chef: str, slug: str) -> None:
    """The end reached, the slutrapport handed in in March 2015 and approved."""
    cases.fire(at(date(2015, 1, 2)), ref=ref, trigger="avsluta", actor_email=chef, forbund=slug)
    final = next(
        r.id for r in reports.list_reports(at(date(2015, 1, 2)), ref=ref, forbund=slug)
        if r.kind == "slut"
    )  # fmt: skip
    reports.submit(
        at(date(2015, 3, 20)),
        ref=ref,
        report_id=final,
        actor_email=chef,
        forbund=slug,
        progress="Arbetssättet drivs vidare i ordinarie verksamhet hos parterna.",
        women=31,
        men=27,
        other=0,
    )
    reports.approve(at(date(2015, 3, 25)), ref=ref, report_id=final, actor_email=chef, forbund=slug)


def _adopt_frame(at: Any, index: int, *, hour: int, chef: str, slug: str) -> None:
    """Seed 004's frame for one year (FRAMES[index]) with its items' amounts for that year."""
    year, adopted, surplus, paragraph = FRAMES[index]
    budget.set_frame(
        at(adopted, hour),
        year=year,
        total=6340,
        surplus_in=surplus,
        adopted_on=adopted,
        paragraph=paragraph,
        actor_email=chef,
        forbund=slug,
    )
    for section, group, label, tkr_2013, tkr_2014, inriktning in FRAME_ITEMS:
        budget.set_item(
            at(adopted, hour),
            year=year,
            section=section,
            group=group,
            label=label,
            amount=(tkr_2013, tkr_2014)[index],
            inriktning=inriktning,
            actor_email=chef,
            forbund=slug,
        )


def _a_year_of_follow_up(
    at: Any,
    ref: str,
    external: str,
    counts: list[tuple[int, int, int]],
    chef: str,
    admin: str,
    slug: str,
) -> None:
    uppfoljning.register(
        at(date(2013, 1, 21)),
        ref=ref,
        external_ref=external,
        registered_on=date(2013, 1, 21),
        preciserad_inriktning="Samordnad individuell rehabilitering",
        uppfoljningsmetod="Deltagare registreras som antal per kön",
        esf=False,
        actor_email=admin,
        forbund=slug,
    )
    grant = budget.lines_of(at(date(2013, 1, 21)), ref=ref, forbund=slug)[0].granted_tkr
    first = grant // 2
    payments.request(
        at(date(2013, 1, 15)), ref=ref, year=2013, amount=first, actor_email=chef, forbund=slug
    )
    # Asked for in July: it waits for the delårsrapport due 30 June, approved in August.
    payments.request(
        at(date(2013, 7, 10)),
        ref=ref,
        year=2013,
        amount=grant - first,
        actor_email=chef,
        forbund=slug,
    )
    (women, men, other), (women2, men2, other2) = counts
    reports.submit(
        at(date(2013, 8, 20)),
        ref=ref,
        actor_email=chef,
        forbund=slug,
        progress="Verksamheten är i gång enligt plan; samverkan med parterna fungerar.",
        utfall=grant // 2 - 40,
        deviations="Rekryteringen av en arbetsterapeut blev försenad.",
        women=women,
        men=men,
        other=other,
    )
    reports.approve(at(date(2013, 8, 28)), ref=ref, actor_email=chef, forbund=slug)
    reports.submit(
        at(date(2014, 2, 10)),
        ref=ref,
        actor_email=chef,
        forbund=slug,
        progress="Målen för 2013 är i huvudsak nådda; fler deltagare än planerat.",
        utfall=grant - 25,
        women=women2,
        men=men2,
        other=other2,
    )
    reports.approve(at(date(2014, 2, 20)), ref=ref, actor_email=chef, forbund=slug)
    uppfoljning.register(
        at(date(2014, 1, 30)),
        ref=ref,
        registered_on=date(2014, 1, 30),
        actor_email=admin,
        forbund=slug,
    )
