"""The papers a board uses: dagordning, kallelse, protokoll and protokollsutdrag, as HTML from
Jinja2 templates (workflow/templates/papers) and as PDF rendered from the same HTML by WeasyPrint.

Autoescape is switched on for every template: select_autoescape would not match *.html.j2, and
case titles and motiveringar are user text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from workflow.app import App
from workflow.errors import BadInput, NotFound
from workflow.models.meetings import Presence
from workflow.services.board.views import PRESENCE_LABELS, MeetingView, get_meeting
from workflow.settings import PACKAGE_DIR

TEMPLATES = PACKAGE_DIR / "templates" / "papers"
PAPERS = ("dagordning", "kallelse", "protokoll", "utdrag")
MONTHS = [
    "januari", "februari", "mars", "april", "maj", "juni",
    "juli", "augusti", "september", "oktober", "november", "december",
]  # fmt: skip
WEEKDAYS = ["måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag"]


def _datum(value: date | datetime) -> str:
    return value.strftime("%Y-%m-%d")


def _klockslag(value: datetime) -> str:
    return value.strftime("%H.%M")


def _dag_och_tid(value: datetime) -> str:
    """'fredag 22 februari 2013 kl. 13.00'."""
    return (
        f"{WEEKDAYS[value.weekday()]} {value.day} {MONTHS[value.month - 1]} {value.year} "
        f"kl. {_klockslag(value)}"
    )


def _datum_tid(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H.%M")


def _tkr(value: int) -> str:
    return f"{int(value):,} tkr".replace(",", " ")


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        datum=_datum,
        klockslag=_klockslag,
        dag_och_tid=_dag_och_tid,
        datum_tid=_datum_tid,
        tkr=_tkr,
    )
    return env


@dataclass
class Paper:
    kind: str
    title: str
    filename: str
    html: str

    def pdf(self) -> bytes:
        return html_to_pdf(self.html)


def html_to_pdf(html: str) -> bytes:
    # Imported here: WeasyPrint loads Pango at import, which only the PDF path needs.
    from weasyprint import HTML

    return HTML(string=html, base_url=str(TEMPLATES)).write_pdf()  # type: ignore[no-any-return]


def _attendance_groups(view: MeetingView) -> list[tuple[str, list[Any]]]:
    groups = []
    for presence in (
        Presence.BESLUTANDE,
        Presence.TJANSTGORANDE_ERSATTARE,
        Presence.ERSATTARE,
        Presence.OVRIG,
    ):
        people = [a for a in view.attendance if a.presence == presence]
        if people:
            groups.append((PRESENCE_LABELS[presence], people))
    return groups


def _span(numbers: list[int]) -> str:
    if not numbers:
        return "–"
    return f"§ {numbers[0]}" if len(numbers) == 1 else f"§§ {numbers[0]}–{numbers[-1]}"


def render_view(app: App, view: MeetingView, kind: str, paragraph: int | None = None) -> Paper:
    """One paper of a meeting already read; the templates see the meeting view `m`."""
    if kind not in PAPERS:
        raise BadInput(f"okänd handling {kind!r}; välj bland: {', '.join(PAPERS)}")
    env = environment()
    stem = f"{view.organ.lower()}-{view.starts_at:%Y-%m-%d}"
    common: dict[str, Any] = {"m": view, "storage_place": app.settings.meetings.storage_place}
    if kind in {"dagordning", "kallelse"}:
        title = "Kallelse" if kind == "kallelse" else "Dagordning"
        html = env.get_template("agenda.html.j2").render(
            **common, paper_title=title, kallelse=kind == "kallelse"
        )
        return Paper(kind, f"{title} {view.title}", f"{kind}-{stem}", html)
    if view.protocol is None:
        raise BadInput("mötet har inget protokoll än; öppna det med 'finsam meetings protocol'")
    if kind == "protokoll":
        numbers = [i.paragraph for i in view.items if i.paragraph is not None]
        html = env.get_template("protocol.html.j2").render(
            **common,
            paper_title="Protokoll",
            attendance=_attendance_groups(view),
            paragraphs=_span(numbers),
        )
        return Paper(kind, f"Protokoll {view.title}", f"protokoll-{stem}", html)
    if paragraph is None:
        raise BadInput("ett utdrag gäller en §; ange den med --paragraph N")
    item = next((i for i in view.items if i.paragraph == paragraph), None)
    if item is None:
        raise NotFound(f"protokollet har ingen § {paragraph}")
    html = env.get_template("utdrag.html.j2").render(
        **common, paper_title="Protokollsutdrag", item=item
    )
    return Paper(
        kind, f"Protokollsutdrag § {paragraph} {view.title}", f"utdrag-{paragraph}-{stem}", html
    )


def digest(app: App, view: MeetingView) -> str:
    """A short fingerprint of the protocol's text as its signers read it: what a signer saw is
    what they approve. The signatures given so far are left out (the ordförande may read
    before the justerare signs, and signs the same text after)."""
    import copy
    import hashlib

    unsigned = copy.deepcopy(view)
    if unsigned.protocol is not None:
        for signer in unsigned.protocol.signers:
            signer.signed_at = None
    html = render_view(app, unsigned, "protokoll").html
    return hashlib.sha256(html.encode("utf-8")).hexdigest()[:32]


def render(
    app: App, *, ref: str | int, kind: str, paragraph: int | None = None, forbund: str | None = None
) -> Paper:
    return render_view(app, get_meeting(app, ref=ref, forbund=forbund), kind, paragraph)


@dataclass
class Kallelse:
    """What the reminders send N days before the meeting: the paper and whom it goes to."""

    meeting_id: int
    due_at: datetime
    subject: str
    recipients: list[str]
    paper: Paper


def kallelse(app: App, *, ref: str | int, forbund: str | None = None) -> Kallelse:
    """The kallelse of a meeting with its agenda, for the reminders to send."""
    view = get_meeting(app, ref=ref, forbund=forbund)
    paper = render_view(app, view, "kallelse")
    # Everyone of the organ is called, ersättare too: they serve when a ledamot cannot come.
    recipients = sorted({a.email for a in view.attendance if a.email})
    subject = f"Kallelse till {view.organ.lower()} {view.starts_at:%Y-%m-%d} i {view.place}"
    return Kallelse(view.id, view.kallelse_due, subject, recipients, paper)
