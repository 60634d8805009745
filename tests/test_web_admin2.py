"""The förbund's machinery on the web: reminders, outbox (retry against a real relay), health,
audit trail with its chain check, diarium and the public diarium; who may see them."""

from __future__ import annotations

import re
import socket
import subprocess
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from tests.smtp_support import SmtpServer, running_server
from tests.support import TravelClock
from tests.web_support import logged_in_client
from workflow.app import App
from workflow.errors import NotPermitted
from workflow.models import AuditVerification, Forbund, Insats, OutboxMessage, Party
from workflow.reminder_rules import Rendered
from workflow.services.cases import audit_trail
from workflow.services.demo.logins import demo_login
from workflow.services.reminders import outbox
from workflow.services.reminders.workers import Worker
from workflow.settings import load_settings
from workflow.vocabulary import Role
from workflow.web.app import create_web_app

PAGES = ["/paminnelser", "/utkorg", "/drift", "/logg", "/diarium"]


def _queue(app: App, slug: str, to: str, subject: str = "Påminnelse: rapport") -> int:
    with app.db.transaction() as session:
        forbund_id = session.execute(select(Forbund.id).where(Forbund.slug == slug)).scalar_one()
        message = outbox.queue(
            session,
            app,
            forbund_id=forbund_id,
            kind="reminder",
            to_address=to,
            to_name="Mottagare",
            rendered=Rendered(subject, "Hej!\n\nRapporten ska in.", "<p>Hej!</p>"),
            now=app.clock(),
        )
        return int(message.id)  # type: ignore[arg-type]


def test_the_pages_are_the_forbundschefs_and_admins_and_refused_to_others(client_as) -> None:
    for role in (Role.FORBUNDSCHEF, Role.ADMIN):
        client = client_as(role)
        for path in PAGES:
            answer = client.get(path)
            assert answer.status_code == 200, (role, path, answer.text[:300])
    for role in (Role.HANDLAGGARE, Role.SEKRETERARE, Role.PROJEKTAGARE):
        client = client_as(role)
        for path in PAGES:
            if (role, path) == (Role.SEKRETERARE, "/diarium"):
                continue  # the registrator keeps the diarium (keep_diarium)
            assert client.get(path).status_code == 403, (role, path)
    chef = client_as(Role.FORBUNDSCHEF)
    page = chef.get("/paminnelser?status=&regel=policy_renewal")
    assert page.status_code in (200, 400)
    people = re.findall(r'<option value="(\d+)"', chef.get("/paminnelser").text)
    assert chef.get(f"/paminnelser?person={people[0]}&status=").status_code == 200
    assert chef.get("/logg?fran=1+december+2026&till=2026-12-31").status_code == 200
    assert chef.get("/logg?fran=igår").status_code == 400


def test_another_forbunds_message_check_and_case_are_not_found(client_as, demo_app: App) -> None:
    theirs = _queue(demo_app, "nv", "someone@example.org")
    chef = client_as(Role.FORBUNDSCHEF)
    handlaggare = client_as(Role.HANDLAGGARE)
    with demo_app.db.reading() as session:
        nv = session.execute(select(Forbund.id).where(Forbund.slug == "nv")).scalar_one()
        ref = (
            session.execute(
                select(Insats.dnr).where(Insats.forbund_id == nv, Insats.dnr.is_not(None))
            )
            .scalars()
            .first()
        )
    for client in (chef, handlaggare):
        assert client.get(f"/utkorg/{theirs}").status_code == 404
        assert client.post_form(f"/utkorg/{theirs}/skicka-igen").status_code == 404
        assert client.get(f"/logg/arende/{ref}").status_code == 404
    other_chef = client_as(Role.FORBUNDSCHEF, "nv")
    answer = other_chef.post_form("/logg/kontroll", follow_redirects=False)
    assert answer.status_code == 303
    assert chef.get(answer.headers["location"]).status_code == 404
    assert (
        handlaggare.get(f"/utkorg/{_queue(demo_app, 'akst', 'x@example.org')}").status_code == 403
    )


def test_the_chain_is_checked_in_the_background_with_progress(
    client_as, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_trail, "INLINE_LIMIT", 0)
    chef = client_as(Role.FORBUNDSCHEF)
    answer = chef.post_form("/logg/kontroll", follow_redirects=False)
    assert answer.status_code == 303
    check_id = int(answer.headers["location"].rsplit("/", 1)[1])
    audit_trail.wait_for_check(check_id)
    page = chef.get(answer.headers["location"])
    assert "Kedjan är hel" in page.text, page.text
    assert f"Visa kontroll nr {check_id}" in chef.get("/logg").text


def test_a_running_check_shows_progress_and_asks_again(client_as, demo_app: App) -> None:
    from workflow.models import AuditVerification

    with demo_app.db.transaction() as session:
        forbund_id = session.execute(select(Forbund.id).where(Forbund.slug == "akst")).scalar_one()
        row = AuditVerification(
            forbund_id=forbund_id,
            status="running",
            checked=40,
            total=100,
            started_at=demo_app.clock(),
        )
        session.add(row)
        session.flush()
        check_id = row.id
    text = client_as(Role.ADMIN).get(f"/logg/kontroll/{check_id}").text
    assert "40 av 100" in text and 'hx-trigger="every 2s"' in text
    assert f'href="/logg/kontroll/{check_id}"' in text  # without JavaScript: look again


def _running_check(app: App, owner: str | None, beats: int = 0) -> int:
    from workflow.models import AuditVerification

    with app.db.transaction() as session:
        forbund_id = session.execute(select(Forbund.id).where(Forbund.slug == "akst")).scalar_one()
        row = AuditVerification(
            forbund_id=forbund_id,
            status="running",
            checked=10,
            total=100,
            started_at=app.clock(),
            owner=owner,
            beats=beats,
        )
        session.add(row)
        session.flush()
        return int(row.id)  # type: ignore[arg-type]


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_a_check_whose_process_stopped_is_shown_interrupted_and_a_new_one_starts(
    client_as, demo_app: App
) -> None:
    chef = client_as(Role.FORBUNDSCHEF)
    # Its web process on this machine is gone; another's thread here no longer runs it.
    gone = _running_check(demo_app, f"{socket.gethostname()[:60]}:{_dead_pid()}:abc123")
    page = chef.get(f"/logg/kontroll/{gone}").text
    assert "Avbruten: Kontrollen avbröts eftersom webbservern" in page, page
    assert 'hx-trigger="every 2s"' not in page
    stopped = _running_check(demo_app, audit_trail.owner_token())
    assert "avbruten, webbservern som körde den slutade svara" in chef.get("/logg").text
    assert "Avbruten:" in chef.get(f"/logg/kontroll/{stopped}").text
    answer = chef.post_form("/logg/kontroll", follow_redirects=False)
    new = int(answer.headers["location"].rsplit("/", 1)[1])
    assert new not in (gone, stopped)
    assert "Kedjan är hel" in chef.get(answer.headers["location"]).text


def test_a_live_check_elsewhere_is_not_taken_over_until_its_beat_stands_still(
    client_as, demo_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(audit_trail, "_monotonic", lambda: now[0])
    lease = demo_app.settings.web.audit_check_lease_seconds
    chef = client_as(Role.FORBUNDSCHEF)
    check_id = _running_check(demo_app, "annan-server:4242:feed01")
    assert "Kontrollen pågår" in chef.get(f"/logg/kontroll/{check_id}").text
    for beats in (1, 2, 3):  # it beats while time passes: alive
        now[0] += lease * 2
        with demo_app.db.transaction() as session:
            session.execute(
                update(AuditVerification)
                .where(AuditVerification.id == check_id)  # type: ignore[arg-type]
                .values(beats=beats)
            )
        assert "Kontrollen pågår" in chef.get(f"/logg/kontroll/{check_id}").text
    # A new start answers with the live check instead of reading the chain twice.
    answer = chef.post_form("/logg/kontroll", follow_redirects=False)
    assert answer.headers["location"] == f"/logg/kontroll/{check_id}"
    now[0] += lease - 1
    assert "Kontrollen pågår" in chef.get(f"/logg/kontroll/{check_id}").text
    now[0] += 1  # its beat stood still for the whole lease
    assert "Avbruten:" in chef.get(f"/logg/kontroll/{check_id}").text


def test_a_check_taken_over_does_not_overwrite_the_interruption(demo_app: App) -> None:
    check_id = _running_check(demo_app, audit_trail.owner_token())
    with demo_app.db.transaction() as session:
        session.execute(
            update(AuditVerification)
            .where(AuditVerification.id == check_id)  # type: ignore[arg-type]
            .values(status="interrupted", problem=audit_trail.STOPPED)
        )
        forbund_id = session.execute(select(Forbund.id).where(Forbund.slug == "akst")).scalar_one()
    audit_trail.run_check(demo_app, check_id, forbund_id, "akst")
    with demo_app.db.reading() as session:
        row = session.get(AuditVerification, check_id)
        assert row is not None and (row.status, row.checked) == ("interrupted", 10)


def test_the_public_diarium_shows_only_dnr_date_and_subject(anonymous, demo_app: App) -> None:
    answer = anonymous.get("/diarium/akst")
    assert answer.status_code == 200
    with demo_app.db.reading() as session:
        akst = session.execute(select(Forbund.id).where(Forbund.slug == "akst")).scalar_one()
        dnrs = (
            session.execute(
                select(Insats.dnr).where(Insats.forbund_id == akst, Insats.dnr.is_not(None))
            )
            .scalars()
            .all()
        )
        parties = session.execute(select(Party.name).where(Party.forbund_id == akst)).scalars()
        party_names = list(parties)
    table = answer.text.split('id="diariet"', 1)[1].split("</table>", 1)[0]
    assert re.findall(r"<th scope=\"col\">([^<]+)</th>", table) == ["Dnr", "Datum", "Ämne"]
    shown = re.findall(r"<tr><td>([^<]+)</td><td>", table)
    assert shown and set(shown) <= set(dnrs)
    for name in party_names:
        assert name not in table
    assert "Avtal" not in table and "rapport" not in table.lower()
    assert anonymous.get("/diarium/finns-inte").status_code == 404
    assert anonymous.get("/diarium", follow_redirects=False).status_code in (302, 303)


def test_a_secret_entrys_subject_never_shows_on_the_public_diarium(
    client_as, anonymous, demo_app: App
) -> None:
    with demo_app.db.reading() as session:
        akst = session.execute(select(Forbund.id).where(Forbund.slug == "akst")).scalar_one()
        dnr, title = session.execute(
            select(Insats.dnr, Insats.title)
            .where(Insats.forbund_id == akst, Insats.dnr.is_not(None))
            .order_by(Insats.dnr.desc())
        ).first()
    secret_word = title.split()[0]
    sekreterare = client_as(Role.SEKRETERARE)
    answer = sekreterare.post_form(
        "/diarium/sekretess", {"dnr": dnr, "paragraf": "21 kap 1 §"}, token_from="/diarium"
    )
    assert answer.status_code == 200 and "Handlingen är sekretessmarkerad" in answer.text
    inside = sekreterare.get(f"/diarium?q={dnr}").text
    assert title[:40] in inside and "Sekretess enligt 21 kap. 1 § OSL" in inside
    public = anonymous.get("/diarium/akst").text
    row = next(r for r in public.split("<tr>") if dnr in r)
    assert "Sekretess enligt 21 kap. 1 § OSL" in row and title[:40] not in public
    # A search for the subject's words does not find, so does not betray, the secret entry.
    assert dnr not in anonymous.get(f"/diarium/akst?q={secret_word}").text
    refused = sekreterare.post_form(
        "/diarium/sekretess", {"dnr": dnr, "paragraf": "99 kap 1 §"}, token_from="/diarium"
    )
    assert refused.status_code == 400 and "ingen paragraf" in refused.text
    assert (
        client_as(Role.HANDLAGGARE).post_form("/diarium/sekretess", {"dnr": dnr}).status_code == 403
    )
    trail = client_as(Role.FORBUNDSCHEF).get("/logg?typ=diarium").text
    assert "sekretessmarkera" in trail and demo_login(Role.SEKRETERARE).email in trail
    lifted = sekreterare.post_form(
        "/diarium/sekretess", {"dnr": dnr, "atgard": "hav"}, token_from="/diarium"
    )
    assert "Sekretessen är hävd" in lifted.text
    assert title[:40] in anonymous.get("/diarium/akst").text


def test_the_diarium_lists_cases_and_documents_and_searches(client_as, demo_app: App) -> None:
    chef = client_as(Role.FORBUNDSCHEF)
    page = chef.get("/diarium")
    assert "Ansökan" in page.text and "inkommen" in page.text
    found = chef.get("/diarium?q=2012/011")
    rows = re.findall(r'<tr class="diarium-case">', found.text)
    assert len(rows) == 1, found.text
    assert chef.get("/diarium?ar=abc").status_code == 400


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with running_server() as server:
        yield server


@pytest.fixture
def mailing_web(demo_url: str, web_clock: TravelClock, smtp: SmtpServer) -> Iterator[FastAPI]:
    application = App.create(
        load_settings(database_url=demo_url, mail=smtp.settings), clock=web_clock
    )
    yield create_web_app(application)
    application.close()


def test_a_message_failed_by_the_relays_5xx_is_retried_from_the_page_and_delivered_once(
    mailing_web: FastAPI, smtp: SmtpServer
) -> None:
    app: App = mailing_web.state.finsam
    # The demo's own waiting mail (the utdrag of its justerade protocols) goes out first.
    outbox.deliver_due(app, worker=Worker(app, kind="once"))
    smtp.mailbox.messages.clear()
    message_id = _queue(app, "akst", "mottagare@example.org")
    smtp.mailbox.data_answers = ["554 5.6.0 Message rejected"]
    worker = Worker(app, kind="once")
    result = outbox.deliver_due(app, worker=worker)
    assert result.failed == 1
    with app.db.reading() as session:
        row = session.get(OutboxMessage, message_id)
        assert row is not None and row.status == "failed"
        sent_as = row.message_id

    chef = logged_in_client(mailing_web, demo_login(Role.FORBUNDSCHEF).email, "akst")
    start = chef.get("/")
    assert 'id="utkorg-fel"' in start.text and "kunde inte levereras" in start.text
    failed = chef.get("/utkorg?status=failed")
    assert f'href="/utkorg/{message_id}"' in failed.text
    detail = chef.get(f"/utkorg/{message_id}")
    assert "Påminnelse: rapport" in detail.text and "Rapporten ska in." in detail.text
    assert "mottagare@example.org" in detail.text and "554" in detail.text

    answer = chef.post_form(
        f"/utkorg/{message_id}/skicka-igen",
        token_from=f"/utkorg/{message_id}",
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert "kö igen" in chef.get(answer.headers["location"]).text
    assert 'id="utkorg-fel"' not in chef.get("/").text  # handled: the notice is gone

    assert outbox.deliver_due(app, worker=worker).sent == 1
    assert outbox.deliver_due(app, worker=worker).sent == 0
    assert smtp.mailbox.message_ids().count(sent_as) == 1
    trail = chef.get("/logg?typ=outbox").text
    assert "skicka_igen" in trail and demo_login(Role.FORBUNDSCHEF).email in trail
    chef.__exit__(None, None, None)
    worker.stop()


def test_reminders_per_person_case_and_rule_are_the_ones_that_concern_them(
    client_as, demo_app: App
) -> None:
    from workflow.models import Person
    from workflow.services.reminders import planner

    every = planner.list_reminders(demo_app, forbund="akst", status="pending", limit=500).items
    assert every, "the demo plans reminders"
    with demo_app.db.reading() as session:
        people = session.execute(
            select(Person.id, Person.email).join(Forbund).where(Forbund.slug == "akst")
        ).all()
    for person_id, email in people:
        mine = planner.list_reminders(
            demo_app, forbund="akst", status="pending", person_id=person_id, limit=500
        ).items
        assert {r.id for r in mine} == {r.id for r in every if email in r.recipients}, email
    rule = every[0].rule
    by_rule = planner.list_reminders(demo_app, forbund="akst", status="pending", rule=rule).items
    assert by_rule and all(r.rule == rule for r in by_rule)
    chef = client_as(Role.FORBUNDSCHEF)
    page = chef.get(f"/paminnelser?regel={rule}")
    assert every[0].rule_label in page.text and "förfaller" in page.text
    case_rows = [r for r in every if r.subject_kind == "insats" and "/" in r.subject_ref]
    if case_rows:
        ref = case_rows[0].subject_ref.split()[0]
        answer = chef.get("/paminnelser", params={"arende": ref})
        assert answer.status_code == 200 and ref in answer.text
    assert chef.get("/paminnelser?arende=1999/999-99").status_code == 404


def test_a_cases_trail_holds_its_own_its_avtal_and_its_reports_events(demo_app: App) -> None:
    from workflow.models import Report
    from workflow.services.organisation.forbund import resolve_forbund
    from workflow.services.organisation.people import find_actor

    with demo_app.db.reading() as session:
        ref = (
            session.execute(
                select(Insats.dnr)
                .join(Report, Report.insats_id == Insats.id)
                .join(Forbund, Forbund.id == Insats.forbund_id)
                .where(Forbund.slug == "akst")
            )
            .scalars()
            .first()
        )
        chef = find_actor(
            session, resolve_forbund(session, "akst"), demo_login(Role.FORBUNDSCHEF).email
        )
    assert ref is not None
    events = audit_trail.list_events(
        demo_app, chef, forbund="akst", filters=audit_trail.TrailFilter(case=ref), limit=500
    ).items
    kinds = {e.subject_kind for e in events}
    assert {"insats", "report"} <= kinds, kinds
    assert [e.seq for e in events] == sorted((e.seq for e in events), reverse=True)
    first = audit_trail.list_events(
        demo_app, chef, forbund="akst", filters=audit_trail.TrailFilter(case=ref), limit=2
    )
    second = audit_trail.list_events(
        demo_app,
        chef,
        forbund="akst",
        filters=audit_trail.TrailFilter(case=ref),
        after=first.next_after,
        limit=2,
    )
    assert [e.seq for e in first.items + second.items] == [e.seq for e in events[:4]]
    with pytest.raises(NotPermitted, match="får inte"):
        handlaggare = type(chef)(chef.id, chef.name, chef.email, frozenset({"handlaggare"}))
        audit_trail.list_events(demo_app, handlaggare, forbund="akst")
