"""The förbund-wide funding lists a page at a time (issue 15): payments newest first (or the
held ones, or the paid), the Avtal page's three lists, and the ended insatser. Walking the pages
with a small page size gives every row once, in order, with a filter holding on every page; a
page takes as many queries for many rows as for few; the pages link on with Nästa sida and a
bad cursor is one line that says what to do."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

import pytest
from sqlmodel import col, select

from tests.funding_world import CHEF
from tests.support import TravelClock, World, build_world
from tests.test_read_paths import _settings_for, statements
from tests.web_support import ClientFactory
from workflow.app import App
from workflow.clock import STOCKHOLM
from workflow.errors import BadInput
from workflow.models import Agreement, FollowUpQuestion, Insats, Payment, Report
from workflow.services.funding import agreements, closure, payments
from workflow.services.organisation.forbund import resolve_forbund
from workflow.services.paging import Page
from workflow.vocabulary import Role

T = TypeVar("T")

# What each insats of the grown förbund is, by its number modulo 8: its state and its avtal
# (None: none yet). "ersatt+undertecknat": an avtal superseded by a signed one.
KINDS: list[tuple[str, str | None]] = [
    ("avtal", None),  # waits for its avtal
    ("avtal", "utkast"),  # unsigned
    ("pagaende", "ersatt+undertecknat"),  # signed, after an ändring
    ("pagaende", "undertecknat"),  # signed
    ("avslutas", "undertecknat"),  # ending: listed as ended, not among the avtal
    ("avslutad_implementerad", "undertecknat"),  # ended, with follow-up questions
    ("avslutad_avbruten", "undertecknat"),  # ended
    ("under_beredning", None),  # in none of the lists
]


def _grown(app: App, clock: TravelClock, insatser: int) -> World:
    """A förbund with `insatser` insatser of every KIND, straight into the tables: each avtal
    with a report plan, two payments under each (one paid, one held for the helårsrapport;
    several asked for the same day, so that the payment's number decides), an approved
    slutrapport for the ended ones. The diarienummer are not in number order."""
    world = build_world(app, clock)
    now = clock()
    with app.db.transaction() as session:
        forbund = resolve_forbund(session, "test")
        fid = forbund.id
        for n in range(insatser):
            state, status = KINDS[n % len(KINDS)]
            case = Insats(
                forbund_id=fid,  # type: ignore[arg-type]
                number=n + 1,
                # 2026/999, 2026/003, ...: the list order is not the order they were made in.
                dnr=f"2026/{(n * 37 + 11) % 1000:03d}",
                title=f"Insats {n + 1}",
                start_date=date(2027, 1, 1),
                end_date=date(2028, 12, 31),
                decision_paragraph=f"§ {n + 1}/2026",
                state=state,
                budget_requested={"2027": 100},
                state_since=now,
                created_at=now,
                updated_at=now,
            )
            session.add(case)
            session.flush()
            if status is None:
                continue
            for one in status.split("+"):
                agreement = Agreement(
                    forbund_id=fid,  # type: ignore[arg-type]
                    insats_id=case.id,  # type: ignore[arg-type]
                    decision_paragraph=f"§ {n + 1}/2026",
                    start_date=date(2027, 1, 1),
                    end_date=date(2028, 12, 31),
                    amounts={"2027": 100},
                    payment_terms="Helårsvis",
                    status=one,
                    forbund_signed_on=date(2026, 12, 1) if one != "utkast" else None,
                    owner_signed_on=date(2026, 12, 2) if one != "utkast" else None,
                    created_at=now,
                )
                session.add(agreement)
                session.flush()
            plan = [("helar", date(2027, 12, 31), date(2028, 1, 31), "vantar")]
            if state.startswith("avslut"):
                plan.append(("slut", date(2028, 12, 31), date(2029, 2, 28), "godkand"))
            made = []
            for kind, end, due, report_status in plan:
                report = Report(
                    forbund_id=fid,  # type: ignore[arg-type]
                    insats_id=case.id,  # type: ignore[arg-type]
                    agreement_id=agreement.id,  # type: ignore[arg-type]
                    kind=kind,
                    period_start=date(2027, 1, 1),
                    period_end=end,
                    due_on=due,
                    status=report_status,
                    updated_at=now,
                )
                session.add(report)
                session.flush()
                made.append(report)
            if status != "utkast":
                for held, day in ((False, 1 + n % 3), (True, 10 + n % 2)):
                    session.add(
                        Payment(
                            forbund_id=fid,  # type: ignore[arg-type]
                            insats_id=case.id,  # type: ignore[arg-type]
                            agreement_id=agreement.id,  # type: ignore[arg-type]
                            year=2027,
                            amount_tkr=10 + n,
                            requested_on=date(2027, 3, day),
                            status="vilande" if held else "utbetald",
                            waits_for_report_id=made[0].id if held else None,
                            paid_on=None if held else date(2027, 3, day),
                        )
                    )
            if state == "avslutad_implementerad":
                for months in (6, 12):
                    session.add(
                        FollowUpQuestion(
                            forbund_id=fid,  # type: ignore[arg-type]
                            insats_id=case.id,  # type: ignore[arg-type]
                            months_after=months,
                            due_on=date(2029, 1 + months // 2, 1),
                            question=f"Finns det kvar efter {months} månader?",
                        )
                    )
    clock.set(datetime(2028, 3, 1, 9, 0, tzinfo=STOCKHOLM))
    return world


def _walk(fetch: Callable[[str | None], Page[T]]) -> list[list[T]]:
    """Every page of a list, following each page's cursor to the next."""
    pages: list[list[T]] = []
    after: str | None = None
    while True:
        page = fetch(after)
        pages.append(page.items)
        if page.next_after is None:
            return pages
        after = page.next_after


def _payments(app: App, status: str | None = None) -> list[int]:
    """The payments' numbers newest first, read straight from the table."""
    with app.db.reading() as session:
        query = select(Payment)
        if status is not None:
            query = query.where(Payment.status == status)
        rows = session.exec(query).all()
    return [p.id for p in sorted(rows, key=lambda p: (p.requested_on, p.id), reverse=True)]  # type: ignore[misc]


def _refs(app: App, states: set[str], status: str | None) -> list[str]:
    """The diarienummer of the insatser in `states` whose active avtal has `status` (None: that
    have none), in order, read straight from the tables."""
    with app.db.reading() as session:
        found = []
        for case in session.exec(select(Insats).where(col(Insats.state).in_(states))):
            active = agreements.active_agreement(session, case)
            if (active.status if active else None) == status:
                found.append(case.dnr)
    return sorted(found)  # type: ignore[arg-type]


def test_payments_come_newest_first_a_page_at_a_time_with_nothing_lost_or_repeated(
    app: App, clock: TravelClock
) -> None:
    _grown(app, clock, 16)
    for status in (None, "vilande", "utbetald"):
        pages = _walk(
            lambda after, status=status: payments.overview(  # type: ignore[misc]
                app, viewer_email=CHEF, forbund="test", status=status, after=after, limit=3
            )
        )
        assert all(len(items) <= 3 for items in pages) and len(pages) > 2
        assert [p.id for items in pages for p in items] == _payments(app, status), status
        assert status is None or {p.status for items in pages for p in items} == {status}
    held = payments.overview(app, viewer_email=CHEF, forbund="test", held_only=True, limit=500)
    assert [p.id for p in held.items] == _payments(app, "vilande")
    assert all(
        p.waits_for and "helårsrapport förfallen 2028-01-31" in p.waits_for for p in held.items
    )


def test_an_insats_payments_are_listed_with_what_they_wait_for(
    app: App, clock: TravelClock
) -> None:
    _grown(app, clock, 8)
    with app.db.reading() as session:
        dnr = session.exec(select(Insats.dnr).where(Insats.number == 3)).one()
    listed = payments.list_payments(app, ref=dnr, forbund="test")  # type: ignore[arg-type]
    assert [(p.status, p.waits_for_report_id is not None) for p in listed] == [
        ("utbetald", False),
        ("vilande", True),
    ]
    assert listed[1].waits_for == (
        f"helårsrapport förfallen 2028-01-31 (rapport nr {listed[1].waits_for_report_id})"
    )


def test_the_avtal_lists_come_a_page_at_a_time_each_with_only_its_own(
    app: App, clock: TravelClock
) -> None:
    _grown(app, clock, 24)
    wanted = {
        "to_create": _refs(app, {"avtal"}, None),
        "utkast": _refs(app, {"avtal", "pagaende"}, "utkast"),
        "undertecknat": _refs(app, {"avtal", "pagaende"}, "undertecknat"),
    }
    assert [len(refs) for refs in wanted.values()] == [3, 3, 6]
    walked: dict[str, list[list[Any]]] = {
        "to_create": _walk(
            lambda after: agreements.to_create_page(
                app, viewer_email=CHEF, forbund="test", after=after, limit=2
            )
        ),
        **{
            status: _walk(
                lambda after, status=status: agreements.agreements_page(  # type: ignore[misc]
                    app, viewer_email=CHEF, forbund="test", status=status, after=after, limit=2
                )
            )
            for status in ("utkast", "undertecknat")
        },
    }
    for name, pages in walked.items():
        assert [item.ref for items in pages for item in items] == wanted[name], name
        assert all(len(items) <= 2 for items in pages)
    # A signed avtal comes with its report plan, the active one only (not the superseded).
    signed: list[agreements.AgreementView] = [a for items in walked["undertecknat"] for a in items]
    assert {a.status for a in signed} == {"undertecknat"}
    assert all([r.kind for r in a.reports] == ["helar"] for a in signed)
    with app.db.reading() as session:
        active = {
            agreements.active_agreement(session, case).id  # type: ignore[union-attr]
            for case in session.exec(select(Insats).where(Insats.state == "pagaende"))
        }
    assert {a.id for a in signed} == active
    # The first page of each, for the Avtal page.
    first = agreements.overview(app, viewer_email=CHEF, forbund="test", limit=2)
    assert [c.ref for c in first.to_create.items] == wanted["to_create"][:2]
    assert [a.ref for a in first.unsigned.items] == wanted["utkast"][:2]
    assert [a.ref for a in first.signed.items] == wanted["undertecknat"][:2]
    assert first.signed.next_after is not None
    with pytest.raises(BadInput, match="okänd avtalsstatus"):
        agreements.agreements_page(app, viewer_email=CHEF, forbund="test", status="ersatt")


def test_the_ended_insatser_come_a_page_at_a_time_as_each_one_shows(
    app: App, clock: TravelClock
) -> None:
    _grown(app, clock, 24)
    pages = _walk(
        lambda after: closure.ended(app, viewer_email=CHEF, forbund="test", after=after, limit=4)
    )
    ended = [view for items in pages for view in items]
    assert [len(items) for items in pages] == [4, 4, 1]
    refs = _refs(app, {"avslutas", "avslutad_implementerad", "avslutad_avbruten"}, "undertecknat")
    assert [view.ref for view in ended] == refs
    # Each as `closure get` shows it: slutrapport, follow-up questions.
    assert ended == [closure.get(app, ref=ref, forbund="test") for ref in refs]
    assert all(view.final_report_id is not None for view in ended if view.state != "avslutas")
    assert [len(v.follow_up) for v in ended if v.state == "avslutad_implementerad"] == [2, 2, 2]


def test_a_bad_cursor_or_another_lists_cursor_is_one_line_that_says_what_to_do(
    app: App, clock: TravelClock
) -> None:
    _grown(app, clock, 8)
    held = payments.overview(app, viewer_email=CHEF, forbund="test", held_only=True, limit=1)
    assert held.next_after is not None
    tries: list[Callable[[], Any]] = [
        lambda: payments.overview(app, viewer_email=CHEF, forbund="test", after="trasig"),
        # The held list's cursor does not go on in the list of paid ones.
        lambda: payments.overview(
            app, viewer_email=CHEF, forbund="test", status="utbetald", after=held.next_after
        ),
        lambda: agreements.agreements_page(
            app, viewer_email=CHEF, forbund="test", status="undertecknat", after=held.next_after
        ),
        lambda: agreements.to_create_page(app, viewer_email=CHEF, forbund="test", after="x"),
        lambda: closure.ended(app, viewer_email=CHEF, forbund="test", after=held.next_after),
    ]
    for attempt in tries:
        with pytest.raises(BadInput, match="ogiltig sidmarkör") as bad:
            attempt()
        assert "\n" not in str(bad.value)
    with pytest.raises(BadInput, match="sidstorlek"):
        closure.ended(app, viewer_email=CHEF, forbund="test", limit=0)
    with pytest.raises(BadInput, match="okänd status"):
        payments.overview(app, viewer_email=CHEF, forbund="test", status="kaffe")


PAGES: dict[str, Callable[[App], Any]] = {
    "payments page": lambda app: payments.overview(
        app, viewer_email=CHEF, forbund="test", limit=500
    ),
    "held payments page": lambda app: payments.overview(
        app, viewer_email=CHEF, forbund="test", held_only=True, limit=500
    ),
    "an insats's payments": lambda app: payments.list_payments(app, ref="2026/122", forbund="test"),
    "avtal overview": lambda app: agreements.overview(
        app, viewer_email=CHEF, forbund="test", limit=500
    ),
    "signed avtal page": lambda app: agreements.agreements_page(
        app, viewer_email=CHEF, forbund="test", status="undertecknat", limit=500
    ),
    "avtal to draw up page": lambda app: agreements.to_create_page(
        app, viewer_email=CHEF, forbund="test", limit=500
    ),
    "ended page": lambda app: closure.ended(app, viewer_email=CHEF, forbund="test", limit=500),
}


def test_a_page_takes_as_many_queries_for_40_insatser_as_for_8(db_url: str, tmp_path: Any) -> None:
    counts: dict[str, list[int]] = {name: [] for name in PAGES}
    for size in (8, 40):
        clock = TravelClock(datetime(2026, 11, 1, 9, 0, tzinfo=STOCKHOLM))
        app = App.create(_settings_for(db_url, tmp_path, f"funding-{size}"), clock=clock)
        try:
            _grown(app, clock, size)
            for name, read in PAGES.items():
                read(app)  # once to warm what is not about the data (compiled SQL, caches)
                with statements(app) as seen:
                    read(app)
                counts[name].append(len(seen))
        finally:
            app.close()
    assert {name: c[0] for name, c in counts.items()} == {name: c[1] for name, c in counts.items()}
    # The avtal overview: its three lists and their two report plans, besides the förbund and
    # the reader; the ended page: the page, its slutrapporter, closing §§ and questions.
    assert counts["avtal overview"][0] - counts["signed avtal page"][0] == 3
    assert counts["ended page"][0] - counts["avtal to draw up page"][0] == 3


# -- the pages -------------------------------------------------------------------------------

DEMO_CHEF = "chef@akst.example"


def _follow(client: Any, url: str, rows: str, section: str | None = None) -> list[str]:
    """The rows (the values of data attribute `rows`) of every page from `url` on, following
    the Nästa sida links (the one after `section`'s heading, when a page has more lists)."""
    seen: list[str] = []
    next_url: str | None = url
    while next_url is not None:
        page = client.get(next_url)
        assert page.status_code == 200, page.text
        text = page.text if section is None else page.text.split(section, 1)[1]
        text = text.split("<h2", 1)[0] if section is not None else text
        seen += re.findall(rf'data-{rows}="([^"]+)"', text)
        found = re.search(r'<a href="([^"]+)" rel="next">Nästa sida</a>', text)
        next_url = found.group(1).replace("&amp;", "&") if found else None
        if next_url is not None:
            assert "Första sidan" in client.get(next_url).text
    return seen


def test_the_payments_page_links_on_through_the_held_and_the_paid(
    client_as: ClientFactory, demo_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(3):
        payments.request(
            demo_app, ref="2025/002-01", year=2026, amount=10, actor_email=DEMO_CHEF, forbund="akst"
        )
    monkeypatch.setattr(payments, "PAGE_LIMIT", 2)
    chef = client_as(Role.FORBUNDSCHEF)

    def every(status: str) -> list[str]:
        return [
            str(p.id)
            for p in payments.overview(
                demo_app, viewer_email=DEMO_CHEF, forbund="akst", status=status, limit=500
            ).items
        ]

    held, paid = every("vilande"), every("utbetald")
    assert len(held) == 3 and len(paid) > 2
    start = "/ekonomi/utbetalningar"
    assert _follow(chef, start, "payment", "<h2>Vilande utbetalningar</h2>") == held
    assert _follow(chef, start, "payment", "<h2>Utbetalda</h2>") == paid
    # A later page shows only its own list, and each held payment's release button.
    later = chef.get(
        re.findall(r'<a href="([^"]+)" rel="next">', chef.get(start).text)[0].replace("&amp;", "&")
    ).text
    assert "visa=vilande" in later and "<h2>Utbetalda</h2>" not in later
    assert f"Frisläpp utbetalning nr {held[2]}" in later
    # The avtal to ask a payment under are suggested; the form still takes any diarienummer.
    assert '<option value="2025/002-01">' in chef.get(start).text
    for bad in ("?visa=vilande&efter=trasig", "?visa=kaffe", "?efter=trasig"):
        refused = chef.get(start + bad)
        assert refused.status_code == 400, bad
    assert "ogiltig sidmarkör" in chef.get(start + "?visa=vilande&efter=trasig").text.lower()


def test_the_avtal_page_links_on_through_each_list(
    client_as: ClientFactory, demo_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(agreements, "PAGE_LIMIT", 2)
    chef = client_as(Role.FORBUNDSCHEF)
    signed = [
        a.ref
        for a in agreements.agreements_page(
            demo_app, viewer_email=DEMO_CHEF, forbund="akst", status="undertecknat", limit=500
        ).items
    ]
    assert len(signed) > 2
    assert _follow(chef, "/ekonomi/avtal", "agreement", "<h2>Undertecknade avtal</h2>") == signed
    assert _follow(chef, "/ekonomi/avtal?visa=undertecknade", "agreement") == signed
    waiting = _follow(chef, "/ekonomi/avtal?visa=upprattas", "insats")
    assert waiting == ["2013/001-01"]
    refused = chef.get("/ekonomi/avtal?visa=undertecknade&efter=trasig")
    assert refused.status_code == 400 and "ogiltig sidmarkör" in refused.text.lower()


def test_the_closure_page_links_on_to_the_rest_of_the_ended_insatser(
    client_as: ClientFactory, demo_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(closure, "PAGE_LIMIT", 2)
    chef = client_as(Role.FORBUNDSCHEF)
    ended = closure.ended(demo_app, viewer_email=DEMO_CHEF, forbund="akst", limit=500).items
    assert len(ended) > 2
    assert _follow(chef, "/ekonomi/avslut", "insats") == [view.ref for view in ended]
    assert ended == [closure.get(demo_app, ref=view.ref, forbund="akst") for view in ended]
    refused = chef.get("/ekonomi/avslut?efter=trasig")
    assert refused.status_code == 400 and "ogiltig sidmarkör" in refused.text.lower()
