"""Meetings on the web: the calendar and the year's list, creating and editing a meeting,
attendance, the agenda builder (standard items, cases ready for decision, order moved by plain
buttons, a draft decision beside the application) and the kallelse sent through the outbox.
Who may: the förbundschef and the sekreterare change, the board reads, another förbund gets
404; a stale form is the conflict page and changes nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.web_support import ClientFactory, WebClient
from workflow.app import App
from workflow.models import AuditEvent, OutboxMessage
from workflow.services import cases
from workflow.services.board import beredning, views
from workflow.services.board.views import MeetingView
from workflow.vocabulary import Role

# Only SQLite here: the services beneath are tested on both databases, and the browser journey
# (tests/test_web_board_browser.py) runs these pages on both.
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

UNDER_BEREDNING = "Språkstöd och arbetsträning för nyanlända"


def _next_meeting(app: App) -> MeetingView:
    """The demo's coming board meeting: a week ahead, its agenda still to be built."""
    year = views.year_meetings(app, year=2026, forbund="akst")
    return next(m for m in year if not m.items)


def _recommend(app: App, title: str = UNDER_BEREDNING) -> str:
    page = cases.list_cases(app, forbund="akst", filters=cases.CaseFilter(text=title), limit=10)
    ref = page.items[0].ref
    beredning.record_recommendation(
        app,
        ref=ref,
        actor_email="chef@akst.example",
        outcome="bevilja",
        motivation="Gruppen tillstyrker.",
        forbund="akst",
    )
    return ref


def _two_ready(app: App) -> list[str]:
    """The demo's case under beredning and its received IPS application (put on beredning),
    both recommended: two cases ready for the board."""
    ips = "IPS – individanpassat stöd till arbete i Ale"
    received = cases.list_cases(app, forbund="akst", filters=cases.CaseFilter(text=ips), limit=1)
    cases.fire(
        app,
        ref=received.items[0].ref,
        trigger="starta_beredning",
        actor_email="chef@akst.example",
        forbund="akst",
    )
    return [_recommend(app), _recommend(app, ips)]


def _version(page: str) -> str:
    found = re.search(r'name="version" value="(\d+)"', page)
    assert found
    return found.group(1)


def _events(app: App, trigger: str) -> list[AuditEvent]:
    with app.db.reading() as session:
        return list(
            session.execute(select(AuditEvent).where(AuditEvent.trigger == trigger)).scalars()
        )


def test_the_calendar_and_the_years_list_show_every_organs_meetings(
    client_as: ClientFactory, demo_app: App
) -> None:
    coming = _next_meeting(demo_app)
    member = client_as(Role.STYRELSE_LEDAMOT)
    month = member.get(f"/moten?manad={coming.starts_at:%Y-%m}")
    assert month.status_code == 200
    assert f'href="/moten/{coming.id}"' in month.text and "Måndag" in month.text
    assert "Nytt möte" not in month.text  # a board member reads only
    year = member.get("/moten/lista?ar=2013")
    assert year.status_code == 200 and "2013-11-28" in year.text and "Anslaget" in year.text
    assert "Beredningsgruppen" in year.text
    assert member.get("/moten?manad=2026-13").status_code == 400
    assert client_as(Role.PROJEKTAGARE).get("/moten").status_code == 403
    page = member.get(f"/moten/{coming.id}")
    assert page.status_code == 200 and "Flytta upp" not in page.text
    assert "Spara närvaron" not in page.text


def test_the_sekreterare_creates_and_edits_a_meeting(
    client_as: ClientFactory, demo_app: App
) -> None:
    secretary = client_as(Role.SEKRETERARE)
    form = secretary.get("/moten/nytt")
    assert form.status_code == 200
    done = secretary.post_form(
        "/moten/nytt",
        {
            "organ": "beredningsgrupp:Beredningsgruppen",
            "date": "2027-01-20",
            "start": "9.00",
            "end": "11:30",
            "place": "Kungälv, kansliet",
            "kind": "ordinarie",
        },
        token_from="/moten/nytt",
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    url = done.headers["location"].split("?")[0]
    page = secretary.get(url).text
    assert "Beredningsgruppen" in page and "20 januari 2027" in page and "kl. 9.00" in page
    refused = secretary.post_form(
        f"{url}/andra",
        {"version": _version(page), "date": "2027-01-20", "start": "12:00", "end": "11:00",
         "place": "Ale"},
        token_from=url,
    )  # fmt: skip
    assert refused.status_code == 400 and "efter dess start" in refused.text
    edited = secretary.post_form(
        f"{url}/andra",
        {"version": _version(page), "date": "2027-01-21", "start": "10:00", "end": "",
         "place": "Ale", "kind": "extra"},
        token_from=url, follow_redirects=False,
    )  # fmt: skip
    assert edited.status_code == 303, edited.text
    page = secretary.get(url).text
    assert "21 januari 2027" in page and "Ale" in page and "Extra" in page
    stale = secretary.post_form(
        f"{url}/andra",
        {"version": "1", "date": "2027-01-22", "start": "10:00", "place": "Marstrand"},
        token_from=url,
    )
    assert stale.status_code == 409 and "Ingenting av det du skickade" in stale.text
    assert "Marstrand" not in secretary.get(url).text
    changes = _events(demo_app, "andra")
    assert (
        changes
        and changes[-1].channel == "web"
        and changes[-1].data["place"] == ["Kungälv, kansliet", "Ale"]
    )
    member = client_as(Role.STYRELSE_LEDAMOT)
    assert member.get("/moten/nytt").status_code == 403
    assert member.post_form(f"{url}/andra", {"version": "2"}, token_from="/").status_code == 403


def test_the_agenda_is_built_ordered_and_given_draft_decisions(
    client_as: ClientFactory, demo_app: App
) -> None:
    ref = _recommend(demo_app)
    coming = _next_meeting(demo_app)
    url = f"/moten/{coming.id}"
    chef = client_as(Role.FORBUNDSCHEF)
    page = chef.get(url).text
    assert "Ställ upp dagordningen med standardpunkter" in page
    built = chef.post_form(
        f"{url}/dagordning",
        {"version": _version(page)},
        token_from=url,
        follow_redirects=False,
    )  # standard items only: the ready case is offered beside them
    assert built.status_code == 303, built.text
    page = chef.get(url).text
    assert "Mötets öppnande" in page and "Ärenden redo för beslut" in page and ref in page
    added = chef.post_form(
        f"{url}/dagordning/arende",
        {"version": _version(page), "dnr": ref},
        token_from=url,
        follow_redirects=False,
    )
    assert added.status_code == 303, added.text
    view = views.get_meeting_by_id(demo_app, meeting_id=coming.id, forbund="akst")
    case_item = next(i for i in view.items if i.dnr == ref)
    assert case_item.proposal and case_item.proposal.startswith("Styrelsen beslutar att bevilja")
    opening = [i for i in view.items if i.kind in ("oppnande", "dagordning")]
    page = chef.get(url).text
    moved = chef.post_form(
        f"{url}/dagordning/flytta",
        {"version": _version(page), "item": str(opening[1].item_id), "riktning": "upp"},
        token_from=url,
        follow_redirects=False,
    )
    assert moved.status_code == 303
    assert moved.headers["location"].endswith(f"#flytta-upp-{opening[1].item_id}")
    order = [
        i.item_id
        for i in views.get_meeting_by_id(demo_app, meeting_id=coming.id, forbund="akst").items
    ]
    assert order.index(opening[1].item_id) < order.index(opening[0].item_id)
    top = chef.post_form(
        f"{url}/dagordning/flytta",
        {
            "version": _version(chef.get(url).text),
            "item": str(opening[1].item_id),
            "riktning": "upp",
        },
        token_from=url,
    )
    assert top.status_code == 400 and "redan först" in top.text
    stale = chef.post_form(
        f"{url}/dagordning/flytta",
        {"version": _version(page), "item": str(opening[0].item_id), "riktning": "upp"},
        token_from=url,
    )
    assert stale.status_code == 409
    item_url = f"{url}/punkt/{case_item.item_id}"
    item_page = chef.get(item_url).text
    assert "Ansökan" in item_page and "Gruppen tillstyrker." in item_page and "Syfte" in item_page
    written = chef.post_form(
        item_url,
        {"version": _version(item_page),
         "proposal": "Styrelsen beslutar att bevilja insatsen 400 tkr för 2027."},
        token_from=item_url, follow_redirects=False,
    )  # fmt: skip
    assert written.status_code == 303, written.text
    view = views.get_meeting_by_id(demo_app, meeting_id=coming.id, forbund="akst")
    assert next(i for i in view.items if i.dnr == ref).proposal.endswith("400 tkr för 2027.")  # type: ignore[union-attr]
    assert all(e.channel == "web" for e in _events(demo_app, "flytta_punkt"))
    assert _events(demo_app, "forslag_till_beslut")
    member = client_as(Role.STYRELSE_LEDAMOT)
    assert "Läs punkten" in member.get(url).text
    refused = member.post_form(
        item_url, {"version": str(view.version), "proposal": "Nej"}, token_from=url
    )
    assert refused.status_code == 403


def test_attendance_records_absence_and_an_ersattare_serving_for_whom(
    client_as: ClientFactory, demo_app: App
) -> None:
    coming = _next_meeting(demo_app)
    url = f"/moten/{coming.id}"
    secretary = client_as(Role.SEKRETERARE)
    page = secretary.get(url).text
    saved = secretary.post_form(
        f"{url}/narvaro",
        {
            "version": _version(page),
            "narvaro.ledamot.fk@akst.example": "franvarande",
            "tjanstgor.ersattare.fk@akst.example": "ledamot.fk@akst.example",
            "others": "Anna Svensson, revisor",
        },
        token_from=url,
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    view = views.get_meeting_by_id(demo_app, meeting_id=coming.id, forbund="akst")
    by_name = {a.name: a for a in view.attendance}
    assert by_name["Birgitta Nyman"].presence == "franvarande"
    assert by_name["Anna Wik"].presence == "tjanstgorande_ersattare"
    assert by_name["Anna Wik"].capacity == "tjänstgör för Birgitta Nyman"
    assert by_name["Anna Svensson"].capacity == "revisor"
    page = secretary.get(url).text
    assert 'value="ledamot.fk@akst.example" selected' in page
    too_many = secretary.post_form(
        f"{url}/narvaro",
        {"version": _version(page), "tjanstgor.ersattare.af@akst.example": "ledamot.fk@akst.example",
         "tjanstgor.ersattare.fk@akst.example": "ledamot.fk@akst.example"},
        token_from=url,
    )  # fmt: skip
    assert too_many.status_code == 400


def test_the_kallelse_is_previewed_sent_through_the_outbox_and_shown_as_sent(
    client_as: ClientFactory, demo_app: App
) -> None:
    coming = _next_meeting(demo_app)
    url = f"/moten/{coming.id}"
    secretary = client_as(Role.SEKRETERARE)
    secretary.post_form(
        f"{url}/dagordning",
        {"version": _version(secretary.get(url).text)},
        token_from=url,
    )
    preview = secretary.get(f"{url}/kallelse").text
    assert "Förhandsgranskning" in preview and "Mötets öppnande" in preview
    assert "ordforande@akst.example" in preview
    with demo_app.db.reading() as session:
        before = session.execute(select(func.count()).select_from(OutboxMessage)).scalar_one()
    sent = secretary.post_form(
        f"{url}/kallelse",
        {"version": _version(preview)},
        token_from=f"{url}/kallelse",
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    with demo_app.db.reading() as session:
        messages = list(
            session.execute(select(OutboxMessage).where(OutboxMessage.kind == "kallelse")).scalars()
        )
        after = session.execute(select(func.count()).select_from(OutboxMessage)).scalar_one()
    view = views.get_meeting_by_id(demo_app, meeting_id=coming.id, forbund="akst")
    called = {a.email for a in view.attendance if a.email}
    assert {m.to_address for m in messages} == called and after == before + len(called)
    assert all("Mötets öppnande" in m.text_body for m in messages)
    assert view.kallelse_sent_at is not None
    page = secretary.get(url).text
    assert "Kallelsen skickades" in page and "ordforande@akst.example" in page
    assert "Väntar på utskick" in page
    again = secretary.post_form(f"{url}/kallelse", {"version": _version(page)}, token_from=url)
    assert again.status_code == 409
    event = _events(demo_app, "kallelse_skickad")[-1]
    assert event.channel == "web" and sorted(event.data["recipients"]) == sorted(called)


def test_another_forbunds_meeting_is_not_found(client_as: ClientFactory, demo_app: App) -> None:
    coming = _next_meeting(demo_app)
    other: WebClient = client_as(Role.SEKRETERARE, "nv")
    assert other.get(f"/moten/{coming.id}").status_code == 404
    assert other.get(f"/moten/{coming.id}/kallelse").status_code == 404
    answer = other.post_form(f"/moten/{coming.id}/kallelse", {"version": str(coming.version)})
    assert answer.status_code == 404
    assert (
        views.get_meeting_by_id(demo_app, meeting_id=coming.id, forbund="akst").kallelse_sent_at
        is None
    )
