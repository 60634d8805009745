"""Demo data from the seeds (domain.md §9): the förbund Ale, Kungälv, Stenungsund och Tjörn.

The insatser of seed 004 are driven through the real services with the clock set to the dates
they happened (applications autumn 2012, the beredningsgrupp's recommendation in October, the
board's decision in §§ 45–50 of its protocol of 2012-11-23, justerat a week later, avtal in
December, start 2013-01-01), so the demo's protocols, avtal and audit trail are real ones. A few
newer ideas and applications show the earlier states. Names and e-mail addresses of people are
invented.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlmodel import select

from workflow.app import App
from workflow.clock import STOCKHOLM, fixed_clock
from workflow.models import Forbund
from workflow.services import cases
from workflow.services.board import beredning
from workflow.services.cases.registration import reserve_numbers
from workflow.services.demo.funding import adopt_frame, load_funding_demo
from workflow.services.demo.meetings import decide_seed_insatser, load_meetings_demo
from workflow.services.demo.norra_vastmanland import SLUG as NV_SLUG
from workflow.services.demo.norra_vastmanland import load_norra_vastmanland
from workflow.services.demo.reminders import load_reminder_demo
from workflow.services.organisation.admin import found_in
from workflow.services.organisation.parties import create_party_in
from workflow.services.organisation.people import count_people, create_person_in
from workflow.services.reminders import planner

SLUG = "akst"
NAME = "Samordningsförbundet Ale, Kungälv, Stenungsund och Tjörn"
DOMAIN = "akst.example"

PARTIES = [
    ("fk", "forsakringskassan", "Försäkringskassan"),
    ("af", "arbetsformedlingen", "Arbetsförmedlingen"),
    ("vgr", "region", "Västra Götalandsregionen"),
    ("ale", "kommun", "Ale kommun"),
    ("kungalv", "kommun", "Kungälvs kommun"),
    ("stenungsund", "kommun", "Stenungsunds kommun"),
    ("tjorn", "kommun", "Tjörns kommun"),
]

# (e-mail local part, name, party key, roles)
PEOPLE = [
    ("chef", "Maria Lindqvist", None, ["forbundschef"]),
    ("sekreterare", "Eva Sjöberg", None, ["sekreterare"]),
    ("admin", "Kansliets registrator", None, ["admin"]),
    ("ordforande", "Lars Ekström", "kungalv", ["styrelse_ordforande", "styrelse_ledamot"]),
    ("ledamot.fk", "Birgitta Nyman", "fk", ["styrelse_ledamot"]),
    ("ledamot.af", "Johan Falk", "af", ["styrelse_ledamot"]),
    ("ledamot.vgr", "Sara Holmgren", "vgr", ["styrelse_ledamot"]),
    ("ersattare.ale", "Nils Åberg", "ale", ["styrelse_ersattare"]),
    ("ersattare.stenungsund", "Karin Dahl", "stenungsund", ["styrelse_ersattare"]),
    ("ersattare.tjorn", "Ove Strand", "tjorn", ["styrelse_ersattare"]),
    ("ersattare.fk", "Anna Wik", "fk", ["styrelse_ersattare"]),
    ("ersattare.af", "Per Sund", "af", ["styrelse_ersattare"]),
    ("ersattare.vgr", "Lisa Berg", "vgr", ["styrelse_ersattare"]),
    ("beredning.fk", "Helena Björk", "fk", ["beredningsgrupp"]),
    ("beredning.af", "Mats Lund", "af", ["beredningsgrupp"]),
    ("beredning.vgr", "Ulrika Ek", "vgr", ["beredningsgrupp"]),
    ("beredning.kungalv", "Tomas Berglund", "kungalv", ["beredningsgrupp"]),
    ("handlaggare", "Sofia Persson", "kungalv", ["handlaggare"]),
    ("handlaggare.af", "Ahmed Karimi", "af", ["handlaggare"]),
    ("projektagare", "Jenny Olsson", "kungalv", ["projektagare"]),
    ("projektagare.ale", "Erik Nord", "ale", ["projektagare"]),
    ("projektagare.stenungsund", "Camilla Fors", "stenungsund", ["projektagare"]),
]

FOLLOWUP = "Uppföljning i Uppföljning Finsam; delårsrapport 30 juni, helårsrapport 31 december."

# The insatser of seed 004, funded for 2013 and 2014 by the board on 2012-11-23; (title, owner,
# parties, owner person, target group, budget 2013, budget 2014).
SEED_004 = [
    (
        "Utgångspunkten",
        "kungalv",
        ["kungalv", "fk", "af", "vgr"],
        "projektagare",
        "Unga vuxna 18–29 år och personer upp till 64 år som är eller riskerar att bli utförsäkrade",
        1500,
        750,
    ),
    (
        "Ale Teamet",
        "ale",
        ["ale", "fk", "af", "vgr"],
        "projektagare.ale",
        "Personer 18–64 år i behov av samordnat stöd för att bli arbetsföra",
        1160,
        1218,
    ),
    (
        "Stenungsunds/Tjörns Teamet",
        "stenungsund",
        ["stenungsund", "tjorn", "fk", "af", "vgr"],
        "projektagare.stenungsund",
        "Personer 18–64 år, i första hand 18–25 år, i behov av samordnat stöd",
        1405,
        1475,
    ),
    (
        "Föreningspool Tjörn",
        "tjorn",
        ["tjorn", "af", "fk"],
        None,
        "Personer i arbetsför ålder som tränar arbetsförmåga i föreningslivet",
        115,
        120,
    ),
    (
        "Jordhammars Växtkraft",
        "stenungsund",
        ["stenungsund", "af", "vgr"],
        None,
        "Personer som behöver träningsplatser i grön rehabilitering (medfinansiering)",
        327,
        200,
    ),
    (
        "ESF-projekt Exsistre",
        "kungalv",
        ["kungalv", "fk", "af"],
        None,
        "Personer långt från arbetsmarknaden (ESF-medfinansierat)",
        123,
        60,
    ),
]


@dataclass
class DemoResult:
    forbund: str
    forbund_name: str
    created: bool
    people: int
    cases: int
    # The demo's other förbund (Norra Västmanland).
    also: list[DemoResult] = dataclasses.field(default_factory=list)


def _email(local_part: str) -> str:
    return f"{local_part}@{DOMAIN}"


def _at(day: date, minute: int) -> datetime:
    return datetime.combine(day, time(10, 0), STOCKHOLM) + timedelta(minutes=minute)


@dataclass
class _Step:
    when: datetime
    case: str
    trigger: str
    actor: str
    values: dict[str, Any] = dataclasses.field(default_factory=dict)
    comment: str | None = None


def _registered_2012(title: str, minute: int) -> list[_Step]:
    """The seed-004 path up to the beredning: registered and put on beredning in Sept 2012
    (recommendation, decision, avtal and start follow in the meetings and funding demos)."""
    return [
        _Step(_at(date(2012, 9, 10), minute), title, "registrera", "sekreterare"),
        _Step(_at(date(2012, 9, 24), minute), title, "starta_beredning", "chef"),
    ]


def _newer(today: date) -> tuple[list[dict[str, Any]], list[_Step]]:
    """Current work: ideas and applications in the earlier states, dated in the last weeks."""
    year = today.year + 1
    base: dict[str, Any] = {
        "inriktning": "individ",
        "start": f"{year}-01-01",
        "end": f"{year + 1}-12-31",
        "followup_plan": FOLLOWUP,
        "mal": "Minst 40 % av deltagarna i arbete eller studier efter avslutad insats.",
        "budget": {str(year): 600, str(year + 1): 600},
    }
    ideas: list[dict[str, Any]] = [
        {
            "title": "Samordnat stöd för unga med aktivitetsersättning",
            "by": "handlaggare",
            "values": {
                "parties": ["Kungälvs kommun", "Försäkringskassan"],
                "owner_party": "Kungälvs kommun",
                "malgrupp": "Unga vuxna 19–29 år med aktivitetsersättning",
            },
        },
        {
            "title": "Friskvård och arbetsträning på Tjörn",
            "by": "handlaggare.af",
            "values": {"parties": ["Tjörns kommun", "Arbetsförmedlingen"]},
        },
        {
            "title": "IPS – individanpassat stöd till arbete i Ale",
            "by": "handlaggare",
            "values": {
                **base,
                "parties": ["Ale kommun", "Västra Götalandsregionen", "Arbetsförmedlingen"],
                "owner_party": "Ale kommun",
                "malgrupp": "Personer med psykisk ohälsa, 18–64 år",
                "project_owner": _email("projektagare.ale"),
            },
        },
        {
            "title": "Språkstöd och arbetsträning för nyanlända",
            "by": "handlaggare.af",
            "values": {
                **base,
                "parties": ["Stenungsunds kommun", "Arbetsförmedlingen"],
                "owner_party": "Stenungsunds kommun",
                "malgrupp": "Nyanlända 20–64 år",
            },
        },
        {
            "title": "Kompetensutveckling i motiverande samtal",
            "by": "handlaggare",
            "values": {
                **base,
                "inriktning": "struktur",
                "budget": {str(year): 150, str(year + 1): 0},
                "parties": ["Kungälvs kommun", "Försäkringskassan", "Arbetsförmedlingen"],
                "owner_party": "Kungälvs kommun",
                "malgrupp": "Handläggare hos parterna",
            },
        },
        {
            "title": "Digital samverkansplattform",
            "by": "handlaggare",
            "values": {"parties": ["Ale kommun", "Försäkringskassan"], "owner_party": "Ale kommun"},
        },
        {
            "title": "Sommarjobb för unga med funktionsnedsättning",
            "by": "handlaggare",
            "values": {
                **base,
                "parties": ["Tjörns kommun", "Arbetsförmedlingen"],
                "owner_party": "Tjörns kommun",
                "malgrupp": "Unga 16–20 år med funktionsnedsättning",
            },
        },
    ]
    day = today - timedelta(days=30)
    steps = [
        _Step(
            _at(day + timedelta(days=7), 0),
            "IPS – individanpassat stöd till arbete i Ale",
            "registrera",
            "sekreterare",
        ),
        _Step(
            _at(day + timedelta(days=7), 1),
            "Språkstöd och arbetsträning för nyanlända",
            "registrera",
            "sekreterare",
        ),
        _Step(
            _at(day + timedelta(days=7), 2),
            "Kompetensutveckling i motiverande samtal",
            "registrera",
            "sekreterare",
        ),
        _Step(
            _at(day + timedelta(days=7), 3),
            "Sommarjobb för unga med funktionsnedsättning",
            "registrera",
            "sekreterare",
        ),
        _Step(
            _at(day + timedelta(days=9), 0),
            "Språkstöd och arbetsträning för nyanlända",
            "starta_beredning",
            "chef",
        ),
        _Step(
            _at(day + timedelta(days=9), 1),
            "Kompetensutveckling i motiverande samtal",
            "starta_beredning",
            "chef",
        ),
        _Step(
            _at(day + timedelta(days=9), 2),
            "Sommarjobb för unga med funktionsnedsättning",
            "starta_beredning",
            "chef",
        ),
        _Step(
            _at(day + timedelta(days=10), 0),
            "Digital samverkansplattform",
            "ta_tillbaka",
            "handlaggare",
            comment="Ersätts av ett regionalt initiativ.",
        ),
        _Step(
            _at(day + timedelta(days=16), 0),
            "Kompetensutveckling i motiverande samtal",
            "rekommendera",
            "chef",
            {
                "recommendation": "bevilja_med_villkor",
                "recommendation_motivation": "Tillstyrks om utbildningen öppnas för alla parters handläggare.",
                "conditions": "att utbildningen öppnas för alla parters handläggare",
            },
        ),
        _Step(
            _at(day + timedelta(days=16), 1),
            "Sommarjobb för unga med funktionsnedsättning",
            "rekommendera",
            "chef",
            {
                "recommendation": "avsla",
                "recommendation_motivation": "Ligger inom kommunens ordinarie ansvar; saknar samverkansvärde.",
            },
        ),
    ]
    for index, idea in enumerate(ideas):
        idea["when"] = _at(day, index)
    return ideas, steps


def _at_time(app: App, when: datetime) -> App:
    return dataclasses.replace(app, clock=fixed_clock(when))


def _run_steps(app: App, steps: list[_Step], refs: dict[str, str]) -> None:
    """Take the steps in the order they happened, each at its own time: a person's through
    `cases.fire`, the beredningsgrupp's recommendation through its record."""
    for step in sorted(steps, key=lambda s: s.when):
        if step.trigger == "rekommendera":
            beredning.record_recommendation(
                _at_time(app, step.when),
                ref=refs[step.case],
                actor_email=_email(step.actor),
                outcome=step.values["recommendation"],
                motivation=step.values["recommendation_motivation"],
                conditions=step.values.get("conditions"),
                forbund=SLUG,
            )
            continue
        view = cases.fire(
            _at_time(app, step.when),
            ref=refs[step.case],
            trigger=step.trigger,
            actor_email=_email(step.actor),
            forbund=SLUG,
            values=step.values,
            comment=step.comment,
        )
        refs[step.case] = view.ref  # registration gives the dnr


def load_demo(app: App) -> DemoResult:
    """Both demo förbund, each once: Ale, Kungälv, Stenungsund och Tjörn, then Norra
    Västmanland (the second in `also`). Their reminders are planned once at the end, as
    of today (planner.planning_deferred)."""
    from workflow.services.demo.logins import set_demo_passwords

    with planner.planning_deferred(app):
        result = load_akst(app)
        created = load_norra_vastmanland(app)
    # One login per role in each förbund, for the web (`finsam serve` prints them).
    if result.created:
        set_demo_passwords(app, SLUG)
    if created:
        set_demo_passwords(app, NV_SLUG)
    with app.db.reading() as session:
        second = session.exec(select(Forbund).where(Forbund.slug == NV_SLUG)).one()
        name = second.name
    counts = (
        (count_people(app, NV_SLUG), cases.count_cases(app, forbund=NV_SLUG)) if created else (0, 0)
    )
    result.also.append(DemoResult(NV_SLUG, name, created, *counts))
    return result


def load_akst(app: App) -> DemoResult:
    """The first demo förbund alone (seed 004), once."""
    with planner.planning_deferred(app):
        return _load_akst(app)


def _load_akst(app: App) -> DemoResult:
    now = app.clock()
    with app.db.transaction() as session:
        existing = session.exec(select(Forbund).where(Forbund.slug == SLUG)).first()
        if existing is not None:
            return DemoResult(SLUG, existing.name, False, 0, 0)
        # Founded as any förbund is: by the installation, every party and person an event.
        edit = found_in(
            app,
            session,
            slug=SLUG,
            name=NAME,
            dnr_pattern="{year}/{seq:03d}-01",
            orgnr=None,
            operator="finsam demo",
            channel="demo",
        )
        parties = {key: create_party_in(edit, kind=kind, name=name) for key, kind, name in PARTIES}
        for local_part, name, party, roles in PEOPLE:
            create_person_in(
                edit,
                name=name,
                email=_email(local_part),
                roles=roles,
                party=parties[party] if party else None,
            )
        # The 2012 diarium already held ten ärenden (the VP is 2012/008-01).
        reserve_numbers(session, edit.forbund, 2012, 10)

    refs: dict[str, str] = {}

    at = functools.partial(_at_time, app)
    names = {key: name for key, _, name in PARTIES}
    steps: list[_Step] = []
    for index, (title, owner, members, person, target, y13, y14) in enumerate(SEED_004):
        values: dict[str, Any] = {
            "title": title,
            "inriktning": "individ",
            "malgrupp": target,
            "syfte": "Samordnad rehabilitering så att deltagarna närmar sig arbete eller studier.",
            "mal": "Ökad egenförsörjning bland deltagarna; följs upp per kön i Uppföljning Finsam.",
            "start": "2013-01-01",
            "end": "2014-12-31",
            "owner_party": names[owner],
            "parties": [names[m] for m in members],
            "budget": {"2013": y13, "2014": y14},
            "followup_plan": FOLLOWUP,
        }
        if person:
            values["project_owner"] = _email(person)
        view = cases.submit_idea(
            at(_at(date(2012, 9, 3), index)),
            actor_email=_email("handlaggare"),
            values=values,
            forbund=SLUG,
        )
        refs[title] = view.ref
        steps.extend(_registered_2012(title, index))

    today = now.astimezone(STOCKHOLM).date()
    ideas, newer_steps = _newer(today)
    _run_steps(app, steps, refs)
    # Autumn 2012: the frame for 2013, the board's decision, then the avtal and a year of work.
    adopt_frame(app, SLUG, 2013)
    decide_seed_insatser(app, SLUG, [refs[seed[0]] for seed in SEED_004])
    load_funding_demo(app, SLUG)
    for idea in ideas:
        view = cases.submit_idea(
            at(idea["when"]),
            actor_email=_email(idea["by"]),
            values={"title": idea["title"], **idea["values"]},
            forbund=SLUG,
        )
        refs[idea["title"]] = view.ref
    _run_steps(app, newer_steps, refs)
    load_reminder_demo(app)
    load_meetings_demo(app, SLUG)
    # The meetings and reminders demos add insatser of their own: count what is there.
    return DemoResult(SLUG, NAME, True, len(PEOPLE), cases.count_cases(app, forbund=SLUG))
