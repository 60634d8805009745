"""Attachments (bilagor) of applications, reports and agreements, and a case's dossier.

    upload = check_upload(app, "budget.xlsx", content)   # refused here: nothing is stored
    add(session, app, actor, case, "rapport", report.id, upload, now)   # inside a change
    add_attachment(app, ref=..., actor_email=..., subject_kind="ansokan", upload=...)
    list_for_case(app, ref=..., viewer_email=...)        # who added what and when
    open_attachment(app, attachment_id=..., viewer_email=...)  # the bytes, to download
    dossier(app, ref=..., viewer_email=...)              # the whole case as one ZIP
    add_to_policy(session, app, head, actor, doc, upload, now)  # a styrdokument's document

A styrdokument's document versions are attachments too (subject_kind `styrdokument`,
policy_id set, no insats); services/policies/documents.py decides who may attach, list and
download them. The case functions here never return one.

A file is kept outside the database, in [attachments] directory, under the SHA-256 of its
content (ab/abcdef…): the same file attached twice is kept once. A refused upload (too large,
a type not in [attachments] types, content that is not what its name says, a name that tries a
path) raises BadInput before anything is written. Whoever may see the case may list and
download its attachments; anyone else (another owner's insats, another förbund) gets "not
found", in the same words as an attachment that does not exist. Attachments are never deleted
here: only a gallring rule of kind `bilaga` (services/archive/gallring.py) disposes of them.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import unicodedata
import zipfile
from dataclasses import asdict, dataclass, is_dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from workflow.app import App
from workflow.errors import BadInput, NotFound, NotPermitted
from workflow.models import Agreement, Attachment, Insats, Person, PolicyDocument, Report
from workflow.services.cases import case_ref
from workflow.services.cases.audit import ChainHead
from workflow.services.cases.change import begin_change
from workflow.services.cases.rights import can_see, visible_case
from workflow.services.funding.report_plan import KIND_LABELS
from workflow.services.funding.support import record
from workflow.services.organisation.forbund import resolve_forbund
from workflow.services.organisation.people import Actor, find_actor
from workflow.vocabulary import Role

SUBJECT_LABELS = {"ansokan": "ansökan", "rapport": "rapport", "avtal": "avtal"}
POLICY_KIND = "styrdokument"
# Roles that may attach files to any case they see; others only to their own insats.
KANSLI_ROLES = frozenset({Role.HANDLAGGARE, Role.FORBUNDSCHEF, Role.SEKRETERARE, Role.ADMIN})
MAX_NAME = 120

# What the first bytes of each kind of file are: a file whose content is not what its name
# says is refused (a page or script renamed .pdf).
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Word, Excel, PowerPoint 97-2003
_ZIP = b"PK\x03\x04"  # Office Open XML and OpenDocument
MAGIC = {
    "pdf": (b"%PDF-",),
    "doc": (_OLE,),
    "xls": (_OLE,),
    "ppt": (_OLE,),
    "docx": (_ZIP,),
    "xlsx": (_ZIP,),
    "pptx": (_ZIP,),
    "odt": (_ZIP,),
    "ods": (_ZIP,),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
}


@dataclass(frozen=True)
class Upload:
    """A file that passed the checks: its clean name, type, content and hash."""

    filename: str
    content_type: str
    content: bytes
    sha256: str


@dataclass
class AttachmentView:
    id: int
    ref: str
    subject_kind: str
    subject_label: str
    subject_id: int | None
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    added_by: str
    added_at: datetime

    @property
    def url(self) -> str:
        if self.subject_kind == POLICY_KIND:
            return f"/styrdokument/{self.subject_id}/dokument/{self.id}"
        return f"/bilagor/{self.id}"

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "url": self.url}


def size_text(size: int) -> str:
    """'2,5 MB', '340 kB', '12 byte' (Swedish decimal comma)."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB".replace(".", ",")
    if size >= 1024:
        return f"{round(size / 1024)} kB"
    return f"{size} byte"


def allowed_text(app: App) -> str:
    return ", ".join(sorted({ending.upper() for ending in app.settings.attachments.types}))


def check_name(raw: str) -> str:
    """The file name as given, if it is a plain name: no folders, no '..', no control
    characters, not hidden; otherwise refused naming the problem."""
    name = unicodedata.normalize("NFC", (raw or "").strip())
    if not name:
        raise BadInput("filen saknar namn; välj en fil att bifoga")
    if "/" in name or "\\" in name or name in {".", ".."} or ".." in name or ":" in name:
        raise BadInput(
            f"filnamnet {name[:60]!r} innehåller en sökväg (/, \\, : eller ..); "
            "byt namn på filen till ett enkelt namn och försök igen"
        )
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise BadInput("filnamnet innehåller styrtecken; byt namn på filen och försök igen")
    if name.startswith("."):
        raise BadInput(f"filnamnet {name[:60]!r} börjar med en punkt; byt namn på filen")
    if len(name) > MAX_NAME:
        raise BadInput(f"filnamnet är längre än {MAX_NAME} tecken; korta det och försök igen")
    return name


def check_upload(app: App, filename: str, content: bytes) -> Upload:
    """The checks every upload passes before anything is stored (BadInput otherwise)."""
    settings = app.settings.attachments
    name = check_name(filename)
    ending = name.rpartition(".")[2].lower() if "." in name else ""
    if ending not in settings.types:
        raise BadInput(f"filtypen för {name!r} tas inte emot; bifoga {allowed_text(app)}")
    if len(content) > settings.max_bytes:
        raise BadInput(
            f"filen {name!r} är {size_text(len(content))}; största tillåtna storlek är "
            f"{size_text(settings.max_bytes)}; dela upp eller komprimera den"
        )
    if not content:
        raise BadInput(f"filen {name!r} är tom; välj filen igen")
    magic = MAGIC.get(ending)
    if magic is not None and not content.startswith(magic):
        raise BadInput(
            f"filen {name!r} är inte en {ending.upper()}-fil som namnet säger; "
            "spara den i rätt format och försök igen"
        )
    return Upload(name, settings.types[ending], content, hashlib.sha256(content).hexdigest())


def _root(app: App) -> Path:
    return Path(app.settings.attachments.directory)


def blob_path(app: App, sha256: str) -> Path:
    if len(sha256) != 64 or any(ch not in "0123456789abcdef" for ch in sha256):
        raise NotFound("ingen sådan bilaga")
    return _root(app) / sha256[:2] / sha256


def _write_blob(app: App, upload: Upload) -> bool:
    """Keep the content under its hash; True if this call created the file."""
    path = blob_path(app, upload.sha256)
    if path.is_file():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(upload.content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True


def _may_attach(actor: Actor, case: Insats) -> bool:
    return bool(actor.roles & KANSLI_ROLES) or actor.id in {
        case.project_owner_id,
        case.submitted_by_id,
    }


def _subject_ref(session: Session, case: Insats, kind: str, subject_id: int | None) -> str:
    if kind not in SUBJECT_LABELS:
        raise BadInput(f"okänt slag av bilaga {kind!r}; välj bland: {', '.join(SUBJECT_LABELS)}")
    if kind == "ansokan":
        if subject_id is not None:
            raise BadInput("en bilaga till ansökan hör till ärendet, inte till ett id")
        return f"{case_ref(case)} ansökan"
    model = Report if kind == "rapport" else Agreement
    row = session.get(model, subject_id) if subject_id is not None else None
    if row is None or row.insats_id != case.id:
        raise NotFound(f"{case_ref(case)} har ingen {SUBJECT_LABELS[kind]} nr {subject_id}")
    if isinstance(row, Report):
        return f"{case_ref(case)} {KIND_LABELS[row.kind]} {row.due_on.isoformat()}"
    return f"{case_ref(case)} avtal {row.id}"


class _Written:
    """Blobs created in this change, removed again if the change does not commit."""

    def __init__(self) -> None:
        self.paths: list[Path] = []

    def undo(self) -> None:
        for path in self.paths:
            path.unlink(missing_ok=True)


def add(
    session: Session,
    app: App,
    head: ChainHead,
    actor: Actor,
    case: Insats,
    subject_kind: str,
    subject_id: int | None,
    upload: Upload,
    now: datetime,
    written: _Written | None = None,
) -> Attachment:
    """Attach a checked upload inside the caller's change (one audit event)."""
    if not _may_attach(actor, case):
        raise NotPermitted(
            "du får inte bifoga filer till det här ärendet; det får kansliet och insatsens "
            "projektägare"
        )
    ref = _subject_ref(session, case, subject_kind, subject_id)
    row = Attachment(
        forbund_id=case.forbund_id,
        insats_id=case.id,  # type: ignore[arg-type]
        subject_kind=subject_kind,
        subject_id=subject_id,
        filename=upload.filename,
        content_type=upload.content_type,
        size_bytes=len(upload.content),
        sha256=upload.sha256,
        added_by_id=actor.id,
        added_at=now,
    )
    session.add(row)
    session.flush()
    record(
        session,
        head,
        kind="attachment",
        row_id=row.id,  # type: ignore[arg-type]
        ref=ref,
        from_state=None,
        to_state="bifogad",
        trigger="bifoga",
        actor=actor,
        now=now,
        data={
            "filename": upload.filename,
            "sha256": upload.sha256,
            "size_bytes": len(upload.content),
            "subject_kind": subject_kind,
            "subject_id": subject_id,
        },
    )
    if _write_blob(app, upload) and written is not None:
        written.paths.append(blob_path(app, upload.sha256))
    return row


def add_to_policy(
    session: Session,
    app: App,
    head: ChainHead,
    actor: Actor,
    doc: PolicyDocument,
    ref: str,
    upload: Upload,
    now: datetime,
    written: _Written | None = None,
) -> Attachment:
    """Keep a checked upload as a new version of a styrdokument's document, inside the
    caller's change (one audit event). The caller has checked the person's right."""
    row = Attachment(
        forbund_id=doc.forbund_id,
        insats_id=None,
        policy_id=doc.id,
        subject_kind=POLICY_KIND,
        subject_id=None,
        filename=upload.filename,
        content_type=upload.content_type,
        size_bytes=len(upload.content),
        sha256=upload.sha256,
        added_by_id=actor.id,
        added_at=now,
    )
    session.add(row)
    session.flush()
    record(
        session,
        head,
        kind="attachment",
        row_id=row.id,  # type: ignore[arg-type]
        ref=f"{ref} dokument",
        from_state=None,
        to_state="bifogad",
        trigger="bifoga",
        actor=actor,
        now=now,
        data={
            "filename": upload.filename,
            "sha256": upload.sha256,
            "size_bytes": len(upload.content),
            "subject_kind": POLICY_KIND,
            "policy_id": doc.id,
        },
    )
    if _write_blob(app, upload) and written is not None:
        written.paths.append(blob_path(app, upload.sha256))
    return row


def policy_view(row: Attachment, ref: str, added_by: str) -> AttachmentView:
    return AttachmentView(
        id=row.id,  # type: ignore[arg-type]
        ref=ref,
        subject_kind=POLICY_KIND,
        subject_label=POLICY_KIND,
        subject_id=row.policy_id,
        filename=row.filename,
        content_type=row.content_type,
        size_bytes=row.size_bytes,
        sha256=row.sha256,
        added_by=added_by,
        added_at=row.added_at,
    )


def policy_views(session: Session, doc: PolicyDocument, ref: str) -> list[AttachmentView]:
    """The versions of a styrdokument's document, oldest first, with who added each."""
    rows = session.exec(
        select(Attachment, Person.name)
        .join(Person, col(Person.id) == col(Attachment.added_by_id))
        .where(Attachment.policy_id == doc.id, Attachment.forbund_id == doc.forbund_id)
        .order_by(col(Attachment.added_at), col(Attachment.id))
    ).all()
    return [policy_view(row, ref, name) for row, name in rows]


def read_blob(app: App, view: AttachmentView) -> bytes:
    try:
        return blob_path(app, view.sha256).read_bytes()
    except FileNotFoundError:
        raise NotFound(
            f"filen till bilaga nr {view.id} saknas i arkivet; kontakta kansliet"
        ) from None


def storing() -> _Written:
    return _Written()


def add_attachment(
    app: App,
    *,
    ref: str,
    actor_email: str,
    subject_kind: str,
    upload: Upload,
    subject_id: int | None = None,
    forbund: str | None = None,
) -> AttachmentView:
    """Attach one checked file to a case's application, report or agreement."""
    now = app.clock()
    written = storing()
    try:
        with app.db.transaction() as session:
            organisation, head, actor = begin_change(session, forbund, actor_email)
            case = visible_case(session, app, organisation, ref, actor)
            row = add(
                session, app, head, actor, case, subject_kind, subject_id, upload, now, written
            )
            return _view(row, case, actor.name)
    except BaseException:
        written.undo()
        raise


def _view(row: Attachment, case: Insats, added_by: str) -> AttachmentView:
    return AttachmentView(
        id=row.id,  # type: ignore[arg-type]
        ref=case_ref(case),
        subject_kind=row.subject_kind,
        subject_label=SUBJECT_LABELS.get(row.subject_kind, row.subject_kind),
        subject_id=row.subject_id,
        filename=row.filename,
        content_type=row.content_type,
        size_bytes=row.size_bytes,
        sha256=row.sha256,
        added_by=added_by,
        added_at=row.added_at,
    )


def views_of(
    session: Session, case: Insats, subject_kind: str | None = None, subject_id: int | None = None
) -> list[AttachmentView]:
    query = (
        select(Attachment, Person.name)
        .join(Person, col(Person.id) == col(Attachment.added_by_id))
        .where(Attachment.insats_id == case.id)
    )
    if subject_kind is not None:
        query = query.where(Attachment.subject_kind == subject_kind)
        if subject_id is not None:
            query = query.where(Attachment.subject_id == subject_id)
    rows = session.exec(query.order_by(col(Attachment.added_at), col(Attachment.id))).all()
    return [_view(row, case, name) for row, name in rows]


def list_for_case(
    app: App, *, ref: str, viewer_email: str, forbund: str | None = None
) -> list[AttachmentView]:
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund, viewer_email)
        actor = find_actor(session, organisation, viewer_email)
        case = visible_case(session, app, organisation, ref, actor)
        return views_of(session, case)


def open_attachment(
    app: App, *, attachment_id: int, viewer_email: str, forbund: str | None = None
) -> tuple[AttachmentView, bytes]:
    """The attachment and its content, if the person may see its case; else not found."""
    missing = NotFound(f"ingen bilaga nr {attachment_id} som du kan se")
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund, viewer_email)
        actor = find_actor(session, organisation, viewer_email)
        row = session.get(Attachment, attachment_id) if 0 < attachment_id < 2**31 else None
        if row is None or row.forbund_id != organisation.id or row.insats_id is None:
            raise missing
        case = session.get(Insats, row.insats_id)
        if case is None or not can_see(app, actor, case):
            raise missing
        person = session.get(Person, row.added_by_id)
        view = _view(row, case, person.name if person else "")
    try:
        content = blob_path(app, view.sha256).read_bytes()
    except FileNotFoundError:
        raise NotFound(
            f"filen till bilaga nr {attachment_id} saknas i arkivet; kontakta kansliet"
        ) from None
    return view, content


def download_name(name: str) -> str:
    """An ASCII fallback of a file name for Content-Disposition's filename=."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    cleaned = "".join(ch if ch.isalnum() or ch in "._- " else "_" for ch in ascii_name).strip()
    return cleaned or "bilaga"


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _dumps(value: Any) -> bytes:
    return (json.dumps(_plain(value), ensure_ascii=False, indent=2) + "\n").encode()


def _row_dict(row: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {k: v for k, v in row.model_dump().items() if k not in skip}


def dossier(
    app: App, *, ref: str, viewer_email: str, forbund: str | None = None
) -> tuple[str, bytes]:
    """The case as one ZIP: its application and history (decisions included), agreements,
    reports and attachments, with a manifest of every file and its SHA-256. The file name and
    the ZIP's bytes; not found for a case the person may not see."""
    from workflow.services import cases as case_service

    view = case_service.get_case(app, ref=ref, forbund=forbund, viewer_email=viewer_email)
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund, viewer_email)
        actor = find_actor(session, organisation, viewer_email)
        case = visible_case(session, app, organisation, ref, actor)
        agreements = session.exec(
            select(Agreement).where(Agreement.insats_id == case.id).order_by(col(Agreement.id))
        ).all()
        reports = session.exec(
            select(Report).where(Report.insats_id == case.id).order_by(col(Report.due_on))
        ).all()
        files = views_of(session, case)
        entries: list[tuple[str, bytes]] = [
            ("ansokan-och-beslut.json", _dumps(view)),
            ("avtal.json", _dumps([_row_dict(a) for a in agreements])),
            ("rapporter.json", _dumps([_row_dict(r, ("draft_saved_at",)) for r in reports])),
        ]
    for item in files:
        try:
            content = blob_path(app, item.sha256).read_bytes()
        except FileNotFoundError:
            continue
        entries.append((f"bilagor/{item.id}-{download_name(item.filename)}", content))
    manifest = {
        "arende": view.ref,
        "titel": view.title,
        "skapad": app.clock().isoformat(),
        "skapad_av": viewer_email,
        "filer": [
            {"namn": name, "storlek": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            for name, data in entries
        ],
        "bilagor": [
            {
                "fil": f"bilagor/{item.id}-{download_name(item.filename)}",
                "namn": item.filename,
                "hor_till": item.subject_label,
                "tillagd_av": item.added_by,
                "tillagd": item.added_at.isoformat(),
                "sha256": item.sha256,
            }
            for item in files
        ],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", _dumps(manifest))
        for name, data in entries:
            archive.writestr(name, data)
    return f"dossier-{download_name(view.ref.replace('/', '-'))}.zip", buffer.getvalue()


def may_attach(app: App, *, ref: str, actor_email: str, forbund: str | None = None) -> bool:
    """Whether the person may attach files to this case (which they see)."""
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund, actor_email)
        actor = find_actor(session, organisation, actor_email)
        case = visible_case(session, app, organisation, ref, actor)
        return _may_attach(actor, case)


def current_agreement(app: App, *, ref: str, viewer_email: str, forbund: str | None = None) -> int:
    """The id of the case's newest agreement (not superseded), to attach a file to."""
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund, viewer_email)
        actor = find_actor(session, organisation, viewer_email)
        case = visible_case(session, app, organisation, ref, actor)
        agreement = session.exec(
            select(Agreement)
            .where(Agreement.insats_id == case.id, Agreement.status != "ersatt")
            .order_by(col(Agreement.id).desc())
        ).first()
        if agreement is None:
            raise BadInput(f"{case_ref(case)} har inget avtal än; bifoga filen till ansökan")
        return agreement.id  # type: ignore[return-value]


def remove_unreferenced(app: App, hashes: set[str]) -> list[str]:
    """Delete the files of these hashes that no attachment holds any more (after a gallring
    has committed); the hashes removed."""
    with app.db.reading() as session:
        kept = set(
            session.exec(
                select(Attachment.sha256).where(col(Attachment.sha256).in_(sorted(hashes)))
            ).all()
        )
    removed = []
    for sha in sorted(hashes - kept):
        blob_path(app, sha).unlink(missing_ok=True)
        removed.append(sha)
    return removed
