"""The demo förbund from seed 004, built through the real lifecycle and the real services."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlmodel import col, select

from tests.support import TravelClock
from workflow.app import App
from workflow.clock import local_date
from workflow.models import Agreement, Meeting, Paragraph, Protocol, Recommendation
from workflow.services import cases, demo
from workflow.services.cases import audit
from workflow.services.funding import budget

ENDED = {"Föreningspool Tjörn", "Jordhammars Växtkraft"}


def test_the_demo_holds_seed_004_in_its_states_with_a_whole_audit_trail(
    app: App, clock: TravelClock
) -> None:
    result = demo.load_demo(app)
    assert result.created
    listed = list(cases.iter_cases(app, forbund=demo.SLUG))
    by_title = {c.title: c for c in listed}
    utgangspunkten = by_title["Utgångspunkten"]
    assert (utgangspunkten.dnr, utgangspunkten.state) == ("2012/011-01", "pagaende")
    assert utgangspunkten.budget_requested == {"2013": 1500, "2014": 750}
    assert by_title["Ale Teamet"].budget_requested == {"2013": 1160, "2014": 1218}
    states = Counter(c.state for c in listed)
    assert states["ide"] >= 2 and states["inkommen"] >= 1 and states["under_beredning"] >= 1
    assert states["pa_dagordning"] >= 1
    # Two of them reached their end in 2014 and handed in their slutrapport.
    assert {seed[0]: by_title[seed[0]].state for seed in demo.SEED_004} == {
        seed[0]: "avslutas" if seed[0] in ENDED else "pagaende" for seed in demo.SEED_004
    }
    history = cases.get_case(app, ref="2012/011-01", forbund=demo.SLUG).history
    assert history[0].at.year == 2012 and history[-1].trigger == "starta"
    with app.db.reading() as session:
        assert all(r.ok for r in audit.verify(session))
    assert not demo.load_demo(app).created  # a second run changes nothing
    assert cases.count_cases(app, forbund=demo.SLUG) == len(listed)


def test_the_demos_2012_history_is_made_of_the_real_records(app: App) -> None:
    """Defect (issue 9): the demo fired the board's steps by hand, with "§ 45" typed on the case
    and an avtal date on it, so its history had no recommendation, no protocol § and no signed
    avtal behind it. Now each seed-004 insats has its recommendation, its bifall in §§ 45–50
    of the justerat protocol of 2012-11-23, its budget lines from that §, and a signed avtal."""
    demo.load_demo(app)
    by_title = {c.title: c for c in cases.iter_cases(app, forbund=demo.SLUG)}
    with app.db.reading() as session:
        for number, seed in enumerate(demo.SEED_004, start=45):
            case = by_title[seed[0]]
            assert session.exec(
                select(Recommendation).where(Recommendation.insats_id == case.id)
            ).all()
            paragraph, protocol, meeting = session.exec(
                select(Paragraph, Protocol, Meeting)
                .join(Protocol, col(Protocol.id) == col(Paragraph.protocol_id))
                .join(Meeting, col(Meeting.id) == col(Paragraph.meeting_id))
                .where(Paragraph.insats_id == case.id)
            ).one()
            assert (paragraph.number, paragraph.year, paragraph.decision) == (
                number,
                2012,
                "bifall",
            )
            assert protocol.status == "anslaget"
            assert local_date(meeting.starts_at) == date(2012, 11, 23)
            assert case.decision_paragraph == f"§ {number}/2012"
            agreement = session.exec(select(Agreement).where(Agreement.insats_id == case.id)).one()
            assert (agreement.status, agreement.forbund_signed_on, agreement.owner_signed_on) == (
                "undertecknat",
                date(2012, 12, 14),
                date(2012, 12, 12),
            )
            assert agreement.decision_paragraph == case.decision_paragraph
    lines = budget.lines_of(app, ref=by_title["Ale Teamet"].ref, forbund=demo.SLUG)
    assert [(v.year, v.granted_tkr, v.decision_paragraph) for v in lines] == [
        (2013, 1160, "§ 46"),
        (2014, 1218, "§ 46"),
    ]
    steps = [e.trigger for e in cases.get_case(app, ref="2012/012-01", forbund=demo.SLUG).history]
    assert steps == [
        "skapa",
        "registrera",
        "starta_beredning",
        "rekommendera",
        "satt_pa_dagordning",
        "bifall",
        "justera",
        "starta",
    ]
