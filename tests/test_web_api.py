"""The JSON API (/api/v1): the same rights as the service, versions, idempotency, problems.

Every expectation about who sees or may do what is read from the service itself
(workflow/services/cases), role by role over the demo, so the API cannot drift from the
pages and the CLI: it must answer exactly what the service answers for the same person.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.api_support import API, ApiClientFactory, full_size
from workflow.app import App
from workflow.errors import FinsamError
from workflow.models import AuditEvent, Insats
from workflow.models.api_access import IdempotentRequest
from workflow.services import cases
from workflow.services.demo.logins import demo_login
from workflow.vocabulary import Role
from workflow.web.api.schemas import IdeaIn

PROBLEM = "application/problem+json"
ROLES = list(Role)
STEP = "begar_komplettering"


def _count(app: App, model: Any) -> int:
    with app.db.reading() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def _all_refs(app: App, forbund: str = "akst") -> list[str]:
    return [view.ref for view in cases.list_cases(app, forbund=forbund, limit=500).items]


def _assert_problem(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM)
    body = answer.json()
    assert body["status"] == status
    assert body["type"].startswith("tag:finsam.invalid,2026:problem/")
    assert body["title"] and body["detail"]
    assert "Traceback" not in answer.text
    return dict(body)


def _service_error(call: Any) -> FinsamError | None:
    try:
        call()
    except FinsamError as error:
        return error
    return None


# -- reading: list, show, steps, each role as the service answers -------------------------


def _sample(app: App, full: bool) -> list[str]:
    """The cases a matrix walks: every case at full size, else one of each state and the
    demo projektägare's own (they see by ownership), in list order."""
    if full:
        return _all_refs(app)
    owner = demo_login(Role.PROJEKTAGARE).email
    seen: dict[str, str] = {}
    for view in cases.list_cases(app, forbund="akst", limit=500).items:
        seen.setdefault("owned" if view.project_owner == owner else view.state, view.ref)
    return sorted(set(seen.values()), key=_all_refs(app).index)


@pytest.mark.full
def test_each_role_lists_and_sees_exactly_what_the_service_lets_them_see(
    api_as: ApiClientFactory, demo_app: App, request: pytest.FixtureRequest
) -> None:
    sample = _sample(demo_app, full_size(request))
    for role in ROLES:
        email = demo_login(role).email
        visible = [
            v.ref
            for v in cases.list_cases(
                demo_app, forbund="akst", filters=cases.CaseFilter(viewer_email=email), limit=500
            ).items
        ]
        client = api_as(role)
        seen: list[str] = []
        after: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 7} | ({"after": after} if after else {})
            page = client.get(f"{API}/cases", params=params)
            assert page.status_code == 200, page.text
            seen += [item["ref"] for item in page.json()["items"]]
            after = page.json()["next_after"]
            if after is None:
                break
        assert seen == visible, role
        for ref in sample:
            shown = client.get(f"{API}/cases/{ref}")
            if ref not in visible:
                body = _assert_problem(shown, 404)
                assert (
                    body["detail"]
                    == f"inget ärende {ref!r} i förbundet akst; se 'finsam cases list'"
                )
                continue
            view = cases.get_case(demo_app, ref=ref, forbund="akst", viewer_email=email)
            assert shown.status_code == 200
            assert shown.headers["etag"] == f'"{view.version}"'
            body = shown.json()
            assert body["ref"] == ref and body["version"] == view.version
            assert [e["trigger"] for e in body["history"]] == [e.trigger for e in view.history]
            steps = client.get(f"{API}/cases/{ref}/steps")
            expected = cases.steps_for(demo_app, ref=ref, actor_email=email, forbund="akst")
            assert steps.status_code == 200
            assert [(s["trigger"], s["allowed"], s["reasons"]) for s in steps.json()["steps"]] == [
                (s.trigger, s.allowed, list(s.reasons)) for s in expected
            ]
        hidden = next((ref for ref in sample if ref not in visible), None)
        if hidden is not None:
            _assert_problem(client.get(f"{API}/cases/{hidden}/steps"), 404)


def test_filters_are_the_services_and_a_bad_one_is_a_400_problem(
    api_as: ApiClientFactory, demo_app: App
) -> None:
    client = api_as(Role.FORBUNDSCHEF)
    listed = client.get(f"{API}/cases", params={"state": ["pagaende", "avtal"], "year": 2025})
    expected = cases.list_cases(
        demo_app,
        forbund="akst",
        filters=cases.CaseFilter(states=("pagaende", "avtal"), year=2025),
        limit=500,
    )
    assert [i["ref"] for i in listed.json()["items"]] == [v.ref for v in expected.items]
    searched = client.get(f"{API}/cases", params={"q": "utgångs"})
    assert [i["title"] for i in searched.json()["items"]] == ["Utgångspunkten"]
    body = _assert_problem(client.get(f"{API}/cases", params={"state": "inget_sadant"}), 400)
    assert body["detail"].startswith("okänt tillstånd 'inget_sadant'") and body["exit_code"] == 2
    _assert_problem(client.get(f"{API}/cases", params={"limit": 0}), 400)
    _assert_problem(client.get(f"{API}/cases", params={"after": "inte-en-markor"}), 400)
    _assert_problem(client.get(f"{API}/cases", params={"q": "a\x00b"}), 400)


# -- another förbund: 404, logged ----------------------------------------------------------


def test_anything_of_another_forbund_is_not_found_and_the_attempt_is_logged(
    api_as: ApiClientFactory, demo_app: App
) -> None:
    theirs = _all_refs(demo_app, "nv")[0]
    mine = _all_refs(demo_app, "akst")
    client = api_as(Role.FORBUNDSCHEF, "nv")
    listed = client.get(f"{API}/cases", params={"limit": 500}).json()["items"]
    assert {i["ref"] for i in listed}.isdisjoint(set(mine) - {theirs})
    events_before = _count(demo_app, AuditEvent)
    for ref in mine[:3]:
        if ref == theirs:
            continue
        body = _assert_problem(client.get(f"{API}/cases/{ref}"), 404)
        assert body["detail"] == f"inget ärende {ref!r} i förbundet nv; se 'finsam cases list'"
        _assert_problem(client.get(f"{API}/cases/{ref}/steps"), 404)
        _assert_problem(
            client.post(f"{API}/cases/{ref}/steps/avsluta", json={}, headers={"If-Match": '"1"'}),
            404,
        )
    with demo_app.db.reading() as session:
        refused = (
            session.execute(select(AuditEvent).where(AuditEvent.trigger == "atkomst_nekad"))
            .scalars()
            .all()
        )
    assert len(refused) == 9 and _count(demo_app, AuditEvent) == events_before + 9
    assert {e.channel for e in refused} == {"api"}
    assert all(e.actor_email == demo_login(Role.FORBUNDSCHEF, "nv").email for e in refused)


# -- taking a step ----------------------------------------------------------------------------


def _fire(client: TestClient, ref: str, trigger: str, version: int | None, **body: Any) -> Any:
    headers = {"If-Match": f'"{version}"'} if version is not None else {}
    return client.post(f"{API}/cases/{ref}/steps/{trigger}", json=body, headers=headers)


def test_a_step_needs_the_version_seen_428_without_it_409_when_stale(
    api_as: ApiClientFactory, demo_app: App
) -> None:
    ref = "2026/001-01"  # inkommen: the förbundschef may ask for a komplettering
    client = api_as(Role.FORBUNDSCHEF)
    version = client.get(f"{API}/cases/{ref}").json()["version"]
    events = _count(demo_app, AuditEvent)
    comment = "Budget per år saknas"
    missing = _assert_problem(_fire(client, ref, STEP, None, comment=comment), 428)
    assert "If-Match" in missing["detail"]
    stale = _assert_problem(_fire(client, ref, STEP, version - 1, comment=comment), 409)
    assert stale["detail"].startswith(f"{ref} har ändrats (version {version}")
    assert stale["exit_code"] == 5
    _assert_problem(
        client.post(f"{API}/cases/{ref}/steps/{STEP}", json={}, headers={"If-Match": "senaste"}),
        400,
    )
    assert _count(demo_app, AuditEvent) == events
    taken = _fire(client, ref, STEP, version, comment=comment)
    assert taken.status_code == 200, taken.text
    assert taken.json()["state"] == "komplettering"
    assert taken.headers["etag"] == f'"{version + 1}"'
    with demo_app.db.reading() as session:
        event = session.execute(
            select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)  # type: ignore[union-attr]
        ).scalar_one()
    assert (event.trigger, event.channel, event.subject_ref) == (STEP, "api", ref)
    assert event.actor_email == demo_login(Role.FORBUNDSCHEF).email and event.comment == comment


def test_fields_a_step_does_not_take_are_refused_not_dropped(
    api_as: ApiClientFactory, demo_app: App
) -> None:
    ref = "2026/001-01"
    client = api_as(Role.FORBUNDSCHEF)
    version = client.get(f"{API}/cases/{ref}").json()["version"]
    refused = _assert_problem(
        _fire(client, ref, STEP, version, fields={"title": "Ny titel"}, comment="x"), 400
    )
    assert refused["detail"].startswith("fältet 'title' (titel) kan inte anges i detta steg")
    unknown = _assert_problem(_fire(client, ref, STEP, version, extra=1), 400)
    assert "'extra'" in unknown["detail"]
    after = client.get(f"{API}/cases/{ref}").json()
    assert after["version"] == version and after["state"] == "inkommen"
    assert after["title"] != "Ny titel"


@pytest.mark.full
def test_each_role_is_refused_a_step_exactly_as_the_service_refuses_it(
    api_as: ApiClientFactory, demo_app: App, request: pytest.FixtureRequest
) -> None:
    """Role x state x step from the lifecycle: every step the service judges not allowed for
    a person is refused by the API with the service's own status and words, and nothing
    changes; a case they may not see is 404 whatever the step."""
    sample = _sample(demo_app, full_size(request))
    for role in ROLES:
        _refusals_match(api_as, demo_app, role, sample)


def _refusals_match(api_as: ApiClientFactory, demo_app: App, role: Role, sample: list[str]) -> None:
    email = demo_login(role).email
    client = api_as(role)
    lifecycle = demo_app.lifecycles["insats"].lifecycle
    for ref in sample:
        view = cases.get_case(demo_app, ref=ref, forbund="akst")
        hidden = _service_error(
            lambda ref=ref: cases.get_case(demo_app, ref=ref, forbund="akst", viewer_email=email)
        )
        judged = (
            {}
            if hidden is not None
            else {
                s.trigger: s
                for s in cases.steps_for(demo_app, ref=ref, actor_email=email, forbund="akst")
            }
        )
        for transition in lifecycle.people_steps(view.state):
            if hidden is not None:
                _assert_problem(_fire(client, ref, transition.trigger, view.version), 404)
                continue
            step = judged[transition.trigger]
            if step.allowed and not step.needs_comment:
                continue  # would change the case: the steps taken are tested above
            answer = _fire(client, ref, transition.trigger, view.version)
            expected = _service_error(
                lambda ref=ref, t=transition.trigger, v=view.version: cases.fire(
                    demo_app,
                    ref=ref,
                    trigger=t,
                    actor_email=email,
                    forbund="akst",
                    expected_version=v,
                )
            )
            assert expected is not None
            body = _assert_problem(answer, expected.http_status)
            assert body["detail"] == str(expected) and body["exit_code"] == expected.exit_code
        assert cases.get_case(demo_app, ref=ref, forbund="akst").version == view.version


# -- submitting an idea -------------------------------------------------------------------------


def test_an_idea_is_submitted_by_those_the_service_lets_and_refused_to_others(
    api_as: ApiClientFactory, demo_app: App
) -> None:
    idea = {"title": "Stöd till unga vuxna", "inriktning": "individ", "budget": {"2027": 400}}
    made = api_as(Role.HANDLAGGARE).post(f"{API}/cases", json=idea)
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["state"] == "ide" and body["budget_requested"] == {"2027": 400}
    assert made.headers["location"] == f"{API}/cases/{body['ref']}"
    assert made.headers["etag"] == '"1"'
    assert body["history"][0]["trigger"] == "skapa"
    with demo_app.db.reading() as session:
        event = session.execute(
            select(AuditEvent).where(AuditEvent.subject_ref == body["ref"])
        ).scalar_one()
    assert event.channel == "api"
    refused = _assert_problem(api_as(Role.SEKRETERARE).post(f"{API}/cases", json=idea), 403)
    assert "får inte lämna in idéer" in refused["detail"] and refused["exit_code"] == 4
    personnummer = {"title": "Deltagare 19811218-9876 behöver stöd"}
    _assert_problem(api_as(Role.HANDLAGGARE).post(f"{API}/cases", json=personnummer), 400)
    _assert_problem(api_as(Role.HANDLAGGARE).post(f"{API}/cases", json={"title": "x\x00"}), 400)
    _assert_problem(api_as(Role.HANDLAGGARE).post(f"{API}/cases", content=b"{inte json"), 400)


# -- idempotency -----------------------------------------------------------------------------


def test_a_repeated_idea_with_the_same_key_gets_the_first_answer_and_changes_nothing(
    api_as: ApiClientFactory, demo_app: App
) -> None:
    client = api_as(Role.HANDLAGGARE)
    idea = {"title": "Samma idé två gånger", "malgrupp": "Unga"}
    key = {"Idempotency-Key": "3f0c8a7e-idé-1".encode().hex()}
    first = client.post(f"{API}/cases", json=idea, headers=key)
    assert first.status_code == 201
    cases_after, events_after = _count(demo_app, Insats), _count(demo_app, AuditEvent)
    again = client.post(f"{API}/cases", json={"malgrupp": "Unga", **idea}, headers=key)
    assert (again.status_code, again.json()) == (201, first.json())
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert (_count(demo_app, Insats), _count(demo_app, AuditEvent)) == (cases_after, events_after)
    # Another person's key of the same name is theirs alone.
    other = api_as(Role.PROJEKTAGARE).post(f"{API}/cases", json=idea, headers=key)
    assert other.status_code == 201 and other.json()["ref"] != first.json()["ref"]


def test_the_same_key_for_another_request_is_refused_and_a_failure_keeps_no_answer(
    api_as: ApiClientFactory, demo_app: App
) -> None:
    client = api_as(Role.HANDLAGGARE)
    key = {"Idempotency-Key": "k-42"}
    failed = client.post(f"{API}/cases", json={"title": "x", "inriktning": "okänd"}, headers=key)
    _assert_problem(failed, 400)
    made = client.post(f"{API}/cases", json={"title": "Rättad idé"}, headers=key)
    assert made.status_code == 201
    reused = _assert_problem(
        client.post(f"{API}/cases", json={"title": "En annan idé"}, headers=key), 422
    )
    assert "k-42" in reused["detail"] and "ny nyckel" in reused["detail"]
    _assert_problem(
        client.post(f"{API}/cases", json={"title": "y"}, headers={"Idempotency-Key": "x" * 201}),
        400,
    )


def test_a_repeated_step_with_the_same_key_is_taken_once(
    api_as: ApiClientFactory, demo_app: App
) -> None:
    ref = "2026/001-01"
    client = api_as(Role.FORBUNDSCHEF)
    version = client.get(f"{API}/cases/{ref}").json()["version"]
    body = {"comment": "Målgruppen behöver beskrivas"}
    headers = {"If-Match": f'"{version}"', "Idempotency-Key": "steg-1"}
    first = client.post(f"{API}/cases/{ref}/steps/{STEP}", json=body, headers=headers)
    assert first.status_code == 200, first.text
    events = _count(demo_app, AuditEvent)
    again = client.post(f"{API}/cases/{ref}/steps/{STEP}", json=body, headers=headers)
    assert (again.status_code, again.json()) == (200, first.json())
    assert again.headers["etag"] == first.headers["etag"] == f'"{version + 1}"'
    assert _count(demo_app, AuditEvent) == events
    # Without the key the same request is a new one, and the version has moved on.
    _assert_problem(
        client.post(
            f"{API}/cases/{ref}/steps/{STEP}", json=body, headers={"If-Match": f'"{version}"'}
        ),
        409,
    )
    assert _count(demo_app, AuditEvent) == events


def test_two_concurrent_requests_with_one_key_do_the_work_once(
    api_as: ApiClientFactory, demo_app: App
) -> None:
    clients = [api_as(Role.HANDLAGGARE), api_as(Role.HANDLAGGARE)]
    idea = {"title": "Samtidigt inskickad idé"}
    before = _count(demo_app, Insats)
    start = threading.Barrier(2)
    answers: list[Any] = [None, None]

    def send(index: int) -> None:
        start.wait()
        answers[index] = clients[index].post(
            f"{API}/cases", json=idea, headers={"Idempotency-Key": "samtidig"}
        )

    threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
    assert answers[0].json() == answers[1].json()
    assert _count(demo_app, Insats) == before + 1
    assert _count(demo_app, IdempotentRequest) == 1


# -- problems ----------------------------------------------------------------------------------


def test_an_api_error_says_what_the_cli_says_for_the_same_thing(
    api_as: ApiClientFactory, demo_app: App, demo_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.support import finsam

    hidden = next(
        ref
        for ref in _all_refs(demo_app)
        if _service_error(
            lambda ref=ref: cases.get_case(
                demo_app,
                ref=ref,
                forbund="akst",
                viewer_email=demo_login(Role.PROJEKTAGARE).email,
            )
        )
    )
    code, _, err = finsam(
        capsys,
        demo_url,
        "cases",
        "show",
        hidden,
        "--as",
        demo_login(Role.PROJEKTAGARE).email,
        forbund="akst",
    )
    body = _assert_problem(api_as(Role.PROJEKTAGARE).get(f"{API}/cases/{hidden}"), 404)
    assert err.strip() == f"fel: {body['detail']}" and code == body["exit_code"] == 3


def test_without_a_token_every_route_is_a_401_problem(web: Any) -> None:
    with TestClient(web, base_url="https://testserver") as client:
        for method, path in [
            ("GET", f"{API}/cases"),
            ("GET", f"{API}/cases/2012/011-01"),
            ("GET", f"{API}/cases/2012/011-01/steps"),
            ("POST", f"{API}/cases"),
            ("POST", f"{API}/cases/2012/011-01/steps/avsluta"),
        ]:
            answer = client.request(method, path, json={})
            _assert_problem(answer, 401)
            assert answer.headers["www-authenticate"].startswith("Bearer")
        unknown = client.get(f"{API}/inget-sadant")
        _assert_problem(unknown, 404)


def test_a_key_whose_first_request_was_cut_short_is_refused_not_done_again(
    api_as: ApiClientFactory, demo_app: App, web_clock: Any
) -> None:
    from workflow.services.access import idempotency

    client = api_as(Role.HANDLAGGARE)
    person = demo_login(Role.HANDLAGGARE).email
    with demo_app.db.reading() as session:
        from workflow.models import Person

        person_id = session.execute(select(Person.id).where(Person.email == person)).scalar_one()
    idea = {"title": "Avbruten idé"}
    # A process claimed the key and died before it answered.
    assert (
        idempotency.claim(
            demo_app,
            person_id=person_id,
            key="avbruten",
            method="POST",
            path=f"{API}/cases",
            body=IdeaIn(**idea).model_dump(mode="json"),
        )
        is None
    )
    web_clock.advance(minutes=3)
    before = _count(demo_app, Insats)
    answer = client.post(f"{API}/cases", json=idea, headers={"Idempotency-Key": "avbruten"})
    body = _assert_problem(answer, 409)
    assert "avbröts" in body["detail"] and _count(demo_app, Insats) == before


def test_a_failure_of_ours_is_a_500_problem_without_internals(demo_app: App) -> None:
    from fastapi import APIRouter

    from workflow.web.app import create_web_app

    web = create_web_app(demo_app)
    broken = APIRouter()

    @broken.get("/api/v1/trasig")
    def fails() -> None:
        raise RuntimeError("hemlig intern detalj /etc/finsam")

    web.include_router(broken)
    with TestClient(web, base_url="https://testserver", raise_server_exceptions=False) as client:
        answer = client.get("/api/v1/trasig")
    body = _assert_problem(answer, 500)
    assert "hemlig" not in answer.text and "RuntimeError" not in answer.text
    assert body["detail"].startswith("något gick fel hos oss")
