"""The case list: filters in the URL (a GET form), keyset pages, and CSV/XLSX of the filter.

    /arenden?state=inkommen&inriktning=individ&year=2027&party=Ale+kommun&text=IPS
    /arenden?...&after=<cursor>&limit=25      a later page (the "Nästa sida" link)
    /arenden.csv?...  /arenden.xlsx?...        every case of the filter, not one page

The parameters are named as the CLI's options (`finsam cases list --state ... --after`).
Everyone sees only the cases they may see (CaseFilter.viewer_email, services/cases/rights.py).
A filter value that does not exist is a 400 page saying which values do.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from workflow.app import App
from workflow.clock import local_date
from workflow.errors import BadInput
from workflow.services import cases
from workflow.services.access.sessions import Principal
from workflow.services.cases import CaseFilter
from workflow.services.cases import exports as case_exports
from workflow.services.cases.views import CURSOR_KIND
from workflow.services.organisation.parties import parties
from workflow.services.paging import check_limit, decode_cursor
from workflow.vocabulary import INRIKTNING_LABELS, Inriktning
from workflow.web import exports, forms
from workflow.web.deps import AppDep, CurrentUser
from workflow.web.templating import NAV, NavItem, kort_datum, render

router = APIRouter()

LIST_PATH = "/arenden"
NAV.append(NavItem("Ärenden", LIST_PATH))

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
MAX_TEXT = 200
# The filter's parameters, in the order the URLs carry them.
FILTER_PARAMS = ("state", "inriktning", "year", "party", "text", "projektagare")


@dataclass(frozen=True)
class ListQuery:
    """The list's parameters as given (for the form and the links) and as a CaseFilter."""

    given: dict[str, str]
    filters: CaseFilter

    def url(
        self, path: str = LIST_PATH, *, after: str | None = None, limit: int | None = None
    ) -> str:
        """The list (or an export) of this filter, from `after`, `limit` cases a page."""
        params = dict(self.given)
        if after is not None:
            params["after"] = after
        if limit is not None:
            params["limit"] = str(limit)
        return f"{path}?{urlencode(params)}" if params else path


def _given(request: Request) -> dict[str, str]:
    """The filter's parameters with a value (an empty form field is no filter)."""
    given = {}
    for name in FILTER_PARAMS:
        value = request.query_params.get(name, "").strip()
        if value:
            given[name] = value
    return given


def _query(app: App, request: Request, user: Principal) -> ListQuery:
    given = _given(request)
    # The service refuses these too, in the CLI's words (the ids to type); a page says which
    # list to choose from instead.
    state = given.get("state")
    if state is not None and state not in app.lifecycles[cases.SUBJECT].lifecycle.states:
        raise BadInput(f"okänt tillstånd {state!r}; välj ett av tillstånden i listan Tillstånd")
    inriktning = given.get("inriktning")
    if inriktning is not None and inriktning not in {i.value for i in Inriktning}:
        raise BadInput(
            f"okänd inriktning {inriktning!r}; välj en av inriktningarna i listan Inriktning"
        )
    owner = given.get("projektagare")
    if owner is not None and len(owner) > 254:
        raise BadInput("projektägarens e-postadress är för lång; använd högst 254 tecken")
    text = given.get("text")
    if text is not None and len(text) > MAX_TEXT:
        raise BadInput(f"söktexten är för lång; använd högst {MAX_TEXT} tecken")
    year = given.get("year")
    if year is not None and not (year.isascii() and year.isdigit()):
        raise BadInput(f"ogiltigt år {year!r}; ange ett år med fyra siffror, som 2026")
    filters = CaseFilter(
        state=given.get("state"),
        inriktning=given.get("inriktning"),
        year=int(year) if year is not None else None,
        party=given.get("party"),
        text=text,
        project_owner_email=given.get("projektagare"),
        viewer_email=user.email,
    )
    return ListQuery(given, filters)


def _after(request: Request) -> str | None:
    after = request.query_params.get("after", "").strip() or None
    if after is not None:
        try:
            decode_cursor(CURSOR_KIND, after, 3)  # (no dnr?, dnr, id): views._case_key
        except BadInput:
            raise BadInput(
                "länken till sidan är ogiltig eller för gammal; börja om från första sidan"
            ) from None
    return after


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit", "").strip()
    if not raw:
        return DEFAULT_LIMIT
    if not (raw.isascii() and raw.isdigit()):
        raise BadInput(f"ogiltig sidstorlek {raw!r}; ange ett heltal från 1 till {MAX_LIMIT}")
    return check_limit(int(raw), MAX_LIMIT)


def _choices(app: App, user: Principal) -> dict[str, list[tuple[str, str]]]:
    """The values the form offers: every state, inriktning and party of the förbund."""
    lifecycle = app.lifecycles[cases.SUBJECT].lifecycle
    return {
        "state": [(name, state.label) for name, state in lifecycle.states.items()],
        "inriktning": [(value.value, label) for value, label in INRIKTNING_LABELS.items()],
        "party": [(p.name, p.name) for p in parties(app, user.forbund_slug)],
    }


@router.get(LIST_PATH, response_class=HTMLResponse, include_in_schema=False)
def case_list(request: Request, app: AppDep, user: CurrentUser) -> HTMLResponse:
    given = _given(request)
    page_context: dict[str, object] = {
        "given": given,
        "choices": _choices(app, user),
        "page": None,
        "count": None,
        "error": None,
        "limit": None,
        "first_url": None,
        "next_url": None,
        "csv_url": None,
        "xlsx_url": None,
    }
    try:
        query = _query(app, request, user)
        after = _after(request)
        limit = _limit(request)
        forbund = user.forbund_slug
        page = cases.list_cases(
            app, forbund=forbund, filters=query.filters, after=after, limit=limit
        )
        count = cases.count_cases(app, forbund=forbund, filters=query.filters)
    except BadInput as refused:
        page_context["error"] = forms.sentence(refused)
        return render(request, "case_list/list.html.j2", page_context, status_code=400)
    keep = limit if limit != DEFAULT_LIMIT else None
    page_context.update(
        page=page,
        count=count,
        limit=keep,
        first_url=query.url(limit=keep) if after else None,
        next_url=query.url(after=page.next_after, limit=keep) if page.next_after else None,
        csv_url=query.url(f"{LIST_PATH}.csv"),
        xlsx_url=query.url(f"{LIST_PATH}.xlsx"),
    )
    return render(request, "case_list/list.html.j2", page_context)


def _export_name(app: App, suffix: str) -> str:
    return f"arenden-{kort_datum(local_date(app.clock(), app.settings.zone))}.{suffix}"


def _checked(request: Request, app: App, user: Principal) -> ListQuery:
    """The export's filter, checked before the first byte goes out (a bad value is a 400
    page, not a broken download)."""
    query = _query(app, request, user)
    cases.count_cases(app, forbund=user.forbund_slug, filters=query.filters)
    return query


@router.get(f"{LIST_PATH}.csv", include_in_schema=False)
def case_list_csv(request: Request, app: AppDep, user: CurrentUser) -> StreamingResponse:
    query = _checked(request, app, user)
    rows = case_exports.iter_rows(app, forbund=user.forbund_slug, filters=query.filters)
    return StreamingResponse(
        exports.csv_chunks(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{_export_name(app, "csv")}"'},
    )


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get(f"{LIST_PATH}.xlsx", include_in_schema=False)
def case_list_xlsx(request: Request, app: AppDep, user: CurrentUser) -> StreamingResponse:
    query = _checked(request, app, user)
    rows = case_exports.iter_rows(app, forbund=user.forbund_slug, filters=query.filters)
    # A workbook is a zip file, finished only at its end: it is written row by row into a
    # temporary file (memory of a page of cases), then sent from there.
    handle = tempfile.TemporaryFile()  # noqa: SIM115 (closed by exports.file_chunks, once sent)
    try:
        exports.write_xlsx(rows, handle)
    except BaseException:
        handle.close()
        raise
    return StreamingResponse(
        exports.file_chunks(handle),
        media_type=XLSX_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{_export_name(app, "xlsx")}"'},
    )
