"""The case page (/arenden/{ref}) and the steps taken from it.

The page shows the case as `cases.get_case` reads it for this person, the granted budget
(funding), the lifecycle with the current state marked, and the steps this person may take
now (`cases.steps_for`) as forms with exactly the fields each step records. A step is posted
to /arenden/{ref}/steg with the version the person saw; the service decides everything:
a refusal is shown in its words, a change made since is a 409 conflict page, and a field the
step does not record is refused (400), never dropped.

The ref is the CLI's: a diarienummer such as 2026/003-01 keeps its slash in the address
(`{ref:path}`), an idea is ide-N. Links to a case use `forms.case_url(ref)`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from workflow.clock import local
from workflow.errors import BadInput, ConditionFailed, Conflict
from workflow.services import cases
from workflow.services.cases import CaseView, Step
from workflow.services.funding.budget import lines_of
from workflow.services.organisation.parties import parties as party_views
from workflow.web import forms
from workflow.web.deps import AppDep, CurrentUser, FormDep, verify_csrf
from workflow.web.lifecycle_picture import picture
from workflow.web.lifecycle_svg import svg
from workflow.web.templating import render

router = APIRouter()

CASE_PATH = "/arenden/{ref:path}"
STEP_PATH = "/arenden/{ref:path}/steg"

# For the route-table security matrix: how to find a case of a förbund (its first case).
SAMPLES = {"x-finsam-samples": {"ref": "ref"}}


def _where(service_text: str) -> str:
    """The place a service's step happens, without the CLI command in brackets."""
    return service_text.split(" (")[0]


def _page(
    request: Request,
    app: Any,
    user: Any,
    ref: str,
    *,
    notice: str | None = None,
    failed: str | None = None,
    error: str | None = None,
    submitted: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    comment: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    slug = user.forbund_slug
    case = cases.get_case(app, ref=ref, forbund=slug, viewer_email=user.email)
    steps = cases.steps_for(app, ref=case.ref, actor_email=user.email, forbund=slug)
    others = cases.others_can(app, ref=case.ref, actor_email=user.email, forbund=slug)
    granted = {line.year: line.granted_tkr for line in lines_of(app, ref=case.ref, forbund=slug)}
    years = sorted({int(y) for y in case.budget_requested} | set(granted))
    lifecycle = app.lifecycles[cases.SUBJECT].lifecycle
    passed = {e.from_state for e in case.history if e.from_state} | {
        e.to_state for e in case.history
    }
    party_names = [p.name for p in party_views(app, slug)]
    this_year = local(app.clock(), app.settings.zone).year
    offered = []
    for step in steps:
        if not _offered(step):
            continue
        mine = step.trigger == failed
        offered.append(
            {
                "step": step,
                "widgets": forms.widgets(
                    step.fields,
                    case=case,
                    parties=party_names,
                    this_year=this_year,
                    submitted=submitted if mine else None,
                    errors=errors if mine else None,
                ),
                "error": error if mine else None,
                "comment": comment if mine else "",
            }
        )
    refused = [s for s in steps if s.permitted and not _offered(s)]
    return render(
        request,
        "cases/case.html.j2",
        {
            "case": case,
            "case_url": forms.case_url(case.ref),
            "budget_rows": [
                (year, case.budget_requested.get(str(year)), granted.get(year)) for year in years
            ],
            "offered": offered,
            "refused": refused,
            "others": others,
            "services": [(label, _where(where)) for label, where in others.elsewhere],
            "lifecycle": picture(lifecycle, case.state, passed),
            "lifecycle_svg": svg(lifecycle, case.state, passed, describedby="livscykel-lista"),
            "notice": notice,
            "page_error": error if not any(o["error"] for o in offered) else None,
        },
        status_code=status_code,
    )


def _offered(step: Step) -> bool:
    """A step is a form on the page when the person may take it now, or when roles and
    relation allow it and its own fields can satisfy what is missing."""
    return step.allowed or (step.permitted and bool(step.fields))


@router.get(CASE_PATH, response_class=HTMLResponse, include_in_schema=False, openapi_extra=SAMPLES)
def case_page(
    request: Request, app: AppDep, user: CurrentUser, ref: str, klart: str | None = None
) -> HTMLResponse:
    notice = None
    if klart:
        lifecycle = app.lifecycles[cases.SUBJECT].lifecycle
        if klart in lifecycle.triggers():
            notice = f"Klart: ”{lifecycle.step_label(klart)}”."
        elif klart == "ide":
            notice = "Idén är inlämnad."
    return _page(request, app, user, ref, notice=notice)


@router.post(
    STEP_PATH,
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
    openapi_extra=SAMPLES,
)
def take_step(
    request: Request, app: AppDep, user: CurrentUser, ref: str, form: FormDep
) -> Response:
    trigger = str(form.get("trigger") or "")
    version_text = str(form.get("version") or "")
    comment = str(form.get("comment") or "").strip()
    slug = user.forbund_slug
    # The case first: one the person may not see is not found, whatever the form holds.
    case = cases.get_case(app, ref=ref, forbund=slug, viewer_email=user.email)
    if not version_text.isdigit():
        raise BadInput("formuläret saknar versionen du såg; ladda om sidan och försök igen")
    version = int(version_text)
    lifecycle = app.lifecycles[cases.SUBJECT].lifecycle
    transition = lifecycle.transition(trigger, case.state)
    shown = transition.sets if transition is not None else ()
    posted = forms.read_form(form, shown)
    values = forms.changed_values(posted, case)
    try:
        if case.version != version:
            raise Conflict(f"{case.ref} har ändrats sedan du läste ärendet")
        done = cases.fire(
            app,
            ref=case.ref,
            trigger=trigger,
            actor_email=user.email,
            forbund=slug,
            comment=comment or None,
            values=values or None,
            expected_version=version,
        )
    except Conflict as error:
        now = cases.get_case(app, ref=case.ref, forbund=slug, viewer_email=user.email)
        if now.version == version:  # nobody changed it: the step is not one of this state
            raise
        return _conflict(request, now, error)
    except (BadInput, ConditionFailed) as error:
        # Refused for what was written (a condition unmet, a field unreadable): the page
        # again, the reason at the form, the input kept. Other refusals (NotPermitted,
        # NotFound) are error pages in the service's words (web/errors.py).
        unknown = set(posted) - set(shown)
        if unknown:  # a field the step does not record: refused as the service words it
            raise
        field_errors = cases.field_errors(app, values=values, forbund=slug, count_parties=False)
        return _page(
            request,
            app,
            user,
            case.ref,
            failed=trigger,
            error=forms.sentence(error),
            submitted=posted,
            errors=field_errors,
            comment=comment,
            status_code=400,
        )
    return RedirectResponse(f"{forms.case_url(done.ref)}?klart={trigger}", status_code=303)


def _conflict(request: Request, now: CaseView, error: Exception) -> HTMLResponse:
    """The case changed since the person read it: nothing was saved; the case as it is now,
    and the way back to it."""
    return render(
        request,
        "cases/conflict.html.j2",
        {"case": now, "case_url": forms.case_url(now.ref), "message": forms.sentence(error)},
        status_code=409,
    )
