"""Demo data for reminders: the register of governing documents, and three insatser whose
end dates exercise the calendar (an end-of-insats reminder on the days daylight saving time
starts and ends in 2026, and one insats closed early that must get none). The three were
granted together by the board on 2025-06-05 and run under avtal from 2025-09-01; the board
stopped the third on 2025-12-04, each step through the real services.

Domain.md §9 record 10 (the LSG policy 2019–2022) is registered as decided; it is overdue.
Dates of the förbund's own documents are relative to the day the demo is loaded.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timedelta
from typing import Any

from workflow.app import App
from workflow.clock import STOCKHOLM, fixed_clock, local_date
from workflow.services import cases
from workflow.services.board import beredning
from workflow.services.demo.meetings import hold_board_meeting
from workflow.services.funding import agreements
from workflow.services.policies import documents as policies

CHEF = "chef@akst.example"

# (title, owner party, parties, project owner, start, end, closed early?)
INSATSER: list[tuple[str, str, list[str], str, date, date, bool]] = [
    (
        "Arbetsträning i samverkan, Ale",
        "Ale kommun",
        ["Ale kommun", "Arbetsförmedlingen", "Försäkringskassan"],
        "projektagare.ale@akst.example",
        date(2025, 9, 1),
        date(2026, 7, 27),  # end -120 d = 2026-03-29, the day summer time starts
        False,
    ),
    (
        "Hälsofrämjande gruppverksamhet i Kungälv",
        "Kungälvs kommun",
        ["Kungälvs kommun", "Västra Götalandsregionen", "Försäkringskassan"],
        "projektagare@akst.example",
        date(2025, 9, 1),
        date(2027, 2, 22),  # end -120 d = 2026-10-25, the day summer time ends
        False,
    ),
    (
        "Motivationsgrupp Stenungsund",
        "Stenungsunds kommun",
        ["Stenungsunds kommun", "Arbetsförmedlingen"],
        "projektagare.stenungsund@akst.example",
        date(2025, 9, 1),
        date(2027, 6, 30),
        True,  # avbruten 2025-12: no end-of-insats reminder
    ),
]


def _at(day: date, minute: int = 0) -> datetime:
    return datetime.combine(day, time(10, 0), STOCKHOLM) + timedelta(minutes=minute)


def _drive_insatser(app: App) -> None:
    def at(when: datetime) -> App:
        return dataclasses.replace(app, clock=fixed_clock(when))

    refs: list[str] = []
    for index, (title, owner, parties, person, start, end, _) in enumerate(INSATSER):
        values: dict[str, Any] = {
            "title": title,
            "inriktning": "individ",
            "malgrupp": "Personer 18–64 år i behov av samordnat stöd mot arbete",
            "syfte": "Samordnat stöd så att deltagarna närmar sig arbete eller studier.",
            "mal": "Minst 30 % av deltagarna i arbete eller studier efter insatsen.",
            "start": start.isoformat(),
            "end": end.isoformat(),
            "owner_party": owner,
            "parties": parties,
            "project_owner": person,
            "budget": {str(y): 400 for y in range(start.year, end.year + 1)},
            "followup_plan": "Delårsrapport 30 juni, helårsrapport 31 december.",
        }
        view = cases.submit_idea(
            at(_at(date(2025, 4, 1), index)),
            actor_email="handlaggare@akst.example",
            values=values,
            forbund="akst",
        )
        for day, trigger, actor in (
            (date(2025, 4, 7), "registrera", "sekreterare"),
            (date(2025, 4, 22), "starta_beredning", "chef"),
        ):
            view = cases.fire(
                at(_at(day, index)),
                ref=view.ref,
                trigger=trigger,
                actor_email=f"{actor}@akst.example",
                forbund="akst",
            )
        beredning.record_recommendation(
            at(_at(date(2025, 5, 12), index)),
            ref=view.ref,
            actor_email=CHEF,
            outcome="bevilja",
            motivation="Tydlig samverkansvinst.",
            forbund="akst",
        )
        refs.append(view.ref)
    hold_board_meeting(
        app, "akst", date(2025, 6, 5), time(13, 0), time(16, 0), "Ale", "ledamot.fk", [], refs
    )
    for ref in refs:
        agreements.create(at(_at(date(2025, 8, 15))), ref=ref, actor_email=CHEF, forbund="akst")
        agreements.sign(
            at(_at(date(2025, 8, 20))),
            ref=ref,
            actor_email=CHEF,
            forbund="akst",
            forbund_signed_on=date(2025, 8, 20),
            owner_signed_on=date(2025, 8, 20),
        )
    agreements.start_due(at(_at(date(2025, 9, 1), 0)), actor_email=CHEF, forbund="akst")
    stopped: list[tuple[str, str, str | None]] = [
        (ref, "avbruten", "för få deltagare; parterna driver stödet i ordinarie verksamhet")
        for ref, insats in zip(refs, INSATSER, strict=True)
        if insats[-1]
    ]
    hold_board_meeting(
        app, "akst", date(2025, 12, 4), time(13, 0), time(16, 0), "Tjörn", "ledamot.af", [], [],
        closings=stopped,
    )  # fmt: skip


def _register_documents(app: App) -> None:
    today = local_date(app.clock(), app.settings.zone)
    last_year = today.year - 1
    documents: list[dict[str, Any]] = [
        {
            "kind": "forbundsordning",
            "title": "Förbundsordning för Samordningsförbundet Ale, Kungälv, Stenungsund och Tjörn",
            "decided_on": date(2008, 11, 20),
            "decided_by": "Medlemmarnas fullmäktige och styrelser",
        },
        {
            "kind": "delegationsordning",
            "title": "Delegationsordning",
            "decided_on": date(last_year, 2, 14),
            "decided_by": "Styrelsen",
        },
        {
            "kind": "verksamhetsplan",
            "title": f"Verksamhetsplan och budget {today.year}",
            "decided_on": date(last_year, 11, 27),
            "decided_by": "Styrelsen",
            "dnr": f"{last_year}/009-01",
        },
        {
            "kind": "policy",
            "title": f"Policy för samverkan {today.year}–{today.year + 3}",
            "decided_on": date(last_year, 12, 12),
            "decided_by": "Styrelsen",
            "owner_email": "sekreterare@akst.example",
        },
        {
            # domain.md §9 record 10 (seed 002): renewed every fourth year by 31 December.
            "kind": "policy",
            "title": "Policydokument 2019–2022, LSG Örnsköldsvik",
            "decided_on": date(2018, 12, 11),
            "decided_by": "Lokala samverkansgruppen",
        },
    ]
    for document in documents:
        if document["decided_on"] > today:
            continue
        policies.register(app, actor_email=CHEF, forbund="akst", **document)


def load_reminder_demo(app: App) -> None:
    """Called once at the end of demo.load_demo."""
    _drive_insatser(app)
    _register_documents(app)
