"""The förbundschef's funding pages: the reports table and review, payments, agreements, the
budget frame (seed 004's "Finansiell ram"), Uppföljning Finsam and closure; who reaches them.

TestClient on the demo (both databases); the browser journey is tests/test_web_funding_browser.py.
"""

from __future__ import annotations

import dataclasses
import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.api_support import ApiClientFactory
from tests.web_support import ClientFactory
from workflow.app import App
from workflow.errors import NotPermitted
from workflow.models import FollowUpQuestion, Insats, Payment, Report
from workflow.services.funding import budget_report, payments, reports, uppfoljning
from workflow.vocabulary import Role

CHEF = "chef@akst.example"
PAGES = [
    "/granskning/rapporter",
    "/ekonomi/utbetalningar",
    "/ekonomi/avtal",
    "/ekonomi/budget",
    "/ekonomi/uppfoljning",
    "/ekonomi/avslut",
]
EXPORTS = [
    "/granskning/rapporter.csv",
    "/granskning/rapporter.xlsx",
    "/ekonomi/budget.xlsx",
    "/ekonomi/uppfoljning.csv",
]
# The running insats of the demo whose helårsrapport 2025 and delårsrapport 2026 are owed.
RUNNING = "2025/002-01"


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _cells(html: str, label: str) -> list[str]:
    """The amounts of the budget table's row `label`."""
    row = re.search(r'<tr data-row="' + re.escape(label) + r'">(.*?)</tr>', html, flags=re.S)
    assert row, f"no row {label!r}"
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<td>(.*?)</td>", row.group(1), flags=re.S)
    ]


def _owed(app: App, ref: str) -> list[reports.ReportView]:
    """The insats's reports still owed, earliest due first."""
    return [
        r for r in reports.list_reports(app, ref=ref, forbund="akst") if r.status in reports.OWED
    ]


def _submit(app: App, ref: str, report_id: int, progress: str = "Enligt plan.") -> None:
    reports.submit(
        app,
        ref=ref,
        report_id=report_id,
        actor_email=CHEF,
        forbund="akst",
        progress=progress,
        utfall="120",
        women=3,
        men=4,
        other=0,
    )


def test_the_budget_page_shows_seed_004s_finansiell_ram_for_2013_and_2014(
    client_as: ClientFactory, demo_app: App
) -> None:
    chef = client_as(Role.FORBUNDSCHEF)
    page = chef.get("/ekonomi/budget?ar=2013&ar=2014")
    assert page.status_code == 200
    html = page.text
    assert "År 2013 (tkr)" in html and "År 2014 (tkr)" in html
    assert _cells(html, "Finansiell ram") == ["6\u202f340", "6\u202f340"]
    assert _cells(html, "Total summa") == ["6\u202f145", "6\u202f410"]
    assert _cells(html, "Över-/underskott +/-") == ["+ 295", "+ 225"]
    assert _cells(html, "- Utgångspunkten") == ["1\u202f500", "750"]
    # The parties' contributions: 50/25/25, the kommuner's quarter split between them.
    assert _cells(html, "- Försäkringskassan/Arbetsförmedlingen") == ["3\u202f170", "3\u202f170"]
    assert _cells(html, "- Västra Götalandsregionen") == ["1\u202f585", "1\u202f585"]
    kommuner = [_cells(html, f"- {k}")[0] for k in ("Ale kommun", "Kungälvs kommun")]
    assert kommuner == ["397", "396"]
    # Granted, utfall and prognos per insats and year.
    assert "Beviljat, utfall och prognos 2013" in html
    # Every frame year is offered; without ?ar the page shows them all.
    assert _cells(chef.get("/ekonomi/budget").text, "Finansiell ram") == [
        "6\u202f340",
        "6\u202f340",
    ]

    # The download is the CLI's workbook (budget_report.to_xlsx), cell for cell.
    download = chef.get("/ekonomi/budget.xlsx?ar=2013&ar=2014")
    assert download.status_code == 200
    assert "attachment" in download.headers["content-disposition"]
    ours = load_workbook(io.BytesIO(download.content)).active
    cli = budget_report.to_xlsx(budget_report.build(demo_app, years=[2013, 2014], forbund="akst"))
    theirs = load_workbook(io.BytesIO(cli)).active
    assert [[c.value for c in r] for r in ours.iter_rows()] == [
        [c.value for c in r] for r in theirs.iter_rows()
    ]
    assert ours["A1"].value == "FINANSIELL RAM FÖR 2013 samt 2014"


def test_a_year_over_its_frame_is_warned_about(client_as: ClientFactory, demo_app: App) -> None:
    from workflow.services.funding import budget

    budget.set_item(
        demo_app,
        year=2014,
        section="administration",
        group="",
        label="Extra konsultstöd",
        amount=900,
        actor_email=CHEF,
        forbund="akst",
    )
    html = client_as(Role.FORBUNDSCHEF).get("/ekonomi/budget?ar=2014").text
    assert "Varning för 2014" in html
    assert _cells(html, "Över-/underskott +/-")[0].startswith("-")


def test_only_the_forbundschef_and_admin_reach_the_funding_pages(
    client_as: ClientFactory, demo_app: App
) -> None:
    chef, admin = client_as(Role.FORBUNDSCHEF), client_as(Role.ADMIN)
    for path in PAGES + EXPORTS:
        assert chef.get(path).status_code == 200, path
        assert admin.get(path).status_code == 200, path
    assert 'href="/ekonomi/budget"' in chef.get("/").text
    for role in (Role.PROJEKTAGARE, Role.HANDLAGGARE, Role.STYRELSE_LEDAMOT):
        other = client_as(role)
        for path in PAGES + EXPORTS:
            refused = other.get(path)
            assert refused.status_code == 403, (role, path)
            assert "får inte se förbundets ekonomi" in _text(refused.text)
        home = other.get("/").text
        assert 'href="/ekonomi/budget"' not in home
        assert 'href="/granskning/rapporter"' not in home
        # A change by post is refused as well, and nothing is paid.
        refused = other.post_form(
            "/ekonomi/utbetalningar", {"ref": RUNNING, "year": "2026", "amount": "10"}
        )
        assert refused.status_code == 403
    assert (
        payments.overview(demo_app, viewer_email=CHEF, forbund="akst", held_only=True).items == []
    )


def test_another_forbunds_report_payment_and_agreement_are_not_found(
    client_as: ClientFactory, demo_app: App
) -> None:
    with demo_app.db.reading() as session:
        report_id = session.execute(select(Report.id).order_by(Report.id)).scalars().first()
    nv = client_as(Role.FORBUNDSCHEF, "nv")
    assert nv.get(f"/granskning/rapporter/{report_id}").status_code == 404
    assert nv.post_form(f"/granskning/rapporter/{report_id}/godkann").status_code == 404
    assert nv.get(f"/ekonomi/avtal/{RUNNING}").status_code == 404
    # Their own table does not list akst's reports.
    assert RUNNING not in nv.get("/granskning/rapporter").text


def test_the_reports_table_filters_and_exports(client_as: ClientFactory, demo_app: App) -> None:
    chef = client_as(Role.FORBUNDSCHEF)
    page = chef.get("/granskning/rapporter")
    assert page.status_code == 200
    assert "Försenad" in page.text and RUNNING in page.text
    late = chef.get(f"/granskning/rapporter?grupp=forsenad&typ=helar&ar=2025&text={RUNNING}")
    rows = re.findall(r'<tr data-report="(\d+)">', late.text)
    assert len(rows) == 1
    assert "Helårsrapport" in late.text and "2025-12-31" in late.text
    bad = chef.get("/granskning/rapporter?grupp=kaffe")
    assert bad.status_code == 400 and "okänd grupp" in _text(bad.text).lower()
    csv = chef.get(f"/granskning/rapporter.csv?grupp=forsenad&text={RUNNING}")
    assert csv.status_code == 200 and csv.text.startswith("\ufeffDiarienummer;Insats;Rapport")
    assert f"{RUNNING};" in csv.text and "Försenad" in csv.text
    xlsx = chef.get(f"/granskning/rapporter.xlsx?text={RUNNING}")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = [[c.value for c in r] for r in sheet.iter_rows()]
    assert values[0][:3] == ["Diarienummer", "Insats", "Rapport"]
    assert {row[0] for row in values[1:]} == {RUNNING}


def test_review_asks_completion_then_approves_and_releases_the_held_payment(
    client_as: ClientFactory, demo_app: App
) -> None:
    chef = client_as(Role.FORBUNDSCHEF)
    # A payment asked for today waits for the reports due before it: helår 2025, delår 2026.
    answer = chef.post_form(
        "/ekonomi/utbetalningar",
        {"ref": RUNNING, "year": "2026", "amount": "100"},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and "vilande" in answer.headers["location"]
    held = payments.overview(demo_app, viewer_email=CHEF, forbund="akst", held_only=True).items
    assert len(held) == 1 and "helårsrapport förfallen 2025-12-31" in (held[0].waits_for or "")
    payments_page = chef.get("/ekonomi/utbetalningar").text
    assert "helårsrapport förfallen 2025-12-31" in payments_page
    # Releasing it by hand is refused while the report it waits for is not approved.
    refused = chef.post_form(f"/ekonomi/utbetalningar/{held[0].id}/frislapp")
    assert refused.status_code == 403 and "väntar på helårsrapport" in _text(refused.text)

    helar, delar = _owed(demo_app, RUNNING)[:2]
    assert (helar.kind, delar.kind) == ("helar", "delar")
    _submit(demo_app, RUNNING, helar.id)  # type: ignore[arg-type]
    page = chef.get(f"/granskning/rapporter/{helar.id}")
    assert page.status_code == 200
    assert "Godkänn" in page.text and "Utbetalning nr" in page.text
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)  # type: ignore[union-attr]

    # Completion needs what is missing.
    empty = chef.post_form(
        f"/granskning/rapporter/{helar.id}/komplettering", {"version": version, "comment": ""}
    )
    assert (
        empty.status_code == 400 and "skriv vad som saknas i rapporten" in _text(empty.text).lower()
    )
    asked = chef.post_form(
        f"/granskning/rapporter/{helar.id}/komplettering",
        {"version": version, "comment": "Utfallet per kvartal saknas."},
        follow_redirects=False,
    )
    assert asked.status_code == 303
    assert (
        reports.get_report(demo_app, report_id=helar.id, viewer_email=CHEF, forbund="akst")[
            0
        ].status
        == "komplettering"
    )
    # Approving a report that is not inkommen is refused; so is a version seen before.
    not_in = chef.post_form(f"/granskning/rapporter/{helar.id}/godkann", {"version": version})
    assert not_in.status_code in (403, 409)
    _submit(demo_app, RUNNING, helar.id, "Utfallet per kvartal: se bilagan.")  # type: ignore[arg-type]
    stale = chef.post_form(f"/granskning/rapporter/{helar.id}/godkann", {"version": version})
    assert stale.status_code == 409
    page = chef.get(f"/granskning/rapporter/{helar.id}").text
    version = re.search(r'name="version" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
    approved = chef.post_form(
        f"/granskning/rapporter/{helar.id}/godkann", {"version": version}, follow_redirects=False
    )
    assert approved.status_code == 303
    # Still held: the delårsrapport 2026 was due before the payment was asked for too.
    held = payments.overview(demo_app, viewer_email=CHEF, forbund="akst", held_only=True).items
    assert len(held) == 1 and held[0].waits_for_report_id == delar.id

    _submit(demo_app, RUNNING, delar.id)  # type: ignore[arg-type]
    page = chef.get(f"/granskning/rapporter/{delar.id}").text
    version = re.search(r'name="version" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
    approved = chef.post_form(
        f"/granskning/rapporter/{delar.id}/godkann",
        {"version": version, "comment": "Bra."},
        follow_redirects=True,
    )
    assert "1 vilande utbetalning betalades ut" in _text(approved.text)
    assert (
        payments.overview(demo_app, viewer_email=CHEF, forbund="akst", held_only=True).items == []
    )
    with demo_app.db.reading() as session:
        payment = session.get(Payment, held[0].id)
        assert payment is not None and payment.status == "utbetald"


def test_a_held_payment_is_released_by_hand_once_nothing_holds_it(demo_app: App) -> None:
    view = payments.request(
        demo_app, ref=RUNNING, year=2026, amount=50, actor_email=CHEF, forbund="akst"
    )
    assert view.status == "vilande"
    with pytest.raises(NotPermitted, match="väntar på helårsrapport"):
        payments.release(demo_app, payment_id=view.id, actor_email=CHEF, forbund="akst")
    # With the payment condition switched off, nothing holds it any more.
    funding = demo_app.settings.funding.model_copy(update={"payment_waits_for_report": False})
    settings = demo_app.settings.model_copy(update={"funding": funding})
    unheld = dataclasses.replace(demo_app, settings=settings)
    released = payments.release(unheld, payment_id=view.id, actor_email=CHEF, forbund="akst")
    assert released.status == "utbetald" and released.paid_on == date(2026, 12, 1)
    with pytest.raises(NotPermitted, match="redan utbetald"):
        payments.release(unheld, payment_id=view.id, actor_email=CHEF, forbund="akst")
    with pytest.raises(NotPermitted):
        payments.release(
            demo_app, payment_id=view.id, actor_email="admin@akst.example", forbund="akst"
        )


def test_agreements_are_drawn_up_from_the_decision_and_signed(
    client_as: ClientFactory, demo_app: App
) -> None:
    chef = client_as(Role.FORBUNDSCHEF)
    page = chef.get("/ekonomi/avtal").text
    assert "Upprätta avtal för 2013/001-01" in page
    made = chef.post_form("/ekonomi/avtal/uppratta", {"ref": "2013/001-01"}, follow_redirects=False)
    assert made.status_code == 303
    plan = chef.get(made.headers["location"])
    assert "Rapportplan" in plan.text and "Slutrapport" in plan.text
    assert "Avtalet är upprättat" in plan.text
    listed = chef.get("/ekonomi/avtal").text
    unsigned = listed.split("Avtal som inte är undertecknade")[1].split("Undertecknade avtal")[0]
    assert "2013/001-01" in unsigned
    half = chef.post_form(
        "/ekonomi/avtal/underteckna", {"ref": "2013/001-01", "forbund_signed_on": "2026-11-30"}
    )
    assert half.status_code == 200 and "Underskrifterna är registrerade" in half.text
    assert (
        "2013/001-01"
        in half.text.split("Avtal som inte är undertecknade")[1].split("Undertecknade avtal")[0]
    )
    future = chef.post_form(
        "/ekonomi/avtal/underteckna", {"ref": "2013/001-01", "owner_signed_on": "2030-01-01"}
    )
    assert future.status_code == 400 and "ligger i framtiden" in future.text
    done = chef.post_form(
        "/ekonomi/avtal/underteckna", {"ref": "2013/001-01", "owner_signed_on": "2026-12-01"}
    )
    assert "Alla avtal är undertecknade" in done.text
    # An admin sees the list but may not draw up an avtal (actions.yaml create_agreement).
    admin = client_as(Role.ADMIN)
    assert admin.get("/ekonomi/avtal").status_code == 200
    assert admin.post_form("/ekonomi/avtal/uppratta", {"ref": RUNNING}).status_code == 403


def test_uppfoljning_finsam_page_counts_exports_and_registers(
    client_as: ClientFactory, demo_app: App
) -> None:
    admin = client_as(Role.ADMIN)
    page = admin.get("/ekonomi/uppfoljning?ar=2013").text
    totals = re.search(r'<table id="uf-totaler">(.*?)</table>', page, flags=re.S)
    assert totals is not None
    # 2013: the two followed insatser's helårsrapporter (14+19 kvinnor, 11+22 män, 1 övrig).
    assert _text(totals.group(1)).split("Övriga")[1].split() == ["2013", "6", "33", "33", "1"]
    assert "UF-1402-0113" in page and "2014-01-30" in page
    csv = admin.get("/ekonomi/uppfoljning.csv?ar=2013")
    assert csv.text == "\ufeff" + uppfoljning.export_csv(demo_app, year=2013, forbund="akst")
    saved = admin.post_form(
        "/ekonomi/uppfoljning/registrera",
        {"ref": "2012/013-01", "external_ref": "UF-2612-0001", "registered_on": "2026-11-30"},
        follow_redirects=True,
    )
    assert "Registreringen i Uppföljning Finsam är sparad" in saved.text
    assert "UF-2612-0001" in saved.text and "2026-11-30" in saved.text
    bad = admin.post_form(
        "/ekonomi/uppfoljning/registrera", {"ref": "2012/013-01", "registered_on": "igår"}
    )
    assert bad.status_code == 400 and "är inget datum" in bad.text


def test_the_follow_up_questions_are_answered_once(client_as: ClientFactory, demo_app: App) -> None:
    with demo_app.db.transaction() as session:
        insats_id = session.execute(select(Insats.id).where(Insats.dnr == "014")).scalars().first()
        if insats_id is None:
            insats_id = session.execute(select(Insats.id).order_by(Insats.id)).scalars().first()
        forbund_id = session.get(Insats, insats_id).forbund_id  # type: ignore[union-attr]
        question = FollowUpQuestion(
            forbund_id=forbund_id,
            insats_id=insats_id,
            months_after=6,
            due_on=date(2026, 12, 15),
            question="Finns arbetssättet kvar i ordinarie verksamhet 6 månader efter avslutet?",
        )
        session.add(question)
        session.flush()
        question_id = question.id
    chef = client_as(Role.FORBUNDSCHEF)
    page = chef.get("/ekonomi/avslut").text
    assert "6 månader, senast 15 december 2026" in page
    assert "Avslutad – avbruten" in page
    empty = chef.post_form(f"/ekonomi/avslut/fragor/{question_id}", {"answer": " "})
    assert empty.status_code == 400
    done = chef.post_form(
        f"/ekonomi/avslut/fragor/{question_id}",
        {"answer": "Ja, kommunerna driver teamet vidare."},
        follow_redirects=True,
    )
    assert "Svaret på uppföljningsfrågan är sparat" in done.text
    assert "kommunerna driver teamet vidare" in done.text.split("Besvarade")[1]
    again = chef.post_form(f"/ekonomi/avslut/fragor/{question_id}", {"answer": "Igen."})
    assert again.status_code == 403 and "besvarades redan" in again.text


def test_the_review_api_has_the_cases_apis_rules(api_as: ApiClientFactory, demo_app: App) -> None:
    chef = api_as(Role.FORBUNDSCHEF)
    listed = chef.get("/api/v1/review/reports", params={"group": "forsenad", "q": RUNNING})
    assert listed.status_code == 200
    items = listed.json()["items"]
    assert items and {i["ref"] for i in items} == {RUNNING}
    assert items[0]["group"] == "forsenad"
    owner = api_as(Role.PROJEKTAGARE)
    refused = owner.get("/api/v1/review/reports")
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")

    helar = _owed(demo_app, RUNNING)[0]
    _submit(demo_app, RUNNING, helar.id)  # type: ignore[arg-type]
    shown = chef.get(f"/api/v1/review/reports/{helar.id}")
    assert shown.status_code == 200 and shown.json()["status"] == "inkommen"
    tag = shown.headers["etag"]
    assert (
        api_as(Role.FORBUNDSCHEF, "nv").get(f"/api/v1/review/reports/{helar.id}").status_code == 404
    )
    path = f"/api/v1/review/reports/{helar.id}"
    assert chef.post(f"{path}/completion", json={"comment": "x"}).status_code == 428
    assert (
        chef.post(
            f"{path}/completion", json={"comment": "x"}, headers={"If-Match": '"999"'}
        ).status_code
        == 409
    )
    assert (
        chef.post(
            f"{path}/completion", json={"comment": "x", "extra": 1}, headers={"If-Match": tag}
        ).status_code
        == 400
    )
    headers = {"If-Match": tag, "Idempotency-Key": "granskning-1"}
    first = chef.post(
        f"{path}/completion", json={"comment": "Deltagarantal saknas."}, headers=headers
    )
    assert first.status_code == 200 and first.json()["status"] == "komplettering"
    again = chef.post(
        f"{path}/completion", json={"comment": "Deltagarantal saknas."}, headers=headers
    )
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    _submit(demo_app, RUNNING, helar.id, "Deltagarantal: se nedan.")  # type: ignore[arg-type]
    tag = chef.get(path).headers["etag"]
    assert owner.post(f"{path}/approve", json={}, headers={"If-Match": tag}).status_code == 403
    approved = chef.post(f"{path}/approve", json={"comment": "Godkänd."}, headers={"If-Match": tag})
    assert approved.status_code == 200 and approved.json()["status"] == "godkand"
