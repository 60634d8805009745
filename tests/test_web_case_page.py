"""The case page: every field, the budget, the recommendation beside the state, the history
and the lifecycle; the steps this person may take now as forms, generated from the lifecycle
and judged by the service; refusals, conflicts and extra fields change nothing."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from tests.support import sqlite_by_default
from tests.web_support import BASE_URL, ClientFactory, WebClient
from workflow.app import App
from workflow.errors import NotPermitted
from workflow.models import AuditEvent, Forbund, Insats, Person
from workflow.services import cases
from workflow.services.access.sessions import create_session
from workflow.services.cases.records import case_ref
from workflow.services.demo.logins import demo_login
from workflow.vocabulary import Role
from workflow.web.deps import SESSION_COOKIE
from workflow.web.forms import case_url

DECIDED = "Utgångspunkten"  # a 2012 insats: bifall, granted budget, pågående
IDEA = "Samordnat stöd för unga med aktivitetsersättning"  # handlaggare@akst's idea
REGISTERED = "IPS – individanpassat stöd till arbete i Ale"  # inkommen

_TRIGGER = re.compile(r'name="trigger" value="([^"]+)"')
_VERSION = re.compile(r'name="version" value="(\d+)"')


def _case(app: App, title: str) -> Insats:
    with app.db.reading() as session:
        case = session.execute(
            select(Insats)
            .join(Forbund, Forbund.id == Insats.forbund_id)  # type: ignore[arg-type]
            .where(Insats.title == title, Forbund.slug == "akst")
        ).scalar_one()
        session.expunge(case)
        return case


def _ref(app: App, title: str) -> str:
    return case_ref(_case(app, title))


def _snapshot(app: App, title: str) -> tuple[Any, ...]:
    case = _case(app, title)
    with app.db.reading() as session:
        events = session.execute(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.subject_kind == "insats", AuditEvent.subject_id == case.id)
        ).scalar_one()
    return (case.state, case.version, case.dnr, dict(case.budget_requested), case.malgrupp, events)


class _FormReader(HTMLParser):
    """The fields a browser would send for the form of one step, as the page fills them."""

    def __init__(self, trigger: str) -> None:
        super().__init__()
        self.trigger = trigger
        self.forms: list[list[tuple[str, str]]] = []
        self.current: list[tuple[str, str]] | None = None
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.current = []
            self.forms.append(self.current)
        if self.current is None:
            return
        if tag == "input" and a.get("name"):
            if a.get("type") == "checkbox" and "checked" not in a:
                return
            self.current.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self.select = a["name"]
        elif tag == "option" and self.select and "selected" in a:
            self.current.append((self.select, a.get("value", "")))
        elif tag == "textarea":
            self.textarea = a["name"]
            self.current.append((a["name"], ""))

    def handle_data(self, data: str) -> None:
        if self.textarea and self.current is not None:
            name, value = self.current.pop()
            self.current.append((name, value + data))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def fields(self) -> list[tuple[str, str]]:
        return next((f for f in self.forms if ("trigger", self.trigger) in f), [])


def form_of(page: str, trigger: str) -> list[tuple[str, str]]:
    reader = _FormReader(trigger)
    reader.feed(page)
    return [(k, v) for k, v in reader.fields() if k != "csrf_token"]


def _offered(page: str) -> list[str]:
    return _TRIGGER.findall(page)


def _post_step(
    client: WebClient,
    ref: str,
    trigger: str,
    version: int | None = None,
    *,
    token: str | None = None,
    **fields: Any,
) -> Any:
    """Post the step's form as a browser sends it (the page's values, `fields` replacing
    theirs); with `version` and `token` given, only the trigger, version and `fields`, without
    reading the page first."""
    url = case_url(ref)
    page = client.get(url).text if version is None or token is None else ""
    if version is None:  # the version the page shows (a page without forms shows it too)
        found = re.search(r"<dt>Version</dt><dd>(\d+)</dd>", page)
        assert found, url
        version = int(found.group(1))
    sent = [(k, v) for k, v in form_of(page, trigger) if k not in fields and k != "version"]
    sent += [("trigger", trigger)] if not sent else []
    sent.append(("version", str(version)))
    for key, value in fields.items():
        sent += [(key, v) for v in value] if isinstance(value, list) else [(key, value)]
    body = urlencode([*sent, ("csrf_token", token or client.csrf(url))])
    return client.post(
        f"{url}/steg",
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )


def test_the_case_page_shows_fields_budget_recommendation_and_history(
    client_as: ClientFactory, demo_app: App
) -> None:
    ref = _ref(demo_app, DECIDED)
    assert "/" in ref  # a diarienummer: its slash stays in the address
    page = client_as(Role.SEKRETERARE).get(case_url(ref))
    assert page.status_code == 200, page.text
    text = page.text
    shown = cases.get_case(demo_app, ref=ref, forbund="akst")
    assert f"{ref}</span> {DECIDED}" in text
    for value in (shown.malgrupp, shown.syfte, shown.mal, shown.owner_party, shown.followup_plan):
        assert value and value in text
    for party in shown.parties:
        assert f"<li>{party}</li>" in text
    # The budget per year, requested and granted, side by side.
    assert re.search(r"<th scope=\"row\">2013</th><td>1\u202f500</td><td>1\u202f500</td>", text)
    # The recommendation is shown beside the state, and said not to be the decision.
    status = text[text.index('class="case-status"') : text.index("</dl>")]
    assert "Pågående" in status and "Bevilja" in status and "styrelsen beslutar" in status
    # The history in Swedish: who, when, what.
    history = text[text.index('id="historik-rubrik"') :]
    assert "2012-09-10 kl. 10.00" in history and "sekreterare@akst.example" in history
    assert "Registrera ansökan (ger diarienummer) (Idé → Inkommen)" in history
    assert f"diarienummer {ref}" in history
    # The lifecycle with the current state marked, and where the board's steps happen.
    current = re.findall(
        r'<li class="[^"]*--current" aria-current="step">\s*<span[^>]*>([^<]+)', text
    )
    assert current == ["Pågående"]
    assert "i styrelsens protokoll" in text


@sqlite_by_default
def test_the_lifecycle_picture_draws_every_state_and_step_once_with_the_current_marked(
    client_as: ClientFactory, demo_app: App
) -> None:
    ref = _ref(demo_app, DECIDED)
    text = client_as(Role.SEKRETERARE).get(case_url(ref)).text
    svg = ElementTree.fromstring(text[text.index("<svg") : text.index("</svg>") + len("</svg>")])
    ns = {"s": "http://www.w3.org/2000/svg"}
    assert svg.get("role") == "img" and svg.get("width") == "100%" and svg.get("viewBox")
    assert f'id="{svg.get("aria-describedby")}"' in text  # the list is its text alternative
    title = svg.find("s:title", ns)
    assert title is not None and "Pågående" in (title.text or "")
    lifecycle = demo_app.lifecycles[cases.SUBJECT].lifecycle
    boxes = svg.findall(".//s:g[@data-state]", ns)
    assert [b.get("data-state") for b in boxes] == list(lifecycle.states)
    current = [b for b in boxes if "lc-state--current" in (b.get("class") or "")]
    assert [b.get("data-state") for b in current] == ["pagaende"]
    # Marked by more than colour: the word "Nu" in the box (the border is in the CSS).
    assert "Nu" in ["".join(t.itertext()) for t in current[0].findall("s:text", ns)]
    passed = {b.get("data-state") for b in boxes if "--passed" in (b.get("class") or "")}
    assert {"ide", "inkommen", "avtal"} <= passed and "pagaende" not in passed
    final = {b.get("data-state") for b in boxes if "--final" in (b.get("class") or "")}
    assert final == {name for name, state in lifecycle.states.items() if state.final}
    drawn = [
        (p.get("data-trigger"), p.get("data-from"), p.get("data-to"))
        for p in svg.findall(".//s:path[@data-trigger]", ns)
    ]
    steps = [(t.trigger, s, t.dest) for t in lifecycle.transitions for s in t.sources]
    assert sorted(drawn) == sorted(steps) and len(set(drawn)) == len(drawn)
    assert "style=" not in text[text.index("<svg") : text.index("</svg>")]  # the CSP allows none


def test_a_case_the_person_may_not_see_is_not_found(
    client_as: ClientFactory, demo_app: App
) -> None:
    # The projektägare owns none of the handläggare's ideas; another förbund's person sees none.
    ref = _ref(demo_app, IDEA)
    for client in (client_as(Role.PROJEKTAGARE), client_as(Role.SEKRETERARE, "nv")):
        answer = client.get(case_url(ref))
        assert answer.status_code == 404 and ref in answer.text
        # The service's words, without the command-line way out the CLI and API give.
        assert "finsam cases list" not in answer.text
    assert client_as(Role.SEKRETERARE).get(case_url("ide-9999")).status_code == 404


def _place(app: App, title: str, state: str, person_email: str) -> None:
    """Put the case in `state`, submitted and owned by this person: the test is about who may
    act where, not about getting there."""
    with app.db.transaction() as session:
        person_id = session.execute(
            select(Person.id).where(Person.email == person_email)
        ).scalar_one()
        session.execute(
            update(Insats)
            .where(Insats.title == title)  # type: ignore[arg-type]
            .values(state=state, project_owner_id=person_id, submitted_by_id=person_id)
        )


def _pairs(lifecycle: Any, full: bool) -> list[tuple[str, Role]]:
    """Every state with every role (full), or by default every state with, for each step
    people take there, one role that may take it, and one more role in turn: every form the
    lifecycle can put on a page is still checked, in a fraction of the requests."""
    roles = list(Role)
    pairs = []
    for index, state in enumerate(lifecycle.states):
        acting = {sorted(t.roles)[index % len(t.roles)] for t in lifecycle.people_steps(state)}
        for role in roles:
            if full or role.value in acting or role == roles[index % len(roles)]:
                pairs.append((state, role))
    return pairs


def _signed_in(web: FastAPI, app: App, role: Role) -> WebClient:
    """A client with a session of the role's demo login, made by the session service without
    the password (each argon2 check takes a second; the login itself is tested elsewhere)."""
    with app.db.transaction() as session:
        person_id = session.execute(
            select(Person.id).where(Person.email == demo_login(role).email)
        ).scalar_one()
        token = create_session(app, session, person_id, app.clock(), method="test")
    client = WebClient(web, base_url=BASE_URL)
    client.cookies.set(SESSION_COOKIE, token)
    return client


def _check_offered_steps(web: FastAPI, demo_app: App, full: bool) -> None:
    """Generated from states/insats.yaml: for each state and role (on the role's own case),
    the forms on the page are exactly the steps roles and relation allow whose conditions
    hold or whose own fields can satisfy them; every step the service allows is among them;
    none is a service's step; a step refused to the role is refused when posted, in the
    service's words, and changes nothing."""
    lifecycle = demo_app.lifecycles["insats"].lifecycle
    ref = _ref(demo_app, REGISTERED)
    clients: dict[Role, WebClient] = {}
    tokens: dict[Role, str] = {}
    posted: set[tuple[Role, str]] = set()
    pairs = _pairs(lifecycle, full)
    for state, role in pairs:
        if role not in clients:
            clients[role] = _signed_in(web, demo_app, role)
            tokens[role] = clients[role].csrf("/")
        client = clients[role]
        who = demo_login(role).email
        _place(demo_app, REGISTERED, state, who)
        page = client.get(case_url(ref))
        assert page.status_code == 200, (state, role)
        offered = _offered(page.text)
        steps = cases.steps_for(demo_app, ref=ref, actor_email=who, forbund="akst")
        available = {t.trigger for t in lifecycle.available(state, {role.value})}
        assert len(offered) == len(set(offered)), (state, role)
        assert set(offered) <= available, (state, role, offered)
        assert {s.trigger for s in steps if s.allowed} <= set(offered), (state, role)
        expected = {s.trigger for s in steps if s.allowed or (s.permitted and s.fields)}
        assert set(offered) == expected, (state, role)
        services = {t.trigger for t in lifecycle.transitions if t.service and state in t.sources}
        assert not services & set(offered)
        # Each step refused to a role is posted once (in the first state it is refused in).
        before = _snapshot(demo_app, REGISTERED)
        for step in steps:
            if step.trigger in offered or step.permitted or (role, step.trigger) in posted:
                continue
            answer = _post_step(
                client, ref, step.trigger, before[1], token=tokens[role], comment="motivering"
            )
            assert answer.status_code == 403, (state, role, step.trigger)
            assert step.label in answer.text
            posted.add((role, step.trigger))
        assert _snapshot(demo_app, REGISTERED) == before, (state, role)
    assert {state for state, _ in pairs} == set(lifecycle.states)
    assert posted
    if not full:
        return
    assert len(pairs) == len(lifecycle.states) * len(Role)
    # Every role was refused, when posting, every people's step it may never take.
    for role in Role:
        never = {
            t.trigger
            for t in lifecycle.transitions
            if t.service is None and role.value not in t.roles
        }
        assert never <= {trigger for who, trigger in posted if who == role}, role


def test_the_steps_offered_are_the_ones_the_service_allows_in_every_state(
    web: FastAPI, demo_app: App
) -> None:
    _check_offered_steps(web, demo_app, full=False)


@pytest.mark.full
def test_the_steps_offered_are_the_ones_the_service_allows_for_every_role_in_every_state(
    web: FastAPI, demo_app: App
) -> None:
    _check_offered_steps(web, demo_app, full=True)


def test_a_step_not_allowed_is_refused_with_the_services_reason(
    client_as: ClientFactory, demo_app: App
) -> None:
    ref = _ref(demo_app, IDEA)
    handlaggare = client_as(Role.HANDLAGGARE)
    assert _offered(handlaggare.get(case_url(ref)).text) == ["ta_tillbaka"]
    before = _snapshot(demo_app, IDEA)
    answer = _post_step(handlaggare, ref, "registrera")
    assert answer.status_code == 403
    try:
        cases.fire(demo_app, ref=ref, trigger="registrera", actor_email="handlaggare@akst.example")
    except NotPermitted as error:
        reason = str(error)
    assert reason[:1].upper() + reason[1:] in answer.text.replace("&#39;", "'").replace(
        "&#34;", '"'
    )
    assert _snapshot(demo_app, IDEA) == before


def test_a_service_step_is_not_a_form_and_posting_it_says_where_it_happens(
    client_as: ClientFactory, demo_app: App
) -> None:
    title = "Språkstöd och arbetsträning för nyanlända"  # under beredning
    ref = _ref(demo_app, title)
    chef = client_as(Role.FORBUNDSCHEF)
    page = chef.get(case_url(ref)).text
    assert "rekommendera" not in _offered(page) and "begar_komplettering" in _offered(page)
    assert "görs i beredningens rekommendation" in page
    before = _snapshot(demo_app, title)
    answer = _post_step(chef, ref, "rekommendera", recommendation="bevilja")
    assert answer.status_code == 403 and "beredningens rekommendation" in answer.text
    assert _snapshot(demo_app, title) == before


def test_registering_an_idea_gives_it_a_dnr_and_comes_back_with_a_notice(
    client_as: ClientFactory, demo_app: App
) -> None:
    ref = _ref(demo_app, IDEA)
    sekreterare = client_as(Role.SEKRETERARE)
    page = sekreterare.get(case_url(ref)).text
    assert "registrera" in _offered(page)
    answer = _post_step(sekreterare, ref, "registrera", comment="Komplett nog")
    assert answer.status_code == 303, answer.text
    dnr = _case(demo_app, IDEA).dnr
    assert dnr and answer.headers["location"] == f"{case_url(dnr)}?klart=registrera"
    shown = sekreterare.get(answer.headers["location"])
    assert "Klart: ”Registrera ansökan (ger diarienummer)”." in shown.text
    assert f"<dd>{dnr}</dd>" in shown.text and "Komplett nog" in shown.text


def test_a_change_since_the_page_was_read_is_a_conflict_and_changes_nothing(
    client_as: ClientFactory, demo_app: App
) -> None:
    ref = _ref(demo_app, REGISTERED)
    chef = client_as(Role.FORBUNDSCHEF)
    seen = int(_VERSION.findall(chef.get(case_url(ref)).text)[0])
    # Someone else asks for komplettering meanwhile.
    other = client_as(Role.SEKRETERARE)
    assert _post_step(other, ref, "begar_komplettering", comment="Saknar budget").status_code == 303
    before = _snapshot(demo_app, REGISTERED)
    answer = _post_step(chef, ref, "starta_beredning", version=seen)
    assert answer.status_code == 409
    assert "Någon annan har ändrat ärendet" in answer.text
    assert f'href="{case_url(ref)}"' in answer.text and "Ladda om ärendet" in answer.text
    assert "Komplettering" in answer.text  # the state it is in now
    assert _snapshot(demo_app, REGISTERED) == before


def test_a_field_the_step_does_not_record_is_refused_not_dropped(
    client_as: ClientFactory, demo_app: App
) -> None:
    ref = _ref(demo_app, IDEA)
    sekreterare = client_as(Role.SEKRETERARE)
    before = _snapshot(demo_app, IDEA)
    answer = _post_step(sekreterare, ref, "registrera", recommendation="bevilja")
    assert answer.status_code == 400
    assert "kan inte anges i detta steg" in answer.text
    unknown = _post_step(sekreterare, ref, "registrera", hemligt="x")
    assert unknown.status_code == 400 and "okänt fält" in unknown.text.lower()
    # A step recording no fields at all refuses one too.
    chef = client_as(Role.FORBUNDSCHEF)
    extra = _post_step(chef, ref, "ta_tillbaka", malgrupp="Alla")
    assert extra.status_code == 400 and "kan inte anges i detta steg" in extra.text
    assert _snapshot(demo_app, IDEA) == before


def test_a_step_whose_fields_fall_short_shows_why_beside_the_kept_input(
    client_as: ClientFactory, demo_app: App
) -> None:
    ref = _ref(demo_app, IDEA)
    sekreterare = client_as(Role.SEKRETERARE)
    before = _snapshot(demo_app, IDEA)
    # Two kommuner are one party: registration needs two.
    answer = _post_step(
        sekreterare,
        ref,
        "registrera",
        parties=["Kungälvs kommun", "Ale kommun"],
        owner_party="Kungälvs kommun",
        malgrupp="Unga vuxna i Kungälv och Ale",
    )
    assert answer.status_code == 400
    assert "minst två krävs och alla kommuner räknas som en part" in answer.text
    assert "Unga vuxna i Kungälv och Ale</textarea>" in answer.text
    assert re.search(r'value="Ale kommun" checked', answer.text)
    # A personnummer is refused beside its field.
    pnr = _post_step(sekreterare, ref, "registrera", syfte="Stöd till 19121212-1212")
    assert pnr.status_code == 400
    assert 'id="steg-registrera-syfte-fel"' in pnr.text and "personnummer" in pnr.text
    assert _snapshot(demo_app, IDEA) == before


def test_a_form_without_the_version_seen_is_refused(
    client_as: ClientFactory, demo_app: App
) -> None:
    ref = _ref(demo_app, IDEA)
    client = client_as(Role.SEKRETERARE)
    before = _snapshot(demo_app, IDEA)
    url = case_url(ref)
    answer = client.post_form(f"{url}/steg", {"trigger": "registrera"}, token_from=url)
    assert answer.status_code == 400 and "versionen du såg" in answer.text
    assert _snapshot(demo_app, IDEA) == before


def test_a_step_needs_the_csrf_token(client_as: ClientFactory, demo_app: App) -> None:
    ref = _ref(demo_app, IDEA)
    client = client_as(Role.SEKRETERARE)
    before = _snapshot(demo_app, IDEA)
    forged = client.post(f"{case_url(ref)}/steg", data={"trigger": "registrera", "version": "1"})
    assert forged.status_code == 403 and _snapshot(demo_app, IDEA) == before


def test_a_step_that_is_not_one_of_the_state_is_no_conflict_page(
    client_as: ClientFactory, demo_app: App
) -> None:
    ref = _ref(demo_app, IDEA)
    chef = client_as(Role.FORBUNDSCHEF)
    before = _snapshot(demo_app, IDEA)
    answer = _post_step(chef, ref, "avsluta", comment="slut")
    assert answer.status_code in {403, 409}
    assert "Någon annan har ändrat ärendet" not in answer.text
    assert "Insatsen avslutas" in answer.text
    assert _snapshot(demo_app, IDEA) == before
