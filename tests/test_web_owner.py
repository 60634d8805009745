"""The project owner's side on the web and the API: the start page, the report page (draft,
send, completion), attachments and the dossier, and that nothing of another owner's insats
or another förbund can be seen, reported on or downloaded.

On SQLite only: the rights and refusals are not database-sensitive (the browser journey in
tests/test_web_owner_browser.py runs on both databases).
"""

from __future__ import annotations

import base64
import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.api_support import API
from tests.support import TravelClock
from tests.web_support import ClientFactory, logged_in_client
from workflow.app import App
from workflow.errors import BadInput
from workflow.models import Attachment, OutboxMessage
from workflow.services import attachments
from workflow.services.funding import reports
from workflow.services.reminders import planner
from workflow.vocabulary import Role

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

OWNER = "projektagare@akst.example"
OTHER_OWNER = "projektagare.ale@akst.example"
# Demo reports: 28-31 of 2025/002-01 (OWNER's), 25-27 of 2025/001-01 (OTHER_OWNER's).
OWN_REPORT = 30  # helårsrapport 2026, due 2026-12-31
OTHER_REPORT = 26
PDF = b"%PDF-1.4\n% demo\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def _count(app: App, model: type) -> int:
    with app.db.reading() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def _files(app: App) -> list[Path]:
    root = Path(app.settings.attachments.directory)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _form(client, path: str, data: dict, files=None):  # type: ignore[no-untyped-def]
    token = client.csrf(path)
    return client.post(
        path, data={**data, "csrf_token": token}, files=files or [], follow_redirects=False
    )


def test_start_page_lists_own_insatser_and_due_reports(client_as: ClientFactory) -> None:
    page = client_as(Role.PROJEKTAGARE).get("/")
    assert page.status_code == 200
    text = page.text
    assert "Dina rapporter" in text
    assert f'href="/rapporter/{OWN_REPORT}"' in text
    assert "senast 31 december 2026" in text
    assert "Försenad" in text  # the helårsrapport 2025 (report 28)
    assert "2025/002-01" in text and "2012/011-01" in text
    assert "2025/001-01" not in text  # another owner's insats
    assert "Beviljat per år" in text


def test_draft_then_send_with_attachment(demo_app: App, client_as: ClientFactory) -> None:
    client = client_as(Role.PROJEKTAGARE)
    path = f"/rapporter/{OWN_REPORT}"
    page = client.get(path)
    assert page.status_code == 200 and "Helårsrapport" in page.text
    version = reports.report_page(demo_app, report_id=OWN_REPORT, viewer_email=OWNER).report
    saved = _form(
        client,
        path,
        {"action": "spara", "version": str(version.version), "progress": "Halvvägs", "women": "4"},
        files=[("files", ("lägesbild.pdf", PDF, "application/pdf"))],
    )
    assert saved.status_code == 303, saved.text
    again = client.get(saved.headers["location"])
    assert "Utkastet är sparat" in again.text
    assert "Halvvägs" in again.text and "lägesbild.pdf" in again.text
    report = reports.report_page(demo_app, report_id=OWN_REPORT, viewer_email=OWNER).report
    assert report.status == "vantar" and report.draft_saved_at is not None
    assert report.participants_women == 4
    sent = _form(
        client,
        path,
        {
            "action": "skicka",
            "version": str(report.version),
            "progress": "Målen nås",
            "utfall": "1 200",
            "women": "4",
            "men": "3",
            "other": "0",
        },
    )
    assert sent.status_code == 303, sent.text
    report = reports.report_page(demo_app, report_id=OWN_REPORT, viewer_email=OWNER).report
    assert report.status == "inkommen" and report.utfall_tkr == 1200
    assert [a.filename for a in report.attachments] == ["lägesbild.pdf"]
    # Sent: no form any more, the content is shown.
    assert 'name="action"' not in client.get(path).text


def test_completion_is_shown_and_answered(demo_app: App, client_as: ClientFactory) -> None:
    reports.submit(demo_app, actor_email=OWNER, report_id=OWN_REPORT, progress="Första")
    reports.ask_completion(
        demo_app,
        ref="2025/002-01",
        actor_email="chef@akst.example",
        comment="Deltagarantalen saknas",
        report_id=OWN_REPORT,
    )
    client = client_as(Role.PROJEKTAGARE)
    path = f"/rapporter/{OWN_REPORT}"
    page = client.get(path)
    assert "Förbundet ber om komplettering" in page.text
    assert "Deltagarantalen saknas" in page.text
    assert "Ska kompletteras" in client.get("/").text
    report = reports.report_page(demo_app, report_id=OWN_REPORT, viewer_email=OWNER).report
    answer = _form(
        client,
        path,
        {
            "action": "skicka",
            "version": str(report.version),
            "progress": "Första, kompletterad",
            "women": "2",
            "men": "2",
            "other": "1",
            "comment": "Antalen är tillagda",
        },
    )
    assert answer.status_code == 303, answer.text
    report = reports.report_page(demo_app, report_id=OWN_REPORT, viewer_email=OWNER).report
    assert report.status == "inkommen" and report.owner_comment == "Antalen är tillagda"


def test_refusals_keep_the_text_and_store_nothing(demo_app: App, client_as: ClientFactory) -> None:
    client = client_as(Role.PROJEKTAGARE)
    path = f"/rapporter/{OWN_REPORT}"
    version = str(
        reports.report_page(demo_app, report_id=OWN_REPORT, viewer_email=OWNER).report.version
    )
    before = (_count(demo_app, Attachment), _files(demo_app))
    cases = [
        ({"progress": "Deltagare 19121212-1212 har börjat"}, None, "personnummer"),
        ({"progress": "Bra", "women": "2,5"}, None, "inget heltal"),
        ({"progress": "Bra"}, ("budget.exe", b"MZ...", "application/x-msdownload"), "filtypen"),
        ({"progress": "Bra"}, ("../../etc/passwd.pdf", PDF, "application/pdf"), "sökväg"),
        ({"progress": "Bra"}, ("mapp\\fil.pdf", PDF, "application/pdf"), "sökväg"),
        ({"progress": "Bra"}, ("falsk.pdf", b"<html>", "application/pdf"), "inte en PDF"),
        (
            {"progress": "Bra"},
            ("stor.pdf", PDF + b"0" * demo_app.settings.attachments.max_bytes, "application/pdf"),
            "största tillåtna storlek",
        ),
    ]
    for data, upload, words in cases:
        answer = _form(
            client,
            path,
            {"action": "spara", "version": version, **data},
            files=[("files", upload)] if upload else None,
        )
        assert answer.status_code == 400, (words, answer.status_code)
        assert words.lower() in answer.text.lower(), words
        assert data["progress"] in answer.text  # what the person wrote is kept
    assert (_count(demo_app, Attachment), _files(demo_app)) == before
    report = reports.report_page(demo_app, report_id=OWN_REPORT, viewer_email=OWNER).report
    assert report.draft_saved_at is None and report.progress is None
    # Sending without progress is refused in words.
    empty = _form(client, path, {"action": "skicka", "version": version})
    assert empty.status_code == 400 and "lägesbeskrivning" in empty.text


def test_upload_checks(demo_app: App) -> None:
    for name, content, words in [
        ("", PDF, "saknar namn"),
        ("..", PDF, "sökväg"),
        ("C:evil.pdf", PDF, "sökväg"),
        (".hidden.pdf", PDF, "börjar med en punkt"),
        ("rad\nbrytning.pdf", PDF, "styrtecken"),
        ("script.html", b"<script>", "filtypen"),
        ("tom.pdf", b"", "tom"),
        ("bild.png", PDF, "inte en PNG"),
    ]:
        with pytest.raises(BadInput, match=words):
            attachments.check_upload(demo_app, name, content)
    ok = attachments.check_upload(demo_app, "Bild ÅÄÖ.png", PNG)
    assert ok.content_type == "image/png" and len(ok.sha256) == 64


def test_download_is_always_an_attachment(demo_app: App, client_as: ClientFactory) -> None:
    view = attachments.add_attachment(
        demo_app,
        ref="2025/002-01",
        actor_email=OWNER,
        subject_kind="ansokan",
        upload=attachments.check_upload(demo_app, "Budget 2027 å.pdf", PDF),
    )
    # The same content twice is kept once, under its hash.
    attachments.add_attachment(
        demo_app,
        ref="2025/002-01",
        actor_email="chef@akst.example",
        subject_kind="ansokan",
        upload=attachments.check_upload(demo_app, "kopia.pdf", PDF),
    )
    assert len(_files(demo_app)) == 1
    answer = client_as(Role.PROJEKTAGARE).get(view.url)
    assert answer.status_code == 200 and answer.content == PDF
    assert answer.headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''Budget%202027%20%C3%A5.pdf" in answer.headers["content-disposition"]
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in answer.headers["content-security-policy"]
    listing = client_as(Role.FORBUNDSCHEF).get("/akter/2025/002-01")
    assert listing.status_code == 200
    assert "Budget 2027 å.pdf" in listing.text, listing.text[-3000:]
    assert "kopia.pdf" in listing.text
    assert "Maria Lindqvist" in listing.text and "Jenny Olsson" in listing.text  # who added


def test_dossier_zip_with_manifest(demo_app: App, client_as: ClientFactory) -> None:
    reports.submit(
        demo_app,
        actor_email=OWNER,
        report_id=OWN_REPORT,
        progress="Klart",
        uploads=[attachments.check_upload(demo_app, "rapport.pdf", PDF)],
    )
    answer = client_as(Role.PROJEKTAGARE).get("/akter/2025/002-01/zip")
    assert answer.status_code == 200
    assert answer.headers["content-disposition"].startswith("attachment;")
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    names = archive.namelist()
    assert {"manifest.json", "ansokan-och-beslut.json", "avtal.json", "rapporter.json"} <= set(
        names
    )
    assert any(n.startswith("bilagor/") and n.endswith("rapport.pdf") for n in names)
    import json

    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["arende"] == "2025/002-01"
    assert {f["namn"] for f in manifest["filer"]} == set(names) - {"manifest.json"}
    assert manifest["bilagor"][0]["tillagd_av"]


def test_another_owner_sees_nothing(demo_app: App, web, client_as: ClientFactory) -> None:  # type: ignore[no-untyped-def]
    mine = attachments.add_attachment(
        demo_app,
        ref="2025/001-01",
        actor_email=OTHER_OWNER,
        subject_kind="ansokan",
        upload=attachments.check_upload(demo_app, "hemlig.pdf", PDF),
    )
    owner = client_as(Role.PROJEKTAGARE)
    for path in (
        f"/rapporter/{OTHER_REPORT}",
        mine.url,
        "/akter/2025/001-01",
        "/akter/2025/001-01/zip",
        "/rapporter/999999",
        "/rapporter/abc",
        "/bilagor/999999",
    ):
        answer = owner.get(path)
        assert answer.status_code == 404, path
        assert "hemlig" not in answer.text
    token = owner.csrf("/")
    posted = owner.post(
        f"/rapporter/{OTHER_REPORT}",
        data={"csrf_token": token, "action": "skicka", "version": "1", "progress": "x"},
        files=[("files", ("x.pdf", PDF, "application/pdf"))],
    )
    assert posted.status_code == 404
    posted = owner.post(
        "/akter/2025/001-01",
        data={"csrf_token": token},
        files=[("files", ("x.pdf", PDF, "application/pdf"))],
    )
    assert posted.status_code == 404
    # The other owner does see their own.
    other = logged_in_client(web, OTHER_OWNER, "akst")
    assert other.get(mine.url).status_code == 200
    assert other.get(f"/rapporter/{OTHER_REPORT}").status_code == 200
    other.__exit__(None, None, None)
    # Another förbund: 404 for every one of these, whatever the role.
    for role in (Role.PROJEKTAGARE, Role.FORBUNDSCHEF):
        stranger = client_as(role, "nv")
        for path in (f"/rapporter/{OWN_REPORT}", mine.url, "/akter/2025/001-01/zip"):
            assert stranger.get(path).status_code == 404, (role, path)
    report = reports.report_page(demo_app, report_id=OTHER_REPORT, viewer_email=OTHER_OWNER)
    assert report.report.status == "vantar" and report.report.attachments == []


def test_api_due_draft_submit_and_rights(demo_app: App, api_as) -> None:  # type: ignore[no-untyped-def]
    owner = api_as(Role.PROJEKTAGARE)
    due = owner.get(f"{API}/reports/due")
    assert due.status_code == 200
    ids = [item["id"] for item in due.json()["items"]]
    assert OWN_REPORT in ids and OTHER_REPORT not in ids
    shown = owner.get(f"{API}/reports/{OWN_REPORT}")
    assert shown.status_code == 200
    etag = shown.headers["etag"]
    body = {
        "progress": "Via API",
        "participants_women": 1,
        "attachments": [{"filename": "api.pdf", "content_base64": base64.b64encode(PDF).decode()}],
    }
    assert owner.post(f"{API}/reports/{OWN_REPORT}/draft", json=body).status_code == 428
    saved = owner.post(
        f"{API}/reports/{OWN_REPORT}/draft",
        json=body,
        headers={"If-Match": etag, "Idempotency-Key": "utkast-1"},
    )
    assert saved.status_code == 200, saved.text
    replay = owner.post(
        f"{API}/reports/{OWN_REPORT}/draft",
        json=body,
        headers={"If-Match": etag, "Idempotency-Key": "utkast-1"},
    )
    assert replay.headers.get("idempotent-replayed") == "true"
    assert len(saved.json()["attachments"]) == 1
    stale = owner.post(
        f"{API}/reports/{OWN_REPORT}/submit", json={"progress": "x"}, headers={"If-Match": etag}
    )
    assert stale.status_code == 409
    assert stale.headers["content-type"].startswith("application/problem+json")
    bad = owner.post(
        f"{API}/reports/{OWN_REPORT}/submit",
        json={"progress": "x", "attachments": [{"filename": "a.exe", "content_base64": "TVo="}]},
        headers={"If-Match": saved.headers["etag"]},
    )
    assert bad.status_code == 400 and "filtypen" in bad.json()["detail"]
    sent = owner.post(
        f"{API}/reports/{OWN_REPORT}/submit",
        json={"progress": "Inskickad via API", "utfall_tkr": 300},
        headers={"If-Match": saved.headers["etag"]},
    )
    assert sent.status_code == 200, sent.text
    assert sent.json()["status"] == "inkommen"
    file_url = saved.json()["attachments"][0]["url"]
    download = owner.get(file_url)
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-disposition"].startswith("attachment;")
    # Another owner's report, another förbund: 404.
    assert owner.get(f"{API}/reports/{OTHER_REPORT}").status_code == 404
    assert (
        owner.post(
            f"{API}/reports/{OTHER_REPORT}/submit",
            json={"progress": "x"},
            headers={"If-Match": '"1"'},
        ).status_code
        == 404
    )
    stranger = api_as(Role.FORBUNDSCHEF, "nv")
    assert stranger.get(f"{API}/reports/{OWN_REPORT}").status_code == 404
    assert stranger.get(file_url).status_code == 404


def test_reminder_links_to_the_report_page(demo_app: App, web_clock: TravelClock) -> None:
    web_clock.set(datetime(2026, 12, 10, 8, 0, tzinfo=UTC))
    planner.sweep(demo_app, worker="test")
    with demo_app.db.reading() as session:
        rows = session.execute(
            select(OutboxMessage.text_body, OutboxMessage.html_body).where(
                OutboxMessage.to_address == OWNER
            )
        ).all()
    assert rows
    link = f"{demo_app.settings.web.public_url}/rapporter/{OWN_REPORT}"
    assert any(link in text and f'href="{link}"' in html for text, html in rows)
    # Minimum detail: the report's content is behind the login.
    assert all("utfall" not in text.lower() for text, _ in rows)


def test_gallring_rule_disposes_of_attachments(
    demo_app: App, web_clock: TravelClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workflow.services.archive import gallring

    upload = attachments.check_upload(demo_app, "gammal.pdf", PDF)
    running = attachments.add_attachment(
        demo_app, ref="2025/002-01", actor_email=OWNER, subject_kind="ansokan", upload=upload
    )
    ended = attachments.add_attachment(
        demo_app,
        ref="2025/003-01",  # avslutad (avbruten)
        actor_email="chef@akst.example",
        subject_kind="ansokan",
        upload=attachments.check_upload(demo_app, "slut.pdf", PDF + b"slut"),
    )
    web_clock.advance(days=2)
    # The shipped plan has no rule for bilaga: nothing goes.
    gallring.dispose(demo_app, actor_email="chef@akst.example", forbund="akst")
    assert _count(demo_app, Attachment) == 2 and len(_files(demo_app)) == 2
    plan = tmp_path / "plan.yaml"
    plan.write_text("rules:\n  - {kind: bilaga, keep_years: 0, from: added}\n")
    monkeypatch.setattr(gallring, "plan_path", lambda app: plan)
    done = gallring.dispose(demo_app, actor_email="chef@akst.example", forbund="akst")
    assert [d.ids for d in done if d.kind == "bilaga"] == [[ended.id]]
    with demo_app.db.reading() as session:
        assert session.get(Attachment, running.id) is not None
        assert session.get(Attachment, ended.id) is None
    assert [p.name for p in _files(demo_app)] == [running.sha256]


def test_draft_rules_in_the_service(demo_app: App) -> None:
    from workflow.errors import Conflict, NotFound, NotPermitted

    upload = attachments.check_upload(demo_app, "utkast.pdf", PDF)
    # A change made since the person opened the report: refused, and the file not kept.
    with pytest.raises(Conflict, match="har ändrats sedan"):
        reports.save_draft(
            demo_app,
            actor_email=OWNER,
            report_id=OWN_REPORT,
            progress="x",
            uploads=[upload],
            expected_version=99,
        )
    assert _files(demo_app) == [] and _count(demo_app, Attachment) == 0
    draft = reports.save_draft(
        demo_app, actor_email=OWNER, report_id=OWN_REPORT, women=3, uploads=[upload]
    )
    assert draft.status == "vantar" and draft.participants_women == 3
    assert len(_files(demo_app)) == 1
    # Another owner's report is not found; another förbund's too.
    with pytest.raises(NotFound):
        reports.save_draft(demo_app, actor_email=OWNER, report_id=OTHER_REPORT, women=1)
    with pytest.raises(NotFound):
        reports.save_draft(demo_app, actor_email="projektagare@nv.example", report_id=OWN_REPORT)
    reports.submit(demo_app, actor_email=OWNER, report_id=OWN_REPORT, progress="Klar")
    with pytest.raises(NotPermitted, match="kan inte ändras"):
        reports.save_draft(demo_app, actor_email=OWNER, report_id=OWN_REPORT, women=4)
    with pytest.raises(BadInput, match="orimligt stort"):
        reports.save_draft(demo_app, actor_email=OWNER, report_id=28, utfall=10**12)
