"""The beredningsgrupp's page (/beredning): the förbund's cases under beredning, each with its
application beside the group's notes and recommendations, 20 a page in dnr order
(`?efter=<cursor>`: the case list's cursor; the forms carry it so a note returns to its page).

Members write notes; the förbundschef records the group's recommendation (bevilja, bevilja
med villkor, komplettera, avslå) with its motivering and any dissent. The services decide
(workflow/services/board/beredning.py): a refusal for what was written shows the page again
with the text kept; a case changed since the person read it is the conflict page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from workflow.errors import BadInput, Conflict
from workflow.services import cases
from workflow.services.board import beredning
from workflow.services.cases.views import CURSOR_KIND
from workflow.services.paging import decode_cursor
from workflow.vocabulary import RECOMMENDATION_LABELS, Role
from workflow.web import forms
from workflow.web.deps import AppDep, CurrentUser, FormDep, verify_csrf
from workflow.web.templating import NAV, NavItem, render

router = APIRouter()

BEREDNING_PATH = "/beredning"
NOTE_PATH = "/beredning/anteckning"
RECOMMENDATION_PATH = "/beredning/rekommendation"

NAV.append(
    NavItem(
        "Beredning",
        BEREDNING_PATH,
        frozenset({Role.BEREDNINGSGRUPP, Role.FORBUNDSCHEF, Role.SEKRETERARE, Role.ADMIN}),
    )
)


def _page(
    request: Request,
    app: Any,
    user: Any,
    *,
    notice: str | None = None,
    failed: tuple[str, str] | None = None,
    error: str | None = None,
    submitted: dict[str, str] | None = None,
    status_code: int = 200,
    after: str | None = None,
) -> HTMLResponse:
    board = beredning.beredning_board(
        app, viewer_email=user.email, forbund=user.forbund_slug, after=after
    )
    return render(
        request,
        "beredning/board.html.j2",
        {
            "board": board,
            # The page the forms were on (they carry it back) and the links to the others.
            "after": after or "",
            "next_url": _url(efter=board.next_after) if board.next_after else None,
            "first_url": BEREDNING_PATH if after else None,
            "outcomes": [(str(k), v) for k, v in RECOMMENDATION_LABELS.items()],
            "notice": notice,
            # (ref, form) of the form refused, its error and what was written in it.
            "failed": failed,
            "error": error,
            "submitted": submitted or {},
            "case_url": forms.case_url,
        },
        status_code=status_code,
    )


def _url(**params: str | None) -> str:
    """The board with these parameters (those with a value)."""
    given = {name: value for name, value in params.items() if value}
    return f"{BEREDNING_PATH}?{urlencode(given)}" if given else BEREDNING_PATH


@router.get(BEREDNING_PATH, response_class=HTMLResponse, include_in_schema=False)
def beredning_page(
    request: Request,
    app: AppDep,
    user: CurrentUser,
    klart: str | None = None,
    efter: str | None = None,
) -> HTMLResponse:
    notice = {
        "anteckning": "Anteckningen är sparad.",
        "rekommendation": "Rekommendationen är registrerad.",
    }.get(klart or "")
    return _page(request, app, user, notice=notice, after=_cursor(efter))


def _cursor(efter: str | None) -> str | None:
    """The page's cursor (the case list's), or a refusal in the page's words."""
    after = (efter or "").strip() or None
    if after is not None:
        try:
            decode_cursor(CURSOR_KIND, after, 3)
        except BadInput:
            raise BadInput(
                "länken till sidan är ogiltig eller för gammal; börja om från första sidan"
            ) from None
    return after


# The service names the CLI's options; the page names its own fields instead.
_CLI_WORDS = {
    "; ange --motivation": "; skriv den under Motivering",
    " med --missing (en gång per sak)": " under Det som saknas, en sak per rad",
    " med --conditions": " under Villkor",
}


def _web_words(text: str) -> str:
    for cli, web in _CLI_WORDS.items():
        text = text.replace(cli, web)
    return text


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


@router.post(
    NOTE_PATH,
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
)
def add_note(request: Request, app: AppDep, user: CurrentUser, form: FormDep) -> Response:
    ref = _text(form, "ref")
    # The case first: one of another förbund (or none) is not found, whatever the form holds.
    case = cases.get_case(app, ref=ref, forbund=user.forbund_slug, viewer_email=user.email)
    submitted = {"text": _text(form, "text"), "meeting": _text(form, "meeting")}
    try:
        beredning.add_note(
            app,
            ref=case.ref,
            actor_email=user.email,
            text=submitted["text"],
            meeting=submitted["meeting"] or None,
            forbund=user.forbund_slug,
        )
    except BadInput as error:
        return _page(
            request,
            app,
            user,
            failed=(case.ref, "anteckning"),
            error=forms.sentence(error),
            submitted=submitted,
            status_code=400,
            after=_cursor(_text(form, "efter")),
        )
    done = _url(klart="anteckning", efter=_text(form, "efter"))
    return RedirectResponse(f"{done}#arende-{case.id}", status_code=303)


@router.post(
    RECOMMENDATION_PATH,
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
)
def record_recommendation(
    request: Request, app: AppDep, user: CurrentUser, form: FormDep
) -> Response:
    ref = _text(form, "ref")
    case = cases.get_case(app, ref=ref, forbund=user.forbund_slug, viewer_email=user.email)
    version = _text(form, "version")
    if not version.isdigit():
        raise BadInput("formuläret saknar versionen du såg; ladda om sidan och försök igen")
    submitted = {
        name: _text(form, name)
        for name in ("outcome", "motivation", "conditions", "missing", "dissent", "meeting")
    }
    try:
        if case.version != int(version):
            raise Conflict(f"{case.ref} har ändrats sedan du läste ärendet")
        beredning.record_recommendation(
            app,
            ref=case.ref,
            actor_email=user.email,
            outcome=submitted["outcome"],
            motivation=submitted["motivation"],
            conditions=submitted["conditions"] or None,
            missing_items=[line for line in submitted["missing"].splitlines() if line.strip()],
            dissent=submitted["dissent"] or None,
            meeting=submitted["meeting"] or None,
            forbund=user.forbund_slug,
        )
    except Conflict as error:
        now = cases.get_case(app, ref=case.ref, forbund=user.forbund_slug, viewer_email=user.email)
        return render(
            request,
            "cases/conflict.html.j2",
            {"case": now, "case_url": forms.case_url(now.ref), "message": forms.sentence(error)},
            status_code=409,
        )
    except BadInput as error:
        return _page(
            request,
            app,
            user,
            failed=(case.ref, "rekommendation"),
            error=forms.sentence(_web_words(str(error))),
            submitted=submitted,
            status_code=400,
            after=_cursor(_text(form, "efter")),
        )
    # The case has left beredning; the page it was on shows the cases after it.
    done = _url(klart="rekommendation", efter=_text(form, "efter"))
    return RedirectResponse(done, status_code=303)
