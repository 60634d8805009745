"""The seed-004 board year 2013 in the demo data, and the demo's current meeting."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from workflow.app import App
from workflow.models import Paragraph
from workflow.services import cases, demo
from workflow.services.board import views
from workflow.services.board.views import MeetingView
from workflow.services.cases import audit


@pytest.fixture
def app(demo_app: App) -> App:
    """A copy of the demo (tests/web_support.py: loaded once per run, on its day, both
    databases), with the clock at that day."""
    return demo_app


def board_meetings(app: App, year: int) -> list[MeetingView]:
    return views.list_meetings(app, forbund=demo.SLUG, year=year, organ="styrelse").items


def test_the_demo_holds_the_seven_board_meetings_of_2013_each_justerat_and_anslaget(
    app: App,
) -> None:
    year = board_meetings(app, 2013)
    assert [(m.starts_at.date(), m.place) for m in year] == [
        (date(2013, 2, 22), "Ale"),
        (date(2013, 3, 20), "Kungälv"),
        (date(2013, 5, 20), "Tjörn"),
        (date(2013, 6, 14), "Stenungsund"),
        (date(2013, 9, 20), "Ale"),
        (date(2013, 10, 18), "Kungälv"),
        (date(2013, 11, 28), "Tjörn"),
    ]
    assert [f"{m.starts_at:%H.%M}" for m in year][:2] == ["13.00", "09.00"]
    assert {m.protocol.status for m in year} == {"anslaget"}  # type: ignore[union-attr]
    # §§ run 1, 2, 3 ... through the year without a gap or a repeat.
    paragraphs = [i.paragraph for m in year for i in m.items]
    assert paragraphs == list(range(1, len(paragraphs) + 1))
    for m in year:
        p = m.protocol
        assert p is not None and p.posted_on is not None and p.justerat_at is not None
        assert p.justerat_at.date() <= p.justering_due
        assert p.taken_down_on == p.posted_on + timedelta(weeks=3)

    # 20 March: the AF ledamot was away and the AF ersättare served.
    march = year[1]
    serving = [a.name for a in march.attendance if a.presence == "tjanstgorande_ersattare"]
    assert serving == ["Per Sund"]


def test_the_28_november_meeting_decided_two_applications_from_recommendation_to_justering(
    app: App,
) -> None:
    november = board_meetings(app, 2013)[-1]
    assert [i.paragraph for i in november.items] == list(range(61, 73))
    assert f"{november.kallelse_due:%Y-%m-%d}" == "2013-11-21"
    assert f"{november.kallelse_sent_at:%Y-%m-%d %H:%M}" == "2013-11-21 09:00"
    decided = {i.dnr: (i.recommendation, i.decision) for i in november.items if i.dnr}
    assert sorted(decided.values()) == [("avsla", "avslag"), ("bevilja", "bifall")]
    states = {dnr: cases.get_case(app, ref=dnr, forbund=demo.SLUG) for dnr in decided}
    by_decision = {decided[dnr][1]: view for dnr, view in states.items()}
    assert by_decision["bifall"].state == "avtal"
    assert by_decision["avslag"].state == "avslutad_avslag"
    granted_paragraph = next(i.paragraph for i in november.items if i.decision == "bifall")
    assert by_decision["bifall"].decision_paragraph == f"§ {granted_paragraph}/2013"
    # The bifall took effect at justering, by the justerare, after the ordförande signed.
    last = by_decision["bifall"].history[-1]
    assert (last.trigger, last.at.date()) == ("justera", date(2013, 12, 5))
    with app.db.reading() as session:
        assert audit.verify(session)[0].ok
        vp = session.exec(
            select(Paragraph).where(Paragraph.title == "Verksamhetsplan med budget 2014")
        ).one()
    assert vp.att_satser == [
        "att fastställa verksamhetsplan med budget 2014 om 6 635 tkr, varav 1 000 tkr utrymme för nya insatser"
    ]


def test_todays_meeting_was_held_and_awaits_its_protocol_and_the_next_one_its_agenda(
    app: App,
) -> None:
    today = app.clock().date()
    current = [
        m
        for m in board_meetings(app, today.year - 1) + board_meetings(app, today.year)
        + board_meetings(app, today.year + 1)
        if m.starts_at.date() >= today - timedelta(days=7)
    ]  # fmt: skip
    held, upcoming = current
    assert held.starts_at.date() == today - timedelta(days=4) and held.protocol is None
    assert upcoming.starts_at.date() > today and upcoming.items == []
    on_agenda = {i.title: i for i in held.items if i.dnr}
    assert set(on_agenda) == {
        "Ansökan om medel till insatsen Kompetensutveckling i motiverande samtal",
        "Ansökan om medel till insatsen Sommarjobb för unga med funktionsnedsättning",
        "Slutrapport för insatsen Föreningspool Tjörn",
    }
    competence = on_agenda[
        "Ansökan om medel till insatsen Kompetensutveckling i motiverande samtal"
    ]
    assert competence.recommendation == "bevilja_med_villkor"
    assert cases.get_case(app, ref=competence.dnr, forbund=demo.SLUG).state == "pa_dagordning"  # type: ignore[arg-type]
    final = on_agenda["Slutrapport för insatsen Föreningspool Tjörn"]
    assert (final.outcome, final.recommendation) == ("implementerad", None)
