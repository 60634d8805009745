"""The project owner's reports (/rapporter/{id}), attachments (/bilagor/{id}) and a case's
file (/akter/{ref}: its attachments, a form to attach one, and the dossier as one ZIP).

The report page is where a reminder e-mail links (notifications/templates/rapport.*): it
shows the report's kind and period from the agreement's report plan, the goals of the insats,
the förbundschef's request for completion if there is one, and, for the owner while the
report is owed, the form: progress against the goals, utfall in tkr, participants as
aggregate counts, deviations, attachments. "Spara utkast" keeps it to come back to, "Skicka
rapporten" hands it in (services/funding/reports.py decides everything). A case the person
may not see is not found, as is everything of another förbund.

Attachments are always served as a download (Content-Disposition: attachment, nosniff, a
sandboxing CSP), never shown inline.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from workflow.errors import BadInput, Conflict, NotPermitted
from workflow.services import attachments
from workflow.services.funding import reports
from workflow.web.deps import AppDep, CurrentUser, verify_csrf
from workflow.web.templating import render

router = APIRouter()

REPORT_PATH = "/rapporter/{report_id}"
ATTACHMENT_PATH = "/bilagor/{attachment_id}"
FILE_PATH = "/akter/{ref:path}"
DOSSIER_PATH = "/akter/{ref:path}/zip"

REPORT_FIELDS = ("progress", "utfall", "women", "men", "other", "deviations", "comment")
# The most files one form takes at once.
MAX_FILES = 10


def report_url(report_id: int) -> str:
    return f"/rapporter/{report_id}"


def file_url(ref: str) -> str:
    return "/akter/" + quote(ref, safe="/")


def _sentence(error: Exception | str) -> str:
    text = str(error).strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _report_id(raw: str) -> int:
    from workflow.errors import NotFound

    if not raw.isdigit() or len(raw) > 9:
        raise NotFound(f"ingen rapport {raw[:20]!r} som du kan se")
    return int(raw)


def _report_page(
    request: Request,
    app: Any,
    user: Any,
    report_id: int,
    *,
    submitted: dict[str, str] | None = None,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    page = reports.report_page(
        app, report_id=report_id, viewer_email=user.email, forbund=user.forbund_slug
    )
    report = page.report
    values = submitted or {
        "progress": report.progress or "",
        "utfall": "" if report.utfall_tkr is None else str(report.utfall_tkr),
        "women": "" if report.participants_women is None else str(report.participants_women),
        "men": "" if report.participants_men is None else str(report.participants_men),
        "other": "" if report.participants_other is None else str(report.participants_other),
        "deviations": report.deviations or "",
        "comment": report.owner_comment or "" if report.status == "komplettering" else "",
    }
    return render(
        request,
        "reports/report.html.j2",
        {
            "page": page,
            "report": report,
            "values": values,
            "error": error,
            "notice": notice,
            "file_url": file_url(report.ref),
            "max_size": attachments.size_text(app.settings.attachments.max_bytes),
            "allowed": attachments.allowed_text(app),
        },
        status_code=status_code,
    )


NOTICES = {
    "utkast": "Utkastet är sparat. Du kan komma tillbaka och skicka rapporten senare.",
    "skickad": "Rapporten är skickad till förbundet. Tack!",
}


@router.get(REPORT_PATH, response_class=HTMLResponse, include_in_schema=False)
def report_page(request: Request, app: AppDep, user: CurrentUser, report_id: str) -> HTMLResponse:
    done = request.query_params.get("klart")
    return _report_page(request, app, user, _report_id(report_id), notice=NOTICES.get(done or ""))


async def read_uploads(app: Any, files: list[Any]) -> list[attachments.Upload]:
    """The files of a form, each checked (BadInput for the first refused, nothing stored)."""
    uploads = []
    chosen = [f for f in files if isinstance(f, UploadFile) and (f.filename or f.size)]
    if len(chosen) > MAX_FILES:
        raise BadInput(f"högst {MAX_FILES} filer åt gången; skicka resten i en omgång till")
    limit = app.settings.attachments.max_bytes
    for upload in chosen:
        content = await upload.read(limit + 1)
        uploads.append(attachments.check_upload(app, upload.filename or "", content))
    return uploads


@router.post(
    REPORT_PATH,
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
)
async def save_report(request: Request, app: AppDep, user: CurrentUser, report_id: str) -> Response:
    number = _report_id(report_id)
    # The report first: one the person may not see is not found, whatever the form holds.
    reports.report_page(app, report_id=number, viewer_email=user.email, forbund=user.forbund_slug)
    form = await request.form()
    posted = {name: str(form.get(name) or "") for name in REPORT_FIELDS}
    action = str(form.get("action") or "")
    version_text = str(form.get("version") or "")
    try:
        if action not in {"spara", "skicka"}:
            raise BadInput("välj Spara utkast eller Skicka rapporten")
        if not version_text.isdigit():
            raise BadInput("formuläret saknar versionen du såg; ladda om sidan och försök igen")
        uploads = await read_uploads(app, form.getlist("files"))
        # An empty box is no value (the services refuse an empty string as a number).
        given = {k: v if v.strip() else None for k, v in posted.items()}
        common: dict[str, Any] = {
            "actor_email": user.email,
            "report_id": number,
            "forbund": user.forbund_slug,
            "utfall": given["utfall"],
            "deviations": posted["deviations"],
            "women": given["women"],
            "men": given["men"],
            "other": given["other"],
            "comment": posted["comment"],
            "uploads": uploads,
            "expected_version": int(version_text),
        }
        if action == "spara":
            reports.save_draft(app, progress=posted["progress"], **common)
        else:
            reports.submit(app, progress=posted["progress"], **common)
    except (BadInput, NotPermitted, Conflict) as refused:
        status = (
            409
            if isinstance(refused, Conflict)
            else 403
            if isinstance(refused, NotPermitted)
            else 400
        )
        return _report_page(
            request,
            app,
            user,
            number,
            submitted=posted,
            error=_sentence(refused),
            status_code=status,
        )
    done = "utkast" if action == "spara" else "skickad"
    return RedirectResponse(f"{report_url(number)}?klart={done}", status_code=303)


def download(view: attachments.AttachmentView, content: bytes) -> Response:
    """Always a download: never rendered inline, never sniffed, sandboxed if opened."""
    name = view.filename
    disposition = (
        f'attachment; filename="{attachments.download_name(name)}"; '
        f"filename*=UTF-8''{quote(name, safe='')}"
    )
    return Response(
        content,
        media_type=view.content_type,
        headers={
            "Content-Disposition": disposition,
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Cache-Control": "private, no-store",
        },
    )


@router.get(
    ATTACHMENT_PATH,
    include_in_schema=False,
    openapi_extra={"x-finsam-samples": {"attachment_id": "attachment_id"}},
)
def get_attachment(app: AppDep, user: CurrentUser, attachment_id: str) -> Response:
    from workflow.errors import NotFound

    if not attachment_id.isdigit() or len(attachment_id) > 9:
        raise NotFound(f"ingen bilaga {attachment_id[:20]!r} som du kan se")
    view, content = attachments.open_attachment(
        app, attachment_id=int(attachment_id), viewer_email=user.email, forbund=user.forbund_slug
    )
    return download(view, content)


@router.get(DOSSIER_PATH, include_in_schema=False)
def get_dossier(app: AppDep, user: CurrentUser, ref: str) -> Response:
    name, content = attachments.dossier(
        app, ref=ref, viewer_email=user.email, forbund=user.forbund_slug
    )
    return Response(
        content,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


def _file_page(
    request: Request,
    app: Any,
    user: Any,
    ref: str,
    *,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    from workflow.services import cases

    case = cases.get_case(app, ref=ref, forbund=user.forbund_slug, viewer_email=user.email)
    files = attachments.list_for_case(
        app, ref=case.ref, viewer_email=user.email, forbund=user.forbund_slug
    )
    return render(
        request,
        "reports/file.html.j2",
        {
            "case": case,
            "files": files,
            "error": error,
            "notice": notice,
            "file_url": file_url(case.ref),
            "may_attach": attachments.may_attach(
                app, ref=case.ref, actor_email=user.email, forbund=user.forbund_slug
            ),
            "max_size": attachments.size_text(app.settings.attachments.max_bytes),
            "allowed": attachments.allowed_text(app),
            "size_text": attachments.size_text,
        },
        status_code=status_code,
    )


@router.get(FILE_PATH, response_class=HTMLResponse, include_in_schema=False)
def file_page(request: Request, app: AppDep, user: CurrentUser, ref: str) -> HTMLResponse:
    notice = "Filen är bifogad." if request.query_params.get("klart") == "bifogad" else None
    return _file_page(request, app, user, ref, notice=notice)


@router.post(
    FILE_PATH,
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
)
async def attach_file(request: Request, app: AppDep, user: CurrentUser, ref: str) -> Response:
    from workflow.services import cases

    case = cases.get_case(app, ref=ref, forbund=user.forbund_slug, viewer_email=user.email)
    form = await request.form()
    try:
        uploads = await read_uploads(app, form.getlist("files"))
        if not uploads:
            raise BadInput("välj en fil att bifoga")
        kind = str(form.get("subject") or "ansokan")
        subject_id = None
        if kind == "avtal":
            subject_id = attachments.current_agreement(
                app, ref=case.ref, viewer_email=user.email, forbund=user.forbund_slug
            )
        for upload in uploads:
            attachments.add_attachment(
                app,
                ref=case.ref,
                actor_email=user.email,
                subject_kind=kind,
                subject_id=subject_id,
                upload=upload,
                forbund=user.forbund_slug,
            )
    except (BadInput, NotPermitted) as refused:
        return _file_page(
            request,
            app,
            user,
            case.ref,
            error=_sentence(refused),
            status_code=403 if isinstance(refused, NotPermitted) else 400,
        )
    return RedirectResponse(f"{file_url(case.ref)}?klart=bifogad", status_code=303)
