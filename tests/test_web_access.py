"""The login throttle and password links, through the pages."""

from __future__ import annotations

import re

from sqlalchemy import delete, select

from tests.support import TravelClock, sqlite_by_default
from tests.web_support import ClientFactory, WebClient
from workflow.app import App
from workflow.models import AuditEvent, OutboxMessage, PasswordCredential, Person
from workflow.services.access import identities
from workflow.services.demo.logins import DEMO_PASSWORD, demo_login
from workflow.vocabulary import Role

WRONG = "inte-rätt-lösenord"


def _alert(page: str) -> str:
    start = page.index('role="alert"')
    return page[start : page.index("</div>", start)]


def test_failed_logins_are_throttled_per_account_with_one_answer_for_known_and_unknown(
    anonymous: WebClient, web_clock: TravelClock
) -> None:
    known = demo_login(Role.HANDLAGGARE).email
    for _ in range(5):
        assert anonymous.login(known, WRONG).status_code == 401
        assert anonymous.login("okand@akst.example", WRONG).status_code == 401
    # The sixth try is refused even with the right password; an unknown account the same.
    right = anonymous.login(known, DEMO_PASSWORD)
    unknown = anonymous.login("okand@akst.example", WRONG)
    assert right.status_code == unknown.status_code == 429
    assert _alert(right.text) == _alert(unknown.text)
    assert "för många misslyckade inloggningar" in _alert(right.text).lower()
    assert "15 minuter" in _alert(right.text)
    web_clock.advance(minutes=15, seconds=1)
    assert anonymous.login(known, DEMO_PASSWORD).status_code == 303


def test_failed_logins_are_throttled_per_address_across_accounts(
    anonymous: WebClient, demo_app: App
) -> None:
    demo_app.settings.web.login_failures_per_address = 4  # 20 by default; each try costs argon2
    emails = [login.email for login in _logins()]
    for index in range(4):
        assert anonymous.login(emails[index % len(emails)], WRONG).status_code == 401
    assert anonymous.login(demo_login(Role.ADMIN, "nv").email, DEMO_PASSWORD).status_code == 429


def _logins():  # type: ignore[no-untyped-def]
    from workflow.services.demo.logins import DEMO_LOGINS

    return DEMO_LOGINS


def test_a_success_clears_the_accounts_failures(anonymous: WebClient) -> None:
    email = demo_login(Role.SEKRETERARE).email
    for _ in range(4):
        anonymous.login(email, WRONG)
    assert anonymous.login(email, DEMO_PASSWORD).status_code == 303
    anonymous.post_form("/logga-ut")
    for _ in range(4):
        assert anonymous.login(email, WRONG).status_code == 401
    assert anonymous.login(email, DEMO_PASSWORD).status_code == 303


def _link_of(app: App, email: str) -> str:
    with app.db.reading() as session:
        message = (
            session.execute(
                select(OutboxMessage)
                .where(OutboxMessage.to_address == email, OutboxMessage.kind == "losenordslank")
                .order_by(OutboxMessage.id.desc())  # type: ignore[union-attr]
            )
            .scalars()
            .first()
        )
    assert message is not None, "no password link in the outbox"
    assert "Välj ett nytt lösenord" in message.html_body
    found = re.search(r"https?://\S+/nytt-losenord\?nyckel=(\S+)", message.text_body)
    assert found, message.text_body
    return found.group(1)


def test_a_password_link_sets_a_new_password_once(
    anonymous: WebClient,
    demo_app: App,
    client_as,  # type: ignore[no-untyped-def]
) -> None:
    email = demo_login(Role.PROJEKTAGARE).email
    elsewhere = client_as(Role.PROJEKTAGARE)  # logged in in another browser
    asked = anonymous.post_form("/glomt-losenord", {"email": email}, token_from="/glomt-losenord")
    assert asked.status_code == 200 and "Om adressen finns hos oss" in asked.text
    nobody = anonymous.post_form(
        "/glomt-losenord", {"email": "ingen@akst.example"}, token_from="/glomt-losenord"
    )
    assert nobody.text.count("Om adressen finns hos oss") == 1  # the same answer
    token = _link_of(demo_app, email)
    form = anonymous.get(f"/nytt-losenord?nyckel={token}")
    assert form.status_code == 200 and "Jenny Olsson" in form.text
    mismatch = anonymous.post_form(
        "/nytt-losenord",
        {"nyckel": token, "password": "ett långt lösenord", "password_again": "ett annat"},
        token_from="/glomt-losenord",
    )
    assert mismatch.status_code == 400 and "inte lika" in mismatch.text
    short = anonymous.post_form(
        "/nytt-losenord",
        {"nyckel": token, "password": "kort", "password_again": "kort"},
        token_from="/glomt-losenord",
    )
    assert short.status_code == 400 and "för kort" in short.text
    done = anonymous.post_form(
        "/nytt-losenord",
        {"nyckel": token, "password": "ett långt lösenord", "password_again": "ett långt lösenord"},
        token_from="/glomt-losenord",
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/logga-in?nytt=1"
    assert elsewhere.get("/", follow_redirects=False).status_code == 303  # sessions ended
    assert anonymous.login(email, DEMO_PASSWORD).status_code == 401
    assert anonymous.login(email, "ett långt lösenord").status_code == 303
    again = anonymous.get(f"/nytt-losenord?nyckel={token}")
    assert again.status_code == 404 and "gäller inte längre" in again.text
    with demo_app.db.reading() as session:
        triggers = session.execute(
            select(AuditEvent.trigger, AuditEvent.channel).where(AuditEvent.subject_ref == email)
        ).all()
    assert ("skicka_losenordslank", "web") in triggers and ("byt_losenord", "web") in triggers


def test_a_password_link_expires(
    anonymous: WebClient, demo_app: App, web_clock: TravelClock
) -> None:
    email = demo_login(Role.ADMIN).email
    anonymous.post_form("/glomt-losenord", {"email": email}, token_from="/glomt-losenord")
    token = _link_of(demo_app, email)
    web_clock.advance(minutes=61)
    assert anonymous.get(f"/nytt-losenord?nyckel={token}").status_code == 404


def test_a_person_with_accounts_in_two_forbund_chooses_which_one_to_log_in_to(
    anonymous: WebClient, demo_app: App
) -> None:
    """A board member from Försäkringskassan sits in both förbund's boards under one e-mail:
    the right password for both asks which förbund, and the login is to the one chosen."""
    from workflow.services.access.passwords import set_password
    from workflow.services.organisation.people import create_person

    email = "delad.ledamot@fk.example"
    for slug in ("akst", "nv"):
        create_person(
            demo_app,
            actor_email=demo_login(Role.ADMIN, slug).email,
            name="Delad Ledamot",
            email=email,
            roles=["styrelseledamot"],
            forbund=slug,
        )
        set_password(demo_app, email=email, password=DEMO_PASSWORD, forbund=slug)

    asked = anonymous.login(email)
    assert asked.status_code == 200 and "konton i flera förbund" in asked.text
    choices = re.findall(r'name="forbund" value="([^"]+)"', asked.text)
    assert sorted(choices) == ["akst", "nv"]
    assert DEMO_PASSWORD not in asked.text  # asked for again, never written into the page
    assert anonymous.get("/", follow_redirects=False).status_code == 303  # not logged in yet

    token = anonymous.csrf("/logga-in")
    chosen = anonymous.post(
        "/logga-in",
        data={"email": email, "password": DEMO_PASSWORD, "forbund": "nv", "csrf_token": token},
        follow_redirects=False,
    )
    assert chosen.status_code == 303
    with demo_app.db.reading() as session:
        login = (
            session.execute(
                select(AuditEvent)
                .where(AuditEvent.trigger == "logga_in", AuditEvent.actor_email == email)
                .order_by(AuditEvent.id.desc())
            )
            .scalars()
            .first()
        )
    assert login is not None
    from workflow.models import Forbund

    with demo_app.db.reading() as session:
        nv = session.execute(select(Forbund.id).where(Forbund.slug == "nv")).scalar_one()
    assert login.forbund_id == nv

    # A wrong password with a förbund chosen is the same refusal as any other.
    anonymous.post("/logga-ut", data={"csrf_token": anonymous.csrf("/")})
    token = anonymous.csrf("/logga-in")
    wrong = anonymous.post(
        "/logga-in",
        data={"email": email, "password": WRONG, "forbund": "akst", "csrf_token": token},
        follow_redirects=False,
    )
    assert wrong.status_code == 401 and "Fel e-postadress eller lösenord" in _alert(wrong.text)


def test_the_outbox_never_shows_a_password_links_key_and_forgets_it_once_sent(
    demo_url: str, web_clock: TravelClock
) -> None:
    """Whoever reads the outbox (its page, `finsam outbox show`) could otherwise take over the
    account: the key reaches the recipient only."""
    from tests.reminder_support import mailing_app
    from tests.smtp_support import running_server
    from workflow.services.access.links import request_link
    from workflow.services.reminders import outbox
    from workflow.services.reminders.outbox_admin import show_message
    from workflow.services.reminders.workers import Worker

    email = demo_login(Role.PROJEKTAGARE).email
    with running_server() as smtp:
        app = mailing_app(demo_url, web_clock, smtp)
        request_link(app, email=email, address="127.0.0.1")
        pending = _outbox_row(app, email)
        key = re.search(r"nyckel=([\w-]+)", pending.text_body)
        assert key is not None and len(key.group(1)) >= 20
        assert key.group(1) not in show_message(app, message_id=pending.id, forbund="akst").text

        outbox.deliver_due(app, worker=Worker(app))  # with the demo's own backlog
        [received] = [
            m
            for m in smtp.mailbox.to(email)
            if "nytt-losenord" in m.get_body(("plain",)).get_content()
        ]
        assert f"nyckel={key.group(1)}" in received.get_body(("plain",)).get_content()
        sent = _outbox_row(app, email)
        assert sent.status == "sent"
        assert key.group(1) not in sent.text_body and key.group(1) not in sent.html_body
        assert "nyckel=(dold)" in sent.text_body
    # The key the recipient got still works.
    from workflow.services.access.links import check_link

    assert check_link(app, key.group(1))


def _outbox_row(app: App, email: str) -> OutboxMessage:
    with app.db.reading() as session:
        row = (
            session.execute(
                select(OutboxMessage)
                .where(OutboxMessage.to_address == email, OutboxMessage.kind == "losenordslank")
                .order_by(OutboxMessage.id.desc())  # type: ignore[union-attr]
            )
            .scalars()
            .first()
        )
    assert row is not None
    return row


@sqlite_by_default
def test_a_person_sees_their_linked_identities_and_removes_one_but_never_the_last_way_in(
    client_as: ClientFactory, demo_app: App
) -> None:
    email = demo_login(Role.HANDLAGGARE).email
    for subject in ("hsa-SE2321000131-E000000011", "hsa-SE2321000131-E000000022"):
        identities.link_identity(
            demo_app, email=email, issuer="https://idp.example.se", subject=subject, forbund="akst"
        )
    client = client_as(Role.HANDLAGGARE)
    page = client.get("/konto").text
    # The issuer, and the subject partly hidden: never the whole of it.
    assert "https://idp.example.se" in page and "E000000011" not in page
    assert page.count("hsa" + "•" * 12) == 2 and "11</td>" in page and "22</td>" in page
    first, second = (int(i) for i in re.findall(r'name="identity" value="(\d+)"', page))
    # The person's password goes: each identity is then a way in, and the last must stay.
    with demo_app.db.transaction() as session:
        person = session.execute(select(Person).where(Person.email == email)).scalars().first()
        assert person is not None
        session.execute(delete(PasswordCredential).where(PasswordCredential.person_id == person.id))
    removed = client.post_form(
        "/konto/identiteter/ta-bort",
        {"identity": first},
        token_from="/konto",
        follow_redirects=False,
    )
    assert removed.status_code == 303
    page = client.get(removed.headers["location"]).text
    assert "Inloggningsidentiteten är borttagen." in page and "11</td>" not in page
    refused = client.post_form(
        "/konto/identiteter/ta-bort", {"identity": second}, token_from="/konto"
    )
    assert refused.status_code == 409
    assert "enda sätt att logga in" in refused.text and "22</td>" in refused.text
    # Another person's identity is not theirs to remove; a POST without the token is refused.
    assert (
        client.post_form(
            "/konto/identiteter/ta-bort", {"identity": first}, token_from="/konto"
        ).status_code
        == 404
    )
    assert client.post("/konto/identiteter/ta-bort", data={"identity": second}).status_code == 403
    with demo_app.db.reading() as session:
        events = session.execute(
            select(AuditEvent.trigger).where(AuditEvent.trigger == identities.TA_BORT_IDENTITET)
        ).all()
    assert len(events) == 1
