"""The new idea form and the applicant's komplettering: the application's fields, validated
as the services validate them, with each refusal beside its field and the input kept."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import func, select, update

from tests.test_web_case_page import IDEA, _case, _offered, _post_step, _ref, form_of
from tests.web_support import ClientFactory, WebClient
from workflow.app import App
from workflow.errors import BadInput
from workflow.models import Insats
from workflow.services import cases
from workflow.services.demo.logins import demo_login
from workflow.vocabulary import Role
from workflow.web.forms import case_url

GOOD: list[tuple[str, str]] = [
    ("title", "Arbetsträning i Kungälv"),
    ("inriktning", "individ"),
    ("malgrupp", "Unga vuxna 19–29 år"),
    ("syfte", "Fler i arbete eller studier."),
    ("parties", "Kungälvs kommun"),
    ("parties", "Försäkringskassan"),
    ("owner_party", "Kungälvs kommun"),
    ("budget.2027", "400"),
    ("budget.2028", "350"),
    ("start", "2027-01-01"),
    ("end", "2028-12-31"),
]


def _count(app: App) -> int:
    with app.db.reading() as session:
        return int(session.execute(select(func.count()).select_from(Insats)).scalar_one())


def _send(client: WebClient, fields: list[tuple[str, str]]) -> httpx.Response:
    token = client.csrf("/ideer/ny")
    return client.post(
        "/ideer/ny",
        content=urlencode([*fields, ("csrf_token", token)]),
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )


def _replace(fields: list[tuple[str, str]], name: str, *values: str) -> list[tuple[str, str]]:
    return [(k, v) for k, v in fields if k != name] + [(name, v) for v in values]


def test_a_handlaggare_submits_an_idea_and_lands_on_its_page(
    client_as: ClientFactory, demo_app: App
) -> None:
    client = client_as(Role.HANDLAGGARE)
    page = client.get("/ideer/ny")
    assert page.status_code == 200
    for label in ("Titel", "Parter", "Sökt budget (tkr per år)", "Insatsägare", "Målgrupp"):
        assert label in page.text
    assert 'name="budget.2026"' in page.text and 'name="budget.2029"' in page.text
    answer = _send(client, [*GOOD, ("comment", "Från handläggargruppen")])
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].startswith("/arenden/ide-")
    shown = client.get(answer.headers["location"]).text
    assert "Idén är inlämnad." in shown and "Arbetsträning i Kungälv" in shown
    assert '<th scope="row">2027</th><td>400</td>' in shown
    ref = answer.headers["location"].removeprefix("/arenden/").split("?")[0]
    view = cases.get_case(demo_app, ref=ref, forbund="akst")
    assert sorted(view.parties) == ["Försäkringskassan", "Kungälvs kommun"]
    assert view.budget_requested == {"2027": 400, "2028": 350}
    assert view.history[0].comment == "Från handläggargruppen"
    assert view.history[0].actor == "handlaggare@akst.example"


def test_one_party_is_refused_beside_the_parties_with_the_input_kept(
    client_as: ClientFactory, demo_app: App
) -> None:
    client = client_as(Role.HANDLAGGARE)
    before = _count(demo_app)
    # All kommuner count as one party.
    answer = _send(client, _replace(GOOD, "parties", "Kungälvs kommun", "Ale kommun"))
    assert answer.status_code == 400
    assert 'id="idea-parties-fel"' in answer.text
    assert "minst två parter krävs och alla kommuner räknas som en part" in answer.text
    assert 'value="Arbetsträning i Kungälv"' in answer.text  # kept
    assert 'value="Ale kommun" checked' in answer.text
    assert 'name="budget.2027" inputmode="numeric" size="8" value="400"' in answer.text
    assert _count(demo_app) == before
    # The rule is the service's, the same for the CLI and the API: one party is refused...
    with pytest.raises(BadInput, match="minst två parter krävs"):
        cases.submit_idea(
            demo_app,
            actor_email=demo_login(Role.HANDLAGGARE).email,
            values={"title": "En part", "parties": ["Ale kommun", "Tjörns kommun"]},
            forbund="akst",
        )
    assert _count(demo_app) == before
    # ...and an idea that names no parties yet is taken on every channel: registration,
    # where the lifecycle asks for two, refuses it until they are named.
    none = _send(client, _replace(GOOD, "parties"))
    assert none.status_code == 303 and _count(demo_app) == before + 1


def test_a_personnummer_or_a_too_long_title_is_refused_beside_its_field(
    client_as: ClientFactory, demo_app: App
) -> None:
    client = client_as(Role.HANDLAGGARE)
    before = _count(demo_app)
    answer = _send(client, _replace(GOOD, "syfte", "Stöd till 19121212-1212 och andra"))
    assert answer.status_code == 400
    assert 'id="idea-syfte-fel"' in answer.text and "personnummer" in answer.text
    assert 'aria-invalid="true"' in answer.text
    long = _send(client, _replace(GOOD, "title", "T" * 201))
    assert long.status_code == 400 and 'id="idea-title-fel"' in long.text
    untitled = _send(client, _replace(GOOD, "title", ""))
    assert untitled.status_code == 400 and 'id="idea-title-fel"' in untitled.text
    bad_budget = _send(client, _replace(GOOD, "budget.2027", "mycket"))
    assert bad_budget.status_code == 400 and 'id="idea-budget-fel"' in bad_budget.text
    assert "inget belopp" in bad_budget.text
    assert _count(demo_app) == before


def test_a_field_the_idea_form_does_not_have_is_refused(
    client_as: ClientFactory, demo_app: App
) -> None:
    client = client_as(Role.HANDLAGGARE)
    before = _count(demo_app)
    answer = _send(client, [*GOOD, ("recommendation", "bevilja")])
    assert answer.status_code == 400 and "recommendation" in answer.text
    assert _count(demo_app) == before


def test_only_those_who_may_submit_ideas_get_the_form(client_as: ClientFactory) -> None:
    ledamot = client_as(Role.STYRELSE_LEDAMOT)
    assert ledamot.get("/ideer/ny").status_code == 403
    assert 'href="/ideer/ny"' not in ledamot.get("/").text
    assert 'href="/ideer/ny"' in client_as(Role.HANDLAGGARE).get("/").text


def test_the_applicant_supplements_their_own_application(
    client_as: ClientFactory, demo_app: App
) -> None:
    """Komplettering: the applicant gets the application's fields on the case page."""
    ref = _ref(demo_app, IDEA)
    with demo_app.db.transaction() as session:
        session.execute(
            update(Insats).where(Insats.title == IDEA).values(state="komplettering")  # type: ignore[arg-type]
        )
    handlaggare = client_as(Role.HANDLAGGARE)
    page = handlaggare.get(case_url(ref)).text
    assert "komplettering_inkommen" in _offered(page)
    fields = {name for name, _ in form_of(page, "komplettering_inkommen")}
    assert {"title", "malgrupp", "parties", "owner_party", "followup_plan"} <= fields
    assert "recommendation" not in fields and "decision_paragraph" not in fields
    answer = _post_step(
        handlaggare,
        ref,
        "komplettering_inkommen",
        followup_plan="Uppföljning i Uppföljning Finsam två gånger per år.",
        comment="Uppföljningsplan tillagd",
    )
    assert answer.status_code == 303, answer.text
    case = _case(demo_app, IDEA)
    assert case.state == "inkommen"
    assert case.followup_plan == "Uppföljning i Uppföljning Finsam två gånger per år."
    history = cases.get_case(demo_app, ref=ref, forbund="akst").history
    # Only what changed is recorded.
    assert history[-1].data["fields"] == {"followup_plan": case.followup_plan}
