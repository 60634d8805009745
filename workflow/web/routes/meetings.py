"""Meetings of every organ (/moten): a calendar per month, a list per year, a meeting's page
with its attendance, the agenda builder and the kallelse.

Everyone of the kansli, the board and the beredningsgrupp reads them; the förbundschef and the
sekreterare (the roles of call_meeting, build_agenda, ... in states/actions.yaml) change them.
Each form carries the meeting's version: a change made since the person read the meeting is
the conflict page, and nothing of theirs is saved (services/board/meetings.py `touch`). The
agenda's order changes by "Flytta upp"/"Flytta ned" buttons, plain forms that work with the
keyboard and without JavaScript; focus returns to the item moved.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from workflow.clock import local
from workflow.errors import BadInput, Conflict, NotFound
from workflow.models.meetings import Presence
from workflow.services import cases
from workflow.services.board import agenda, meetings, views
from workflow.services.board.views import PRESENCE_LABELS, MeetingView
from workflow.vocabulary import Role
from workflow.web import forms
from workflow.web.deps import AppDep, CurrentUser, FormDep, verify_csrf
from workflow.web.templating import MONTHS, NAV, NavItem, render

router = APIRouter()

MEETINGS_PATH = "/moten"
YEAR_PATH = "/moten/lista"
NEW_PATH = "/moten/nytt"
MEETING_PATH = "/moten/{meeting_id}"
EDIT_PATH = "/moten/{meeting_id}/andra"
ATTENDANCE_PATH = "/moten/{meeting_id}/narvaro"
AGENDA_PATH = "/moten/{meeting_id}/dagordning"
AGENDA_CASE_PATH = "/moten/{meeting_id}/dagordning/arende"
MOVE_PATH = "/moten/{meeting_id}/dagordning/flytta"
ITEM_PATH = "/moten/{meeting_id}/punkt/{item_id}"
KALLELSE_PATH = "/moten/{meeting_id}/kallelse"

# For the route-table security matrix (workflow/web/samples.py).
SAMPLES = {"x-finsam-samples": {"meeting_id": "meeting_id"}}
ITEM_SAMPLES = {"x-finsam-samples": {"meeting_id": "meeting_id", "item_id": "agenda_item_id"}}

NAV.append(
    NavItem(
        "Möten",
        MEETINGS_PATH,
        frozenset(
            {
                Role.FORBUNDSCHEF,
                Role.SEKRETERARE,
                Role.ADMIN,
                Role.STYRELSE_ORDFORANDE,
                Role.STYRELSE_LEDAMOT,
                Role.STYRELSE_ERSATTARE,
                Role.BEREDNINGSGRUPP,
            }
        ),
    )
)

EDIT_ACTIONS = {
    "call": "call_meeting",
    "attendance": "keep_attendance",
    "agenda": "build_agenda",
    "proposal": "write_proposal",
    "kallelse": "record_kallelse",
}


def meeting_url(meeting_id: int) -> str:
    return f"{MEETINGS_PATH}/{meeting_id}"


def _reader(app: Any, user: Any) -> Any:
    return views.meeting_reader(app, viewer_email=user.email, forbund=user.forbund_slug)


# Which of EDIT_ACTIONS each change of the meeting's page needs.
CHANGE_ACTIONS = {
    "narvaro": "attendance",
    "dagordning": "agenda",
    "arende": "agenda",
    "flyttat": "agenda",
    "kallelse": "kallelse",
}


def _require(app: Any, user: Any, key: str) -> None:
    """Refuse a change the person may not make before reading what they sent (the service
    checks again, in its transaction)."""
    app.actions.require(_reader(app, user), EDIT_ACTIONS[key])


def _may(app: Any, actor: Any) -> dict[str, bool]:
    return {key: app.actions.allows(actor, name) for key, name in EDIT_ACTIONS.items()}


def _meeting(app: Any, user: Any, meeting_id: str) -> MeetingView:
    """The meeting of the address, in the person's förbund (else not found), read first: what
    is not theirs is 404 whatever their roles."""
    if not meeting_id.isdigit():
        raise NotFound("inget sådant möte; se listan över möten")
    return views.get_meeting_by_id(app, meeting_id=int(meeting_id), forbund=user.forbund_slug)


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _version(form: Any) -> int:
    text = _text(form, "version")
    if not text.isdigit():
        raise BadInput("formuläret saknar versionen du såg; ladda om sidan och försök igen")
    return int(text)


def _conflict(request: Request, app: Any, user: Any, meeting_id: str, error: Exception) -> Response:
    now = _meeting(app, user, meeting_id)
    return render(
        request,
        "meetings/conflict.html.j2",
        {"m": now, "url": meeting_url(now.id), "message": forms.sentence(error)},
        status_code=409,
    )


# -- the calendar and the year's list ---------------------------------------------------------


def _month_of(text: str | None, today: date) -> tuple[int, int]:
    if text:
        year, _, month = text.partition("-")
        if year.isdigit() and month.isdigit() and 1 <= int(month) <= 12 and 1900 < int(year) < 3000:
            return int(year), int(month)
        raise BadInput(f"{text!r} är ingen månad; skriv ÅÅÅÅ-MM, till exempel 2026-12")
    return today.year, today.month


@router.get(MEETINGS_PATH, response_class=HTMLResponse, include_in_schema=False)
def calendar_page(
    request: Request, app: AppDep, user: CurrentUser, manad: str | None = None
) -> HTMLResponse:
    actor = _reader(app, user)
    today = local(app.clock(), app.settings.zone).date()
    year, month = _month_of(manad, today)
    weeks = views.calendar_month(app, year=year, month=month, forbund=user.forbund_slug)
    before = (year - (month == 1), 12 if month == 1 else month - 1)
    after = (year + (month == 12), 1 if month == 12 else month + 1)
    return render(
        request,
        "meetings/calendar.html.j2",
        {
            "weeks": weeks,
            "year": year,
            "month_name": MONTHS[month - 1],
            "today": today,
            "before": (f"{before[0]}-{before[1]:02d}", f"{MONTHS[before[1] - 1]} {before[0]}"),
            "after": (f"{after[0]}-{after[1]:02d}", f"{MONTHS[after[1] - 1]} {after[0]}"),
            "may": _may(app, actor),
            "in_month": [m for week in weeks for d in week if d.in_month for m in d.meetings],
        },
    )


@router.get(YEAR_PATH, response_class=HTMLResponse, include_in_schema=False)
def year_page(
    request: Request, app: AppDep, user: CurrentUser, ar: str | None = None
) -> HTMLResponse:
    actor = _reader(app, user)
    today = local(app.clock(), app.settings.zone).date()
    if ar is not None and not (ar.isdigit() and 1900 < int(ar) < 3000):
        raise BadInput(f"{ar!r} är inget år; skriv till exempel 2026")
    year = int(ar) if ar else today.year
    return render(
        request,
        "meetings/year.html.j2",
        {
            "year": year,
            "meetings": views.year_meetings(app, year=year, forbund=user.forbund_slug),
            "may": _may(app, actor),
        },
    )


# -- creating and editing a meeting ------------------------------------------------------------


def _meeting_form(
    request: Request,
    app: Any,
    user: Any,
    *,
    m: MeetingView | None,
    given: dict[str, str],
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "meetings/form.html.j2",
        {
            "m": m,
            "given": given,
            "organs": meetings.organ_choices(app, forbund=user.forbund_slug),
            "error": error,
        },
        status_code=status_code,
    )


def _given_of(m: MeetingView) -> dict[str, str]:
    return {
        "date": f"{m.starts_at:%Y-%m-%d}",
        "start": f"{m.starts_at:%H:%M}",
        "end": f"{m.ends_at:%H:%M}" if m.ends_at else "",
        "place": m.place,
        "organ": "",
        "kind": m.kind,
    }


_TIME = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?$")
_DATE = re.compile(r"^(\d{4})-?(\d{1,2})-?(\d{1,2})$")


def _clock_time(text: str, what: str) -> str:
    """'9', '9.00', '09:00' as '09:00' (people write times as they are used to)."""
    found = _TIME.match(text.strip())
    if not found or int(found[1]) > 23 or int(found[2] or 0) > 59:
        raise BadInput(f"{what} {text!r} är ingen tid; skriv TT:MM, till exempel 13:00")
    return f"{int(found[1]):02d}:{int(found[2] or 0):02d}"


def _times(given: dict[str, str]) -> tuple[str, str | None]:
    if not given["date"]:
        raise BadInput("mötet behöver ett datum; skriv det som ÅÅÅÅ-MM-DD")
    found = _DATE.match(given["date"].strip())
    if not found:
        raise BadInput(
            f"{given['date']!r} är inget datum; skriv ÅÅÅÅ-MM-DD, till exempel 2027-02-19"
        )
    day = f"{found[1]}-{int(found[2]):02d}-{int(found[3]):02d}"
    if not given["start"]:
        raise BadInput("mötet behöver en starttid; skriv den som TT:MM, till exempel 13:00")
    start = _clock_time(given["start"], "starttiden")
    end = _clock_time(given["end"], "sluttiden") if given["end"] else None
    return f"{day} {start}", (f"{day} {end}" if end else None)


def _read_meeting_form(form: Any) -> dict[str, str]:
    return {name: _text(form, name) for name in ("date", "start", "end", "place", "organ", "kind")}


@router.get(NEW_PATH, response_class=HTMLResponse, include_in_schema=False)
def new_meeting_page(request: Request, app: AppDep, user: CurrentUser) -> HTMLResponse:
    actor = _reader(app, user)
    app.actions.require(actor, "call_meeting")
    return _meeting_form(
        request,
        app,
        user,
        m=None,
        given={
            "date": "",
            "start": "13:00",
            "end": "16:00",
            "place": "",
            "organ": "styrelse",
            "kind": "ordinarie",
        },
    )


@router.post(
    NEW_PATH,
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
)
def create_meeting(request: Request, app: AppDep, user: CurrentUser, form: FormDep) -> Response:
    _require(app, user, "call")
    given = _read_meeting_form(form)
    kind, name = meetings.split_organ(given["organ"] or "styrelse")
    try:
        starts, ends = _times(given)
        view = meetings.create_meeting(
            app,
            actor_email=user.email,
            starts=starts,
            ends=ends,
            place=given["place"],
            organ=kind,
            organ_name=name,
            kind=given["kind"] or "ordinarie",
            forbund=user.forbund_slug,
        )
    except (BadInput, Conflict) as error:
        return _meeting_form(
            request, app, user, m=None, given=given, error=forms.sentence(error), status_code=400
        )
    return RedirectResponse(f"{meeting_url(view.id)}?klart=skapat", status_code=303)


@router.get(EDIT_PATH, response_class=HTMLResponse, include_in_schema=False, openapi_extra=SAMPLES)
def edit_meeting_page(
    request: Request, app: AppDep, user: CurrentUser, meeting_id: str
) -> HTMLResponse:
    m = _meeting(app, user, meeting_id)
    actor = _reader(app, user)
    app.actions.require(actor, "call_meeting")
    return _meeting_form(request, app, user, m=m, given=_given_of(m))


@router.post(
    EDIT_PATH,
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
    openapi_extra=SAMPLES,
)
def edit_meeting(
    request: Request,
    app: AppDep,
    user: CurrentUser,
    meeting_id: str,
    form: FormDep,
) -> Response:
    m = _meeting(app, user, meeting_id)
    _require(app, user, "call")
    given = _read_meeting_form(form)
    organ = meetings.split_organ(given["organ"]) if given["organ"] else (None, None)
    try:
        version = _version(form)
        starts, ends = _times(given)
        meetings.update_meeting(
            app,
            ref=m.number,
            actor_email=user.email,
            starts=starts,
            ends=ends,
            place=given["place"],
            organ=organ[0],
            organ_name=organ[1],
            kind=given["kind"] or None,
            expected_version=version,
            forbund=user.forbund_slug,
        )
    except Conflict as error:
        if "ändrats sedan" in str(error) or "samtidigt" in str(error):
            return _conflict(request, app, user, meeting_id, error)
        return _meeting_form(
            request, app, user, m=m, given=given, error=forms.sentence(error), status_code=400
        )
    except BadInput as error:
        return _meeting_form(
            request, app, user, m=m, given=given, error=forms.sentence(error), status_code=400
        )
    return RedirectResponse(f"{meeting_url(m.id)}?klart=andrat", status_code=303)


# -- the meeting's page ------------------------------------------------------------------------

NOTICES = {
    "skapat": "Mötet är skapat.",
    "andrat": "Mötet är ändrat.",
    "narvaro": "Närvaron är sparad.",
    "dagordning": "Dagordningen är uppställd.",
    "arende": "Ärendet är lagt på dagordningen.",
    "flyttat": "Punkten är flyttad.",
    "forslag": "Förslaget till beslut är sparat.",
    "kallelse": "Kallelsen är skickad.",
}


def _attendance_rows(m: MeetingView) -> dict[str, list[Any]]:
    members = [
        a
        for a in m.attendance
        if a.email and a.presence in {Presence.BESLUTANDE, Presence.FRANVARANDE}
    ]
    deputies = [
        a
        for a in m.attendance
        if a.email and a.presence in {Presence.ERSATTARE, Presence.TJANSTGORANDE_ERSATTARE}
    ]
    others = [a for a in m.attendance if a not in members and a not in deputies]
    return {"members": members, "deputies": deputies, "others": others}


def _serving_for(deputy: Any, members: list[Any]) -> str:
    """The e-mail of the ledamot a serving ersättare stands in for ("tjänstgör för Namn")."""
    if deputy.presence != Presence.TJANSTGORANDE_ERSATTARE or not deputy.capacity:
        return ""
    name = deputy.capacity.removeprefix("tjänstgör för ").strip()
    return next((m.email for m in members if m.name == name), "")


def _meeting_page(
    request: Request,
    app: Any,
    user: Any,
    meeting_id: str,
    *,
    notice: str | None = None,
    failed: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    m = _meeting(app, user, meeting_id)
    actor = _reader(app, user)
    may = _may(app, actor)
    rows = _attendance_rows(m)
    ready = (
        agenda.ready_cases(app, forbund=user.forbund_slug)
        if may["agenda"] and m.organ_kind == "styrelse" and m.protocol is None
        else None
    )
    return render(
        request,
        "meetings/meeting.html.j2",
        {
            "m": m,
            "url": meeting_url(m.id),
            "may": may,
            "open": m.protocol is None or m.protocol.status == "utkast",
            "rows": rows,
            "serving_for": {d.email: _serving_for(d, rows["members"]) for d in rows["deputies"]},
            "presence_labels": {str(k): v for k, v in PRESENCE_LABELS.items()},
            "ready": ready,
            "sent": meetings.kallelse_sent(app, ref=m.number, forbund=user.forbund_slug),
            "notice": notice,
            "failed": failed,
            "error": error,
            "case_url": forms.case_url,
        },
        status_code=status_code,
    )


@router.get(
    MEETING_PATH, response_class=HTMLResponse, include_in_schema=False, openapi_extra=SAMPLES
)
def meeting_page(
    request: Request, app: AppDep, user: CurrentUser, meeting_id: str, klart: str | None = None
) -> HTMLResponse:
    return _meeting_page(request, app, user, meeting_id, notice=NOTICES.get(klart or ""))


def _change(
    request: Request,
    form: FormData,
    app: Any,
    user: Any,
    meeting_id: str,
    what: str,
    act: Any,
    anchor: str = "",
) -> Response:
    """Run one change of the meeting's page: done, the page again (303) with a notice; a
    refusal for what was written, the page with the reason at the form (400); a change made
    since the person read it, the conflict page (409)."""
    m = _meeting(app, user, meeting_id)
    _require(app, user, CHANGE_ACTIONS[what])
    try:
        version = _version(form)
        target = act(m, form, version) or anchor
    except Conflict as error:
        return _conflict(request, app, user, meeting_id, error)
    except BadInput as error:
        return _meeting_page(
            request,
            app,
            user,
            meeting_id,
            failed=what,
            error=forms.sentence(error),
            status_code=400,
        )
    return RedirectResponse(f"{meeting_url(m.id)}?klart={what}{target}", status_code=303)


@router.post(
    ATTENDANCE_PATH,
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
    openapi_extra=SAMPLES,
)
def save_attendance(
    request: Request,
    app: AppDep,
    user: CurrentUser,
    meeting_id: str,
    form: FormDep,
) -> Response:
    def act(m: MeetingView, form: Any, version: int) -> str:
        rows = _attendance_rows(m)
        absent, present = [], []
        for member in rows["members"]:
            choice = _text(form, f"narvaro.{member.email}")
            if choice == "franvarande":
                absent.append(member.email)
            elif choice == "narvarande":
                present.append(member.email)
        serving_for = {}
        for deputy in rows["deputies"]:
            instead = _text(form, f"tjanstgor.{deputy.email}")
            if instead:
                serving_for[deputy.email] = instead
            else:
                present.append(deputy.email)
        others = [line for line in _text(form, "others").splitlines() if line.strip()]
        meetings.set_attendance(
            app,
            ref=m.number,
            actor_email=user.email,
            absent=absent,
            present=present,
            serving_for=serving_for,
            others=others,
            expected_version=version,
            forbund=user.forbund_slug,
        )
        return "#narvaro-rubrik"

    return _change(request, form, app, user, meeting_id, "narvaro", act)


@router.post(
    AGENDA_PATH,
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
    openapi_extra=SAMPLES,
)
def build_agenda(
    request: Request,
    app: AppDep,
    user: CurrentUser,
    meeting_id: str,
    form: FormDep,
) -> Response:
    def act(m: MeetingView, form: Any, version: int) -> str:
        if m.version != version:
            raise Conflict(f"möte {m.number} har ändrats sedan du läste det")
        agenda.build_agenda(
            app,
            ref=m.number,
            actor_email=user.email,
            include_ready=_text(form, "include_ready") == "ja",
            forbund=user.forbund_slug,
        )
        return "#dagordning-rubrik"

    return _change(request, form, app, user, meeting_id, "dagordning", act)


@router.post(
    AGENDA_CASE_PATH,
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
    openapi_extra=SAMPLES,
)
def add_case(
    request: Request, app: AppDep, user: CurrentUser, meeting_id: str, form: FormDep
) -> Response:
    def act(m: MeetingView, form: Any, version: int) -> str:
        if m.version != version:
            raise Conflict(f"möte {m.number} har ändrats sedan du läste det")
        dnr = _text(form, "dnr")
        # One of another förbund (or none) is not found, as on the case page.
        case = cases.get_case(app, ref=dnr, forbund=user.forbund_slug, viewer_email=user.email)
        agenda.build_agenda(
            app, ref=m.number, actor_email=user.email, add=[case.ref], forbund=user.forbund_slug
        )
        return "#dagordning-rubrik"

    return _change(request, form, app, user, meeting_id, "arende", act)


@router.post(
    MOVE_PATH,
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
    openapi_extra=SAMPLES,
)
def move_item(
    request: Request, app: AppDep, user: CurrentUser, meeting_id: str, form: FormDep
) -> Response:
    def act(m: MeetingView, form: Any, version: int) -> str:
        item = _text(form, "item")
        direction = _text(form, "riktning")
        if not item.isdigit():
            raise BadInput("formuläret saknar punkten att flytta; ladda om sidan")
        agenda.move_item(
            app,
            ref=m.number,
            item_id=int(item),
            direction=direction,
            actor_email=user.email,
            expected_version=version,
            forbund=user.forbund_slug,
        )
        # Focus returns to the same button of the moved item (keyboard users go on moving).
        return f"#flytta-{direction}-{item}"

    return _change(request, form, app, user, meeting_id, "flyttat", act)


# -- one item's draft decision -----------------------------------------------------------------


def _item_page(
    request: Request,
    app: Any,
    user: Any,
    meeting_id: str,
    item_id: str,
    *,
    given: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    m = _meeting(app, user, meeting_id)
    actor = _reader(app, user)
    item = next((i for i in m.items if str(i.item_id) == item_id), None)
    if item is None:
        raise NotFound(f"möte {m.number} har ingen sådan punkt på dagordningen")
    case = (
        cases.get_case(app, ref=item.dnr, forbund=user.forbund_slug, viewer_email=user.email)
        if item.dnr
        else None
    )
    return render(
        request,
        "meetings/item.html.j2",
        {
            "m": m,
            "item": item,
            "case": case,
            "url": meeting_url(m.id),
            "may": _may(app, actor),
            "given": item.proposal or "" if given is None else given,
            "error": error,
            "case_url": forms.case_url,
        },
        status_code=status_code,
    )


@router.get(
    ITEM_PATH, response_class=HTMLResponse, include_in_schema=False, openapi_extra=ITEM_SAMPLES
)
def item_page(
    request: Request, app: AppDep, user: CurrentUser, meeting_id: str, item_id: str
) -> HTMLResponse:
    return _item_page(request, app, user, meeting_id, item_id)


@router.post(
    ITEM_PATH,
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
    openapi_extra=ITEM_SAMPLES,
)
def write_proposal(
    request: Request,
    app: AppDep,
    user: CurrentUser,
    meeting_id: str,
    item_id: str,
    form: FormDep,
) -> Response:
    m = _meeting(app, user, meeting_id)
    _require(app, user, "proposal")
    if not item_id.isdigit():
        raise NotFound(f"möte {m.number} har ingen sådan punkt på dagordningen")
    text = _text(form, "proposal")
    try:
        agenda.write_proposal(
            app,
            ref=m.number,
            item_id=int(item_id),
            proposal=text,
            actor_email=user.email,
            expected_version=_version(form),
            forbund=user.forbund_slug,
        )
    except Conflict as error:
        return _conflict(request, app, user, meeting_id, error)
    except BadInput as error:
        return _item_page(
            request,
            app,
            user,
            meeting_id,
            item_id,
            given=text,
            error=forms.sentence(error),
            status_code=400,
        )
    return RedirectResponse(f"{meeting_url(m.id)}?klart=forslag#punkt-{item_id}", status_code=303)


# -- the kallelse ------------------------------------------------------------------------------


@router.get(
    KALLELSE_PATH, response_class=HTMLResponse, include_in_schema=False, openapi_extra=SAMPLES
)
def kallelse_page(
    request: Request, app: AppDep, user: CurrentUser, meeting_id: str
) -> HTMLResponse:
    m = _meeting(app, user, meeting_id)
    actor = _reader(app, user)
    return render(
        request,
        "meetings/kallelse.html.j2",
        {
            "m": m,
            "url": meeting_url(m.id),
            "may": _may(app, actor),
            "called": [a for a in m.attendance if a.email],
            "sent": meetings.kallelse_sent(app, ref=m.number, forbund=user.forbund_slug),
            "case_url": forms.case_url,
        },
    )


@router.post(
    KALLELSE_PATH,
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
    openapi_extra=SAMPLES,
)
def send_kallelse(
    request: Request,
    app: AppDep,
    user: CurrentUser,
    meeting_id: str,
    form: FormDep,
) -> Response:
    def act(m: MeetingView, form: Any, version: int) -> str:
        meetings.send_kallelse(
            app,
            ref=m.number,
            actor_email=user.email,
            expected_version=version,
            forbund=user.forbund_slug,
        )
        return "#kallelse-rubrik"

    return _change(request, form, app, user, meeting_id, "kallelse", act)
