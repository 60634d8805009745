"""The demo förbund from seed 004, built through the real lifecycle."""

from __future__ import annotations

from collections import Counter

from tests.support import TravelClock
from workflow.app import App
from workflow.services import cases, demo
from workflow.services.cases import audit


def test_the_demo_holds_seed_004_in_its_states_with_a_whole_audit_trail(
    app: App, clock: TravelClock
) -> None:
    result = demo.load_demo(app)
    assert result.created
    listed = cases.list_cases(app, forbund=demo.SLUG)
    by_title = {c.title: c for c in listed}
    utgangspunkten = by_title["Utgångspunkten"]
    assert (utgangspunkten.dnr, utgangspunkten.state) == ("2012/011-01", "pagaende")
    assert utgangspunkten.budget_requested == {"2013": 1500, "2014": 750}
    assert by_title["Ale Teamet"].budget_requested == {"2013": 1160, "2014": 1218}
    states = Counter(c.state for c in listed)
    assert states["ide"] >= 2 and states["inkommen"] >= 1 and states["under_beredning"] >= 1
    assert states["pa_dagordning"] >= 1
    assert all(by_title[seed[0]].state == "pagaende" for seed in demo.SEED_004)
    history = cases.get_case(app, ref="2012/011-01", forbund=demo.SLUG).history
    assert history[0].at.year == 2012 and history[-1].trigger == "starta"
    with app.db.reading() as session:
        assert all(r.ok for r in audit.verify(session))
    assert not demo.load_demo(app).created  # a second run changes nothing
    assert len(cases.list_cases(app, forbund=demo.SLUG)) == len(listed)
