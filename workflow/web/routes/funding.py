"""The förbundschef's funding pages (/ekonomi/...): payments, agreements, the budget frame,
Uppföljning Finsam, and the closure of insatser with their follow-up questions.

    /ekonomi/utbetalningar                 payments, held ones with the report they wait for
                                           (?visa=vilande|utbetalda&efter=...: one list paged)
    /ekonomi/avtal                         to draw up, unsigned, signed; /ekonomi/avtal/{ref}
                                           (?visa=upprattas|ej_undertecknade|undertecknade)
    /ekonomi/budget?ar=2013&ar=2014        seed 004's "Finansiell ram" table; .xlsx as the CLI's
    /ekonomi/uppfoljning?ar=2014           the Uppföljning Finsam fields; .csv as the CLI's
    /ekonomi/avslut                        ended insatser (?efter=...), follow-up questions at
                                           6 and 12 months

Every rule is in services/funding/ (who may read: see_funding; who may change: the actions of
each service). A refusal is shown on the page in the service's words. Every list comes a page
at a time (keyset, services/paging.py), with Nästa sida and Första sidan links.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from workflow.app import App
from workflow.case_fields import parse_date
from workflow.clock import local_date
from workflow.errors import BadInput, NotPermitted
from workflow.services.access.sessions import Principal
from workflow.services.funding import (
    agreements,
    budget,
    budget_report,
    closure,
    payments,
    reports,
    uppfoljning,
)
from workflow.services.funding.support import check_viewer, parse_year
from workflow.vocabulary import Role
from workflow.web import forms
from workflow.web.deps import AppDep, CurrentUser, FormDep, verify_csrf
from workflow.web.forms import case_url
from workflow.web.templating import NAV, NavItem, kort_datum, render

router = APIRouter()

FUNDING_ROLES = frozenset({Role.FORBUNDSCHEF, Role.ADMIN})
NAV.append(NavItem("Ekonomi", "/ekonomi/budget", FUNDING_ROLES))

PAYMENTS_PATH = "/ekonomi/utbetalningar"
AGREEMENTS_PATH = "/ekonomi/avtal"
BUDGET_PATH = "/ekonomi/budget"
UF_PATH = "/ekonomi/uppfoljning"
CLOSURE_PATH = "/ekonomi/avslut"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _done(path: str, notice: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?{urlencode({'klart': notice})}", status_code=303)


def _notice(request: Request, notices: dict[str, str]) -> str | None:
    return notices.get(request.query_params.get("klart", ""))


def _pages(
    request: Request, path: str, query: dict[str, str], next_after: str | None
) -> tuple[str | None, str | None]:
    """The Nästa sida and Första sidan links of a paged list: `query` is its filter, which
    both links carry; there is a first page to go back to when this page came by a cursor."""
    next_url = f"{path}?{urlencode({**query, 'efter': next_after})}" if next_after else None
    first_url = (
        path + (f"?{urlencode(query)}" if query else "")
        if request.query_params.get("efter")
        else None
    )
    return next_url, first_url


def _shown(request: Request, views: dict[str, Any]) -> str:
    """The list a page shows (?visa=...): one of `views`, or "" for the first page of each."""
    shown = request.query_params.get("visa", "").strip()
    if shown and shown not in views:
        raise BadInput(f"okänd lista {shown!r}; välj bland: {', '.join(views)}")
    if not shown and request.query_params.get("efter"):
        raise BadInput(f"en sidmarkör hör till en lista; välj bland: {', '.join(views)}")
    return shown


def _attempt(
    request: Request,
    page: Callable[..., HTMLResponse],
    work: Callable[[], Any],
    done: Callable[[Any], Response],
) -> Response:
    """Run a change; a refusal (400 or 403 in the service's words) redraws the page with it."""
    try:
        result = work()
    except (BadInput, NotPermitted) as refused:
        status = 403 if isinstance(refused, NotPermitted) else 400
        return page(error=forms.sentence(refused), status_code=status)
    return done(result)


# -- payments -------------------------------------------------------------------------------

PAYMENT_NOTICES = {
    "begard": "Utbetalningen är registrerad.",
    "vilande": "Utbetalningen är registrerad men vilar tills rapporten den väntar på är godkänd.",
    "frislappt": "Utbetalningen är frisläppt och utbetald.",
}


# The lists of the Utbetalningar page (?visa=...) and the status each shows.
PAYMENT_VIEWS = {"vilande": "vilande", "utbetalda": "utbetald"}


def _payments_page(
    request: Request,
    app: App,
    user: Principal,
    *,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The held payments and the paid ones, the first page of each, or the pages of one
    (?visa=vilande or utbetalda, on with ?efter=...); the avtal to ask a payment under are
    suggested from the first page of the signed ones (any diarienummer may be typed)."""
    who: dict[str, Any] = {"viewer_email": user.email, "forbund": user.forbund_slug}
    shown = "" if request.method == "POST" else _shown(request, PAYMENT_VIEWS)
    after = (request.query_params.get("efter") or None) if shown else None
    lists: dict[str, Any] = {}
    for view, status in PAYMENT_VIEWS.items():
        if shown in ("", view):
            page = payments.overview(app, status=status, after=after, **who)
            next_url, first_url = _pages(request, PAYMENTS_PATH, {"visa": view}, page.next_after)
            lists[view] = {"page": page, "next_url": next_url, "first_url": first_url}
    signed = agreements.agreements_page(app, status="undertecknat", **who)
    return render(
        request,
        "funding/payments.html.j2",
        {
            "shown": shown,
            "held": lists.get("vilande"),
            "paid": lists.get("utbetalda"),
            "signed": signed.items,
            "this_year": local_date(app.clock(), app.settings.zone).year,
            "notice": notice,
            "error": error,
        },
        status_code=status_code,
    )


@router.get(PAYMENTS_PATH, response_class=HTMLResponse, include_in_schema=False)
def payments_page(request: Request, app: AppDep, user: CurrentUser) -> HTMLResponse:
    return _payments_page(request, app, user, notice=_notice(request, PAYMENT_NOTICES))


@router.post(PAYMENTS_PATH, include_in_schema=False, dependencies=[Depends(verify_csrf)])
def request_payment(request: Request, app: AppDep, user: CurrentUser, form: FormDep) -> Response:
    check_viewer(app, viewer_email=user.email, forbund=user.forbund_slug)
    return _attempt(
        request,
        lambda **kw: _payments_page(request, app, user, **kw),
        lambda: payments.request(
            app,
            ref=_text(form, "ref"),
            year=_text(form, "year"),
            amount=_text(form, "amount"),
            actor_email=user.email,
            forbund=user.forbund_slug,
        ),
        lambda view: _done(PAYMENTS_PATH, "vilande" if view.status == "vilande" else "begard"),
    )


@router.post(
    f"{PAYMENTS_PATH}/{{payment_id}}/frislapp",
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
    openapi_extra={"x-finsam-samples": {"payment_id": "payment_id"}},
)
def release_payment(request: Request, app: AppDep, user: CurrentUser, payment_id: int) -> Response:
    return _attempt(
        request,
        lambda **kw: _payments_page(request, app, user, **kw),
        lambda: payments.release(
            app, payment_id=payment_id, actor_email=user.email, forbund=user.forbund_slug
        ),
        lambda _view: _done(PAYMENTS_PATH, "frislappt"),
    )


# -- agreements -----------------------------------------------------------------------------

AGREEMENT_NOTICES = {
    "upprattat": "Avtalet är upprättat med rapportplanen. Registrera underskrifterna när de finns.",
    "undertecknat": "Underskrifterna är registrerade.",
}


# The lists of the Avtal page (?visa=...).
AGREEMENT_VIEWS = {
    "upprattas": "to_create",
    "ej_undertecknade": "utkast",
    "undertecknade": "undertecknat",
}


def _agreements_page(
    request: Request,
    app: App,
    user: Principal,
    *,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The insatser waiting for an avtal, the unsigned avtal and the signed, the first page of
    each, or the pages of one (?visa=..., on with ?efter=...)."""
    who: dict[str, Any] = {"viewer_email": user.email, "forbund": user.forbund_slug}
    shown = "" if request.method == "POST" else _shown(request, AGREEMENT_VIEWS)
    lists: dict[str, Any] = {}
    if shown:
        after = request.query_params.get("efter") or None
        what = AGREEMENT_VIEWS[shown]
        page: Any = (
            agreements.to_create_page(app, after=after, **who)
            if what == "to_create"
            else agreements.agreements_page(app, status=what, after=after, **who)
        )
        pages = {shown: page}
    else:
        found = agreements.overview(app, **who)
        pages = {
            "upprattas": found.to_create,
            "ej_undertecknade": found.unsigned,
            "undertecknade": found.signed,
        }
    for view, page in pages.items():
        next_url, first_url = _pages(request, AGREEMENTS_PATH, {"visa": view}, page.next_after)
        lists[view] = {"page": page, "next_url": next_url, "first_url": first_url}
    return render(
        request,
        "funding/agreements.html.j2",
        {
            "shown": shown,
            "to_create": lists.get("upprattas"),
            "unsigned": lists.get("ej_undertecknade"),
            "signed": lists.get("undertecknade"),
            "today": local_date(app.clock(), app.settings.zone),
            "case_url": case_url,
            "notice": notice,
            "error": error,
        },
        status_code=status_code,
    )


@router.get(AGREEMENTS_PATH, response_class=HTMLResponse, include_in_schema=False)
def agreements_page(request: Request, app: AppDep, user: CurrentUser) -> HTMLResponse:
    return _agreements_page(request, app, user, notice=_notice(request, AGREEMENT_NOTICES))


@router.post(
    f"{AGREEMENTS_PATH}/uppratta", include_in_schema=False, dependencies=[Depends(verify_csrf)]
)
def create_agreement(request: Request, app: AppDep, user: CurrentUser, form: FormDep) -> Response:
    check_viewer(app, viewer_email=user.email, forbund=user.forbund_slug)
    return _attempt(
        request,
        lambda **kw: _agreements_page(request, app, user, **kw),
        lambda: agreements.create(
            app,
            ref=_text(form, "ref"),
            actor_email=user.email,
            forbund=user.forbund_slug,
            early_termination=_text(form, "early_termination") or None,
        ),
        lambda view: RedirectResponse(
            f"{AGREEMENTS_PATH}/{quote(view.ref, safe='/')}?klart=upprattat", status_code=303
        ),
    )


@router.post(
    f"{AGREEMENTS_PATH}/underteckna", include_in_schema=False, dependencies=[Depends(verify_csrf)]
)
def sign_agreement(request: Request, app: AppDep, user: CurrentUser, form: FormDep) -> Response:
    check_viewer(app, viewer_email=user.email, forbund=user.forbund_slug)

    def work() -> agreements.AgreementView:
        forbund_day = _text(form, "forbund_signed_on")
        owner_day = _text(form, "owner_signed_on")
        return agreements.sign(
            app,
            ref=_text(form, "ref"),
            actor_email=user.email,
            forbund=user.forbund_slug,
            forbund_signed_on=parse_date(forbund_day, "förbundets underskrift")
            if forbund_day
            else None,
            owner_signed_on=parse_date(owner_day, "insatsägarens underskrift")
            if owner_day
            else None,
        )

    return _attempt(
        request,
        lambda **kw: _agreements_page(request, app, user, **kw),
        work,
        lambda _view: _done(AGREEMENTS_PATH, "undertecknat"),
    )


@router.get(
    f"{AGREEMENTS_PATH}/{{ref:path}}",
    response_class=HTMLResponse,
    include_in_schema=False,
    openapi_extra={"x-finsam-samples": {"ref": "agreement_ref"}},
)
def agreement_page(request: Request, app: AppDep, user: CurrentUser, ref: str) -> HTMLResponse:
    # Another förbund's insats is not found (404) before the reader's rights (403).
    view = agreements.get(app, ref=ref, forbund=user.forbund_slug)
    check_viewer(app, viewer_email=user.email, forbund=user.forbund_slug)
    return render(
        request,
        "funding/agreement.html.j2",
        {
            "agreement": view,
            "case_url": case_url(view.ref),
            "status_labels": reports.STATUS_LABELS,
            "notice": _notice(request, AGREEMENT_NOTICES),
        },
    )


# -- budget ---------------------------------------------------------------------------------


def _years(
    request: Request, app: App, user: Principal, framed: list[int] | None = None
) -> list[int]:
    """The years asked for (?ar=2013&ar=2014), else every year the förbund has a frame for
    (`framed`, when the caller has read them already)."""
    asked = [y.strip() for y in request.query_params.getlist("ar") if y.strip()]
    if asked:
        if len(asked) > 10:
            raise BadInput("välj högst tio år åt gången")
        return [parse_year(y) for y in asked]
    if framed is not None:
        return framed
    return budget.frame_years(app, viewer_email=user.email, forbund=user.forbund_slug)


def _paged_year(request: Request, years: list[int]) -> int | None:
    """The year whose lines are paged on (?utfall=2013): one of the years shown."""
    asked = request.query_params.get("utfall", "").strip()
    if not asked:
        return None
    year = parse_year(asked)
    if year not in years:
        raise BadInput(f"år {year} visas inte i tabellen; välj bland: {', '.join(map(str, years))}")
    return year


@router.get(BUDGET_PATH, response_class=HTMLResponse, include_in_schema=False)
def budget_page(request: Request, app: AppDep, user: CurrentUser) -> HTMLResponse:
    all_years = budget.frame_years(app, viewer_email=user.email, forbund=user.forbund_slug)
    years = _years(request, app, user, framed=all_years)
    report = (
        budget_report.build(
            app, years=years, forbund=user.forbund_slug, insatser=budget_report.PAGE_INSATSER
        )
        if years
        else None
    )
    # One year's lines page at a time (?utfall=2013&efter=...); the other years show their first.
    paged_year = _paged_year(request, years)
    after = request.query_params.get("efter") or None
    outcomes = budget.outcomes(
        app,
        years=years,
        viewer_email=user.email,
        forbund=user.forbund_slug,
        after={paged_year: after} if paged_year is not None and after else None,
    )
    chosen = [("ar", str(y)) for y in years] if request.query_params.getlist("ar") else []

    def page_url(year: int, cursor: str | None) -> str:
        query = [*chosen, *([("utfall", str(year)), ("efter", cursor)] if cursor else [])]
        return f"{BUDGET_PATH}" + (f"?{urlencode(query)}" if query else "") + f"#utfall-{year}"

    pages = {
        o.year: {
            "next_url": page_url(o.year, o.next_after) if o.next_after else None,
            "first_url": page_url(o.year, None) if o.year == paged_year and after else None,
        }
        for o in outcomes
    }
    return render(
        request,
        "funding/budget.html.j2",
        {
            "report": report,
            "years": years,
            "all_years": all_years,
            "outcomes": outcomes,
            "pages": pages,
            "signed": budget_report.signed,
            "kinds": {
                "heading": budget_report.HEADING,
                "total": budget_report.TOTAL,
                "result": budget_report.RESULT,
            },
            "xlsx_url": f"{BUDGET_PATH}.xlsx?{urlencode([('ar', y) for y in years])}",
        },
    )


@router.get(f"{BUDGET_PATH}.xlsx", include_in_schema=False)
def budget_xlsx(request: Request, app: AppDep, user: CurrentUser) -> Response:
    years = _years(request, app, user)
    if not years:
        raise BadInput("förbundet har ingen budgetram ännu; lägg in den med 'finsam budget frame'")
    report = budget_report.build(app, years=years, forbund=user.forbund_slug)
    name = f"finansiell-ram-{'-'.join(str(y) for y in years)}.xlsx"
    return Response(
        budget_report.to_xlsx(report),
        media_type=XLSX_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# -- Uppföljning Finsam ---------------------------------------------------------------------

UF_NOTICES = {"registrerad": "Registreringen i Uppföljning Finsam är sparad."}


def _uf_year(request: Request) -> str | None:
    return request.query_params.get("ar", "").strip() or None


def _uf_page(
    request: Request,
    app: App,
    user: Principal,
    *,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    year = _uf_year(request)
    after = request.query_params.get("efter") or None
    found = uppfoljning.overview(
        app, viewer_email=user.email, year=year, forbund=user.forbund_slug, after=after
    )
    columns = found.columns
    at = {name: columns.index(name) for name in columns}
    # The page's insatser as suggestions for the registration's field (any dnr may be typed).
    registered: dict[str, dict[str, Any]] = {}
    for row in found.rows:
        registered.setdefault(
            row[at["Diarienummer"]],
            {
                "ref": row[at["Diarienummer"]],
                "title": row[at["Insatsens namn"]],
                "external_ref": row[at["Referens i Uppföljning Finsam"]],
                "last": row[at["Senast registrerad"]],
            },
        )
    query = {"ar": year} if year else {}
    return render(
        request,
        "funding/uppfoljning.html.j2",
        {
            "overview": found,
            "at": at,
            "year": year or "",
            "insatser": list(registered.values()),
            "today": kort_datum(local_date(app.clock(), app.settings.zone)),
            "csv_url": f"{UF_PATH}.csv" + (f"?{urlencode(query)}" if query else ""),
            "next_url": (
                f"{UF_PATH}?{urlencode({**query, 'efter': found.next_after})}"
                if found.next_after
                else None
            ),
            "first_url": (
                f"{UF_PATH}" + (f"?{urlencode(query)}" if query else "") if after else None
            ),
            "notice": notice,
            "error": error,
        },
        status_code=status_code,
    )


@router.get(UF_PATH, response_class=HTMLResponse, include_in_schema=False)
def uppfoljning_page(request: Request, app: AppDep, user: CurrentUser) -> HTMLResponse:
    return _uf_page(request, app, user, notice=_notice(request, UF_NOTICES))


@router.get(f"{UF_PATH}.csv", include_in_schema=False)
def uppfoljning_csv(request: Request, app: AppDep, user: CurrentUser) -> Response:
    year = _uf_year(request)
    uppfoljning.overview(
        app, viewer_email=user.email, year=year, forbund=user.forbund_slug, limit=1
    )  # rights first
    # Streamed a batch at a time, as the command line writes it; the first batch is read
    # here, so that nothing to export is refused before the response starts.
    chunks = uppfoljning.csv_chunks(app, year=year, forbund=user.forbund_slug)
    first = next(chunks)
    name = f"uppfoljning-finsam{'-' + year if year else ''}.csv"
    return StreamingResponse(
        chain(["\ufeff" + first], chunks),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post(f"{UF_PATH}/registrera", include_in_schema=False, dependencies=[Depends(verify_csrf)])
def register_uppfoljning(
    request: Request, app: AppDep, user: CurrentUser, form: FormDep
) -> Response:
    uppfoljning.overview(app, viewer_email=user.email, forbund=user.forbund_slug)

    def work() -> uppfoljning.RecordView:
        day = _text(form, "registered_on")
        return uppfoljning.register(
            app,
            ref=_text(form, "ref"),
            actor_email=user.email,
            external_ref=_text(form, "external_ref") or None,
            registered_on=parse_date(day, "registreringsdatumet") if day else None,
            forbund=user.forbund_slug,
        )

    return _attempt(
        request,
        lambda **kw: _uf_page(request, app, user, **kw),
        work,
        lambda _view: _done(UF_PATH, "registrerad"),
    )


# -- closure and follow-up ------------------------------------------------------------------

CLOSURE_NOTICES = {"besvarad": "Svaret på uppföljningsfrågan är sparat."}


def _closure_page(
    request: Request,
    app: App,
    user: Principal,
    *,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    after = None if request.method == "POST" else request.query_params.get("efter") or None
    ended = closure.ended(app, viewer_email=user.email, forbund=user.forbund_slug, after=after)
    next_url, first_url = _pages(request, CLOSURE_PATH, {}, ended.next_after)
    # The follow-up questions, open and answered, each list paged on by a cursor of its own
    # (?oppna=... / ?besvarade=...); a link to one list's next page starts the others over.
    questions: dict[str, Any] = {}
    for name, answered in (("oppna", False), ("besvarade", True)):
        cursor = None if request.method == "POST" else request.query_params.get(name) or None
        page = closure.follow_ups(app, forbund=user.forbund_slug, answered=answered, after=cursor)
        questions[name] = {
            "items": page.items,
            "next_url": f"{CLOSURE_PATH}?{urlencode({name: page.next_after})}#{name}"
            if page.next_after
            else None,
            "first_url": f"{CLOSURE_PATH}#{name}" if cursor else None,
        }
    return render(
        request,
        "funding/closure.html.j2",
        {
            "ended": ended.items,
            "next_url": next_url,
            "first_url": first_url,
            "open": questions["oppna"]["items"],
            "answered": questions["besvarade"]["items"],
            "questions": questions,
            "today": local_date(app.clock(), app.settings.zone),
            "case_url": case_url,
            "may_answer": Role.FORBUNDSCHEF in user.roles,
            "notice": notice,
            "error": error,
        },
        status_code=status_code,
    )


@router.get(CLOSURE_PATH, response_class=HTMLResponse, include_in_schema=False)
def closure_page(request: Request, app: AppDep, user: CurrentUser) -> HTMLResponse:
    return _closure_page(request, app, user, notice=_notice(request, CLOSURE_NOTICES))


@router.post(
    f"{CLOSURE_PATH}/fragor/{{question_id}}",
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
    openapi_extra={"x-finsam-samples": {"question_id": "question_id"}},
)
def answer_question(
    request: Request,
    app: AppDep,
    user: CurrentUser,
    question_id: int,
    form: FormDep,
) -> Response:
    return _attempt(
        request,
        lambda **kw: _closure_page(request, app, user, **kw),
        lambda: closure.answer(
            app,
            question_id=question_id,
            answer_text=_text(form, "answer"),
            actor_email=user.email,
            forbund=user.forbund_slug,
        ),
        lambda _result: _done(CLOSURE_PATH, "besvarad"),
    )
