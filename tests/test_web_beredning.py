"""The beredningsgrupp's page: the cases under beredning beside their application, notes by
members, the recommendation recorded by the förbundschef, refusals and conflicts; the case page
shows the recommendation beside the state and never as the decision."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.web_support import ClientFactory
from workflow.app import App
from workflow.models import AuditEvent
from workflow.services import cases
from workflow.services.board import beredning
from workflow.vocabulary import Role
from workflow.web.forms import case_url

# Only SQLite: the pages read and call the services, which are tested on both databases.
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

UNDER_BEREDNING = "Språkstöd och arbetsträning för nyanlända"


def _ref(app: App, title: str = UNDER_BEREDNING) -> str:
    page = cases.list_cases(app, forbund="akst", filters=cases.CaseFilter(text=title), limit=50)
    return next(c.ref for c in page.items if c.title == title)


def test_the_group_sees_its_cases_beside_the_application_and_adds_a_note(
    client_as: ClientFactory, demo_app: App
) -> None:
    ref = _ref(demo_app)
    member = client_as(Role.BEREDNINGSGRUPP)
    page = member.get("/beredning")
    assert page.status_code == 200
    assert UNDER_BEREDNING in page.text and "Ansökan" in page.text
    assert "Syfte" in page.text and "Sökt budget" in page.text
    assert "Ny anteckning" in page.text
    assert "Registrera gruppens rekommendation" not in page.text  # only the förbundschef
    done = member.post_form(
        "/beredning/anteckning",
        {"ref": ref, "text": "Bra samverkan mellan parterna."},
        token_from="/beredning",
        follow_redirects=False,
    )
    assert done.status_code == 303
    after = member.get(done.headers["location"])
    assert "Anteckningen är sparad." in after.text
    assert "Bra samverkan mellan parterna." in after.text
    with demo_app.db.reading() as session:
        event = (
            session.execute(
                select(AuditEvent)
                .where(AuditEvent.trigger == "anteckna")
                .order_by(AuditEvent.id.desc())
            )
            .scalars()
            .first()
        )
    assert event is not None and event.channel == "web"


def test_the_forbundschef_records_the_recommendation_with_dissent(
    client_as: ClientFactory, demo_app: App
) -> None:
    ref = _ref(demo_app)
    chef = client_as(Role.FORBUNDSCHEF)
    case = cases.get_case(demo_app, ref=ref, forbund="akst")
    refused = chef.post_form(
        "/beredning/rekommendation",
        {
            "ref": ref,
            "version": str(case.version),
            "outcome": "komplettera",
            "motivation": "Oklart",
        },
        token_from="/beredning",
    )
    assert refused.status_code == 400
    assert "Det som saknas" in refused.text and "--missing" not in refused.text
    assert 'value="komplettera" required checked' in refused.text  # what was written is kept
    done = chef.post_form(
        "/beredning/rekommendation",
        {
            "ref": ref,
            "version": str(case.version),
            "outcome": "bevilja_med_villkor",
            "motivation": "Väl förankrad hos parterna.",
            "conditions": "att en delrapport lämnas efter ett år",
            "dissent": "Arbetsförmedlingen vill se en mindre budget.",
        },
        token_from="/beredning",
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    now = cases.get_case(demo_app, ref=ref, forbund="akst")
    assert now.state == "rekommenderad" and now.recommendation == "bevilja_med_villkor"
    view = beredning.get_beredning(demo_app, ref=ref, forbund="akst")
    assert view.recommendations[-1].dissent == "Arbetsförmedlingen vill se en mindre budget."
    assert not view.recommendations[-1].unanimous
    # No longer under beredning: off the group's page, and the case page shows the
    # recommendation beside the state, as a recommendation.
    assert UNDER_BEREDNING not in chef.get("/beredning").text
    page = chef.get(case_url(ref)).text
    status = re.search(r'<dl class="case-status">(.*?)</dl>', page, re.S)
    assert status is not None
    assert "Bevilja med villkor" in status.group(1)
    assert "en rekommendation; styrelsen beslutar" in status.group(1)
    assert "Tillstånd" in status.group(1) and "Rekommenderad" in status.group(1)


def test_a_stale_form_is_a_conflict_and_saves_nothing(
    client_as: ClientFactory, demo_app: App
) -> None:
    ref = _ref(demo_app)
    chef = client_as(Role.FORBUNDSCHEF)
    case = cases.get_case(demo_app, ref=ref, forbund="akst")
    answer = chef.post_form(
        "/beredning/rekommendation",
        {"ref": ref, "version": str(case.version - 1), "outcome": "bevilja", "motivation": "Ja."},
        token_from="/beredning",
    )
    assert answer.status_code == 409
    assert "Ingenting av det du skickade har sparats" in answer.text
    assert cases.get_case(demo_app, ref=ref, forbund="akst").state == "under_beredning"


def test_others_are_refused_and_another_forbunds_case_is_not_found(
    client_as: ClientFactory, demo_app: App
) -> None:
    ref = _ref(demo_app)
    assert client_as(Role.PROJEKTAGARE).get("/beredning").status_code == 403
    member = client_as(Role.BEREDNINGSGRUPP)
    version = cases.get_case(demo_app, ref=ref, forbund="akst").version
    refused = member.post_form(
        "/beredning/rekommendation",
        {"ref": ref, "version": str(version), "outcome": "bevilja", "motivation": "Ja."},
        token_from="/beredning",
    )
    assert refused.status_code == 403 and "förbundschef" in refused.text
    other = client_as(Role.FORBUNDSCHEF, "nv")
    answer = other.post_form(
        "/beredning/anteckning", {"ref": ref, "text": "Hej"}, token_from="/beredning"
    )
    assert answer.status_code == 404
    assert cases.get_case(demo_app, ref=ref, forbund="akst").state == "under_beredning"


def test_the_case_page_shows_the_recommendation_in_every_state_never_as_the_decision(
    client_as: ClientFactory, demo_app: App
) -> None:
    chef = client_as(Role.FORBUNDSCHEF)
    page = cases.list_cases(demo_app, forbund="akst", limit=500)
    seen = set()
    for case in page.items:
        if case.state in seen:
            continue
        seen.add(case.state)
        text = chef.get(case_url(case.ref)).text
        status = re.search(r'<dl class="case-status">(.*?)</dl>', text, re.S)
        assert status is not None, case.ref
        assert "Beredningens rekommendation" in status.group(1), case.ref
        if case.recommendation:
            assert "styrelsen beslutar" in status.group(1), case.ref
    assert len(seen) >= 5
