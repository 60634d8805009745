"""The protocol on the web (routes/protocol.py, routes/anslagstavla.py, api/protocols.py): who
may record and sign, what the public sees, and two secretaries at once.

The demo's board meeting held four days ago has its agenda (two recommended applications and
a slutrapport) but no protocol yet; the tests open it through the page and go on from there.
"""

from __future__ import annotations

import threading

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.web_support import BASE_URL, ClientFactory, WebClient, logged_in_client
from workflow.app import App
from workflow.models import AgendaItem, Meeting, OutboxMessage, Protocol
from workflow.services.access import tokens
from workflow.services.board import decisions, views
from workflow.services.demo.logins import demo_login
from workflow.services.organisation import people
from workflow.services.organisation.forbund import resolve_forbund
from workflow.vocabulary import Role

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
CHAIR = demo_login(Role.STYRELSE_ORDFORANDE).email
JUSTERARE = demo_login(Role.STYRELSE_LEDAMOT).email  # ledamot.fk


def held_without_protocol(app: App, forbund: str = "akst") -> int:
    """The number of the demo's board meeting held before now with an agenda, no protocol."""
    now = app.clock()
    with app.db.reading() as session:
        for meeting in session.execute(
            select(Meeting).join(AgendaItem, AgendaItem.meeting_id == Meeting.id).distinct()
        ).scalars():
            if (
                meeting.starts_at < now
                and session.execute(
                    select(Protocol.id).where(Protocol.meeting_id == meeting.id)
                ).first()
                is None
            ):
                view = views.meeting_view(session, app, meeting)
                if view.forbund == forbund and view.organ_kind == "styrelse":
                    return view.number
    raise AssertionError("demo has no held meeting without protocol")


def url(number: int, tail: str = "", forbund: str = "akst") -> str:
    return f"/protokoll/{forbund}/{number}{tail}"


def open_protocol(client: WebClient, number: int) -> None:
    answer = client.post_form(
        url(number, "/oppna"),
        {"chair": CHAIR, "justerare": JUSTERARE},
        token_from=url(number),
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def decided_and_sent(client: WebClient, number: int) -> None:
    open_protocol(client, number)
    page = client.post_form(url(number, "/folj-alla"), token_from=url(number))
    assert page.status_code == 200, page.text
    assert "Rekommendationerna följdes" in page.text
    sent = client.post_form(url(number, "/skicka"), token_from=url(number), follow_redirects=False)
    assert sent.status_code == 303, sent.text


@SQLITE_ONLY
def test_the_protocol_cycle_on_pages_with_utdrag_to_the_applicant(
    client_as: ClientFactory, demo_app: App, anonymous: WebClient
) -> None:
    number = held_without_protocol(demo_app)
    secretary = client_as(Role.SEKRETERARE)
    page = secretary.get(url(number))
    assert page.status_code == 200 and "Öppna protokollet" in page.text
    decided_and_sent(secretary, number)
    assert "För justering" in secretary.get(url(number)).text
    # Sent: it cannot be changed any more.
    view = views.get_meeting(demo_app, ref=number, forbund="akst")
    first = next(i for i in view.items if i.paragraph is not None)
    refused = secretary.post_form(
        url(number, "/beslut"),
        {"paragraph": str(first.paragraph), "kind": "beslut"},
        token_from=url(number),
    )
    assert refused.status_code == 403

    chair = client_as(Role.STYRELSE_ORDFORANDE)
    start = chair.get("/")
    assert "Protokoll att justera" in start.text and url(number, "/justera") in start.text
    sign = chair.get(url(number, "/justera"))
    assert "Jag justerar protokollet" in sign.text and "§ " in sign.text
    answer = chair.post_form(
        url(number, "/justera"),
        {"version": _field(sign.text, "version"), "digest": _field(sign.text, "digest")},
        token_from=url(number, "/justera"),
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    member = client_as(Role.STYRELSE_LEDAMOT)
    sign = member.get(url(number, "/justera"))
    # A stale text is refused: nothing is signed that the signer did not see.
    stale = member.post_form(
        url(number, "/justera"),
        {"version": _field(sign.text, "version"), "digest": "0" * 32},
        token_from=url(number, "/justera"),
    )
    assert stale.status_code == 409 and "inte den du läste" in stale.text
    answer = member.post_form(
        url(number, "/justera"),
        {"version": _field(sign.text, "version"), "digest": _field(sign.text, "digest")},
        token_from=url(number, "/justera"),
        follow_redirects=False,
    )
    assert answer.status_code == 303
    view = views.get_meeting(demo_app, ref=number, forbund="akst")
    assert view.protocol is not None and view.protocol.status == "justerat"
    with demo_app.db.reading() as session:
        utdrag = (
            session.execute(select(OutboxMessage).where(OutboxMessage.kind == "protokollsutdrag"))
            .scalars()
            .all()
        )
    assert utdrag and all("Protokollsutdrag §" in m.subject for m in utdrag)

    # Papers open as pages and download as PDF.
    paragraph = next(i.paragraph for i in view.items if i.dnr and i.decision == "bifall")
    for tail in (
        "/handlingar/protokoll",
        "/handlingar/dagordning",
        f"/handlingar/utdrag?paragraf={paragraph}",
    ):
        assert secretary.get(url(number, tail)).status_code == 200, tail
    pdf = secretary.get(url(number, "/pdf/protokoll"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    # Justerat: not public until posted; then on the anslagstavla.
    assert anonymous.get(f"/anslagstavla/akst/{number}").status_code == 404
    posted = secretary.post_form(
        url(number, "/anslag"), token_from=url(number), follow_redirects=False
    )
    assert posted.status_code == 303
    board = anonymous.get("/anslagstavla/akst")
    assert board.status_code == 200 and f"/anslagstavla/akst/{number}" in board.text
    public = anonymous.get(f"/anslagstavla/akst/{number}")
    assert public.status_code == 200 and "Tas ned tidigast" in public.text
    assert "@" not in public.text.split("<footer")[0], "no e-mail address on the public page"


def _field(html: str, name: str) -> str:
    import re

    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, name
    return found.group(1)


@SQLITE_ONLY
def test_a_justerare_not_chosen_cannot_sign_on_the_page_or_the_api(
    client_as: ClientFactory, demo_app: App, web: FastAPI
) -> None:
    number = held_without_protocol(demo_app)
    decided_and_sent(client_as(Role.SEKRETERARE), number)
    other = "ledamot.vgr@akst.example"  # a board member, not chosen for this protocol
    stranger = logged_in_client(web, other, "akst")
    try:
        page = stranger.get(url(number, "/justera"))
        assert page.status_code == 200 and "inte utsedd att justera" in page.text
        assert "Jag justerar protokollet" not in page.text
        refused = stranger.post_form(url(number, "/justera"), {}, token_from=url(number))
        assert refused.status_code == 403
    finally:
        stranger.__exit__(None, None, None)
    with _api(web, demo_app, other) as api:
        shown = api.get(f"/api/v1/protocols/{number}")
        assert shown.status_code == 200, shown.text
        answer = api.post(
            f"/api/v1/protocols/{number}/approval",
            json={},
            headers={"If-Match": shown.headers["ETag"]},
        )
        assert answer.status_code == 403, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
    view = views.get_meeting(demo_app, ref=number, forbund="akst")
    assert view.protocol is not None and not any(s.signed_at for s in view.protocol.signers)
    # The chosen justerare may, on the API too; without If-Match it is 428.
    with _api(web, demo_app, JUSTERARE) as chosen:
        assert chosen.post(f"/api/v1/protocols/{number}/approval", json={}).status_code == 428
        seen = chosen.get(f"/api/v1/protocols/{number}")
        done = chosen.post(
            f"/api/v1/protocols/{number}/approval",
            json={"digest": seen.json()["digest"]},
            headers={"If-Match": seen.headers["ETag"]},
        )
        assert done.status_code == 200, done.text
        assert [s["role"] for s in done.json()["signers"] if s["signed_at"]] == ["justerare"]
    # Another förbund's person finds no such protocol on the API.
    with _api(web, demo_app, demo_login(Role.SEKRETERARE, "nv").email, "nv") as foreign:
        assert foreign.get(f"/api/v1/protocols/{number + 500}").status_code == 404


def _api(web: FastAPI, app: App, email: str, forbund: str = "akst") -> TestClient:
    secret = tokens.create_token(app, email=email, name="prov-protokoll", forbund=forbund).secret
    return TestClient(web, base_url=BASE_URL, headers={"Authorization": f"Bearer {secret}"})


@SQLITE_ONLY
def test_a_person_of_another_forbund_gets_404(client_as: ClientFactory, demo_app: App) -> None:
    number = held_without_protocol(demo_app)
    open_protocol(client_as(Role.SEKRETERARE), number)
    other = client_as(Role.SEKRETERARE, "nv")
    for tail in ("", "/justera", "/handlingar/protokoll", "/pdf/protokoll"):
        assert other.get(url(number, tail)).status_code == 404, tail
    answer = other.post_form(url(number, "/folj-alla"), token_from="/")
    assert answer.status_code == 404


@SQLITE_ONLY
def test_a_board_member_cannot_record_decisions(client_as: ClientFactory, demo_app: App) -> None:
    number = held_without_protocol(demo_app)
    open_protocol(client_as(Role.SEKRETERARE), number)
    member = client_as(Role.STYRELSE_LEDAMOT)
    page = member.get(url(number))
    assert page.status_code == 200
    assert "Registrera beslutet" not in page.text and "Följ rekommendationen" not in page.text
    view = views.get_meeting(demo_app, ref=number, forbund="akst")
    paragraph = next(i.paragraph for i in view.items if i.dnr)
    for tail, data in (
        ("/beslut", {"paragraph": str(paragraph), "kind": "avslag"}),
        ("/folj", {"paragraph": str(paragraph)}),
        ("/folj-alla", {}),
    ):
        answer = member.post_form(url(number, tail), data, token_from=url(number))
        assert answer.status_code == 403, tail
    assert all(
        i.decision is None for i in views.get_meeting(demo_app, ref=number, forbund="akst").items
    )


@SQLITE_ONLY
def test_the_public_board_shows_no_draft(
    client_as: ClientFactory, demo_app: App, anonymous: WebClient
) -> None:
    number = held_without_protocol(demo_app)
    open_protocol(client_as(Role.SEKRETERARE), number)
    board = anonymous.get("/anslagstavla/akst")
    assert board.status_code == 200
    assert f'/anslagstavla/akst/{number}"' not in board.text
    assert "Arkiv" in board.text and "/anslagstavla/akst/" in board.text  # the 2013 protocols
    for path in (
        f"/anslagstavla/akst/{number}",
        f"/anslagstavla/akst/{number}/pdf",
        "/anslagstavla/finns-inte",
        url(number),
    ):
        answer = anonymous.get(path, follow_redirects=False)
        assert answer.status_code in (303, 404), path
        assert "Beredningens rekommendation" not in answer.text


@SQLITE_ONLY
def test_follow_all_skips_a_paragraph_that_cannot_take_it_and_says_why(
    client_as: ClientFactory, demo_app: App
) -> None:
    number = held_without_protocol(demo_app)
    secretary = client_as(Role.SEKRETERARE)
    open_protocol(secretary, number)
    view = views.get_meeting(demo_app, ref=number, forbund="akst")
    warned = decisions.frame_warnings(demo_app, ref=number, forbund="akst")
    page = secretary.post_form(url(number, "/folj-alla"), token_from=url(number))
    assert page.status_code == 200
    after = views.get_meeting(demo_app, ref=number, forbund="akst")
    undecided = [i.paragraph for i in after.items if i.paragraph and not i.decision]
    # Exactly the §§ a bifall would take beyond the frame are left, each named on the page.
    assert sorted(undecided) == sorted(warned)
    for paragraph in undecided:
        assert f"§ {paragraph} " in page.text
    assert len([i for i in view.items if i.paragraph]) > len(undecided)


def _second_secretary(demo_app: App) -> str:
    address = "sekreterare2@akst.example"
    with demo_app.db.transaction() as session:
        people.add_person(
            session,
            resolve_forbund(session, "akst"),
            email=address,
            name="Sara Andersson",
            roles=["sekreterare"],
        )
    return address


def test_two_secretaries_recording_at_once_one_conflict_nothing_lost(
    client_as: ClientFactory, demo_app: App, web: FastAPI
) -> None:
    number = held_without_protocol(demo_app)
    first = client_as(Role.SEKRETERARE)
    open_protocol(first, number)
    second = logged_in_client(web, _second_secretary(demo_app), "akst")
    view = views.get_meeting(demo_app, ref=number, forbund="akst")
    cases_ = [i for i in view.items if i.dnr and i.paragraph and not i.outcome]
    same, other = cases_[0], cases_[1]
    tokens = {id(c): c.csrf(url(number)) for c in (first, second)}
    results: dict[str, object] = {}
    barrier = threading.Barrier(2)

    def post(client: WebClient, name: str, item: views.ItemView, text: str) -> None:
        barrier.wait()
        results[name] = client.post(
            url(number, "/beslut"),
            data={
                "csrf_token": tokens[id(client)],
                "paragraph": str(item.paragraph),
                "version": str(item.version),
                "kind": "aterremiss",
                "motivation": text,
            },
            follow_redirects=False,
        )

    threads = [
        threading.Thread(target=post, args=(first, "a", same, "Komplettera med budget per part")),
        threading.Thread(target=post, args=(second, "b", same, "Beskriv målgruppen tydligare")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    answers = sorted([results["a"], results["b"]], key=lambda r: r.status_code)  # type: ignore[attr-defined]
    assert [a.status_code for a in answers] == [303, 409]  # type: ignore[attr-defined]
    loser = answers[1]
    # Nothing lost: the refused secretary's words come back in the form, with the reason.
    assert "har ändrats" in loser.text or "har redan beslutet" in loser.text  # type: ignore[attr-defined]
    assert any(
        text in loser.text  # type: ignore[attr-defined]
        for text in ("Komplettera med budget per part", "Beskriv målgruppen tydligare")
    )
    # The refused secretary decides another § at once; the first's decision is kept.
    again = second.post_form(
        url(number, "/beslut"),
        {
            "paragraph": str(other.paragraph),
            "version": str(other.version),
            "kind": "aterremiss",
            "motivation": "Ny kostnadsberäkning",
        },
        token_from=url(number),
        follow_redirects=False,
    )
    assert again.status_code == 303, again.text
    final = views.get_meeting(demo_app, ref=number, forbund="akst")
    decided = {i.paragraph: i for i in final.items if i.decision}
    assert decided[same.paragraph].decision == "aterremiss"
    assert decided[same.paragraph].motivation in {
        "Komplettera med budget per part",
        "Beskriv målgruppen tydligare",
    }
    assert decided[other.paragraph].motivation == "Ny kostnadsberäkning"
    second.__exit__(None, None, None)
