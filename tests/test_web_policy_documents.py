"""A styrdokument's document on the web: attached when registering and renewing, its versions
listed with who added them and when, downloaded as an attachment; refused uploads store
nothing, another förbund gets 404, a person who may not change styrdokument cannot attach.

On SQLite only: the rights and refusals are not database-sensitive (the migration itself is
checked on both databases by tests/test_schema.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.web_support import ClientFactory
from workflow.app import App
from workflow.models import Attachment, AuditEvent, Person
from workflow.vocabulary import Role

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

PDF = b"%PDF-1.4\n% policy v1\n"
PDF2 = b"%PDF-1.4\n% policy v2, renewed\n"


def _count(app: App, model: type) -> int:
    with app.db.reading() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def _files(app: App) -> set[Path]:
    root = Path(app.settings.attachments.directory)
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def _form(client, path: str, data: dict, files=None, token_from: str | None = None):  # type: ignore[no-untyped-def]
    token = client.csrf(token_from or path)
    return client.post(
        path, data={**data, "csrf_token": token}, files=files or [], follow_redirects=False
    )


def _register(client, title: str, files=None):  # type: ignore[no-untyped-def]
    return _form(
        client,
        "/styrdokument",
        {
            "kind": "policy",
            "title": title,
            "decided_by": "Styrelsen",
            "decided_on": "2025-11-20",
            "comment": "§ 12",
        },
        files,
    )


def _policy_id(response) -> int:  # type: ignore[no-untyped-def]
    assert response.status_code == 303, response.text
    found = re.match(r"/styrdokument/(\d+)\?", response.headers["location"])
    assert found, response.headers["location"]
    return int(found.group(1))


def test_attach_on_register_and_renew_list_and_download(
    client_as: ClientFactory, demo_app: App
) -> None:
    chef = client_as(Role.FORBUNDSCHEF)
    policy = _policy_id(
        _register(
            chef, "Policy för bilagor", [("document", ("policy.pdf", PDF, "application/pdf"))]
        )
    )
    page = f"/styrdokument/{policy}"
    renewed = _form(
        chef,
        f"{page}/steg",
        {"trigger": "fornya", "comment": "Förnyad § 3", "decided_on": "2026-11-30"},
        [("document", ("policy-2026.pdf", PDF2, "application/pdf"))],
        token_from=page,
    )
    assert renewed.status_code == 303, renewed.text

    shown = chef.get(page)
    assert shown.status_code == 200
    text = shown.text
    assert "policy.pdf" in text and "policy-2026.pdf" in text
    assert text.index("policy.pdf") < text.index("policy-2026.pdf")  # oldest first
    links = re.findall(rf'href="({page}/dokument/\d+)"', text)
    assert len(links) == 2
    with demo_app.db.reading() as session:
        rows = session.exec(  # type: ignore[attr-defined]
            select(Attachment).where(Attachment.policy_id == policy).order_by(Attachment.id)
        ).all()
    rows = [r[0] for r in rows]
    assert [r.filename for r in rows] == ["policy.pdf", "policy-2026.pdf"]
    assert all(r.insats_id is None and r.subject_kind == "styrdokument" for r in rows)
    # Who added each version and when, in the versions table.
    with demo_app.db.reading() as session:
        adder = session.get(Person, rows[0].added_by_id)
    assert adder is not None and all(r.added_by_id == adder.id for r in rows)
    table = text[text.index('id="dokument-rubrik"') : text.index('id="steg-rubrik"')]
    who_when = rf"<td>{re.escape(adder.name)}</td>\s*<td>2026-12-01 kl\. \d+\.\d+</td>"
    assert len(re.findall(who_when, table)) == 2

    download = chef.get(links[1])
    assert download.status_code == 200
    assert download.content == PDF2
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-type"].startswith("application/pdf")
    # Anyone of the förbund who sees the register may download; the case route does not serve it.
    assert client_as(Role.HANDLAGGARE).get(links[0]).content == PDF
    assert chef.get(f"/bilagor/{rows[0].id}").status_code == 404
    # Each attach is one audit event of its own (besides the register and the two steps).
    with demo_app.db.reading() as session:
        attached = session.execute(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.subject_kind == "attachment", AuditEvent.trigger == "bifoga")
            .where(AuditEvent.subject_id.in_([r.id for r in rows]))  # type: ignore[attr-defined]
        ).scalar_one()
    assert attached == 2


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("policy.exe", b"MZ...", "filtypen"),
        ("../policy.pdf", PDF, "sökväg"),
        ("policy.pdf", b"<html>not a pdf</html>", "inte en PDF-fil"),
    ],
)
def test_a_refused_upload_stores_nothing(
    client_as: ClientFactory, demo_app: App, name: str, content: bytes, says: str
) -> None:
    chef = client_as(Role.FORBUNDSCHEF)
    rows, files = _count(demo_app, Attachment), _files(demo_app)
    refused = _register(chef, "Avvisad policy", [("document", (name, content, "application/pdf"))])
    assert refused.status_code == 400
    assert says.lower() in refused.text.lower()
    assert "Avvisad policy" in refused.text  # the form is kept to correct
    assert _count(demo_app, Attachment) == rows and _files(demo_app) == files
    assert "Avvisad policy</a>" not in chef.get("/styrdokument").text  # nor the policy

    policy = _policy_id(_register(chef, "Policy utan fil"))
    page = f"/styrdokument/{policy}"
    again = _form(chef, f"{page}/dokument", {}, [("document", (name, content, "application/pdf"))])
    assert again.status_code == 400 and says.lower() in again.text.lower()
    assert _count(demo_app, Attachment) == rows and _files(demo_app) == files


def test_another_forbund_gets_404_and_a_handlaggare_cannot_attach(
    client_as: ClientFactory, demo_app: App
) -> None:
    chef = client_as(Role.FORBUNDSCHEF)
    policy = _policy_id(
        _register(chef, "Egen policy", [("document", ("egen.pdf", PDF, "application/pdf"))])
    )
    page = f"/styrdokument/{policy}"
    link = re.search(rf'href="({page}/dokument/\d+)"', chef.get(page).text)
    assert link
    other = client_as(Role.FORBUNDSCHEF, "nv")
    assert other.get(page).status_code == 404
    assert other.get(link.group(1)).status_code == 404
    attempt = _form(
        other,
        f"{page}/dokument",
        {},
        [("document", ("x.pdf", PDF, "application/pdf"))],
        token_from="/styrdokument",
    )
    assert attempt.status_code == 404
    # Another förbund's own policy with this file's number: still not found.
    theirs = _policy_id(_register(other, "Deras policy"))
    attachment = link.group(1).rsplit("/", 1)[1]
    assert other.get(f"/styrdokument/{theirs}/dokument/{attachment}").status_code == 404

    rows = _count(demo_app, Attachment)
    clerk = client_as(Role.HANDLAGGARE)
    shown = clerk.get(page)
    assert shown.status_code == 200 and "Bifoga en ny version" not in shown.text
    refused = _form(
        clerk, f"{page}/dokument", {}, [("document", ("x.pdf", PDF, "application/pdf"))]
    )
    assert refused.status_code == 403
    assert "får inte bifoga" in refused.text
    assert _count(demo_app, Attachment) == rows
