"""The förbund's own set-up (/installningar/...): its details, parties, people and their roles,
organs with members and mandate periods, the same YAML file as `finsam forbund export/import`,
and the history of these changes. An installation administrator also founds förbund here
(/installningar/forbund).

Every page is of one förbund, the person's own: another förbund's set-up is "not found" (404),
and a person who may not manage the organisation (states/actions.yaml manage_organisation)
is refused (403). The pages only call services/organisation; each change is one audit event
there, recorded as done through the web (the middleware says the channel).
"""

from __future__ import annotations

import re
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from workflow.app import App
from workflow.case_fields import parse_date
from workflow.errors import BadInput, NotFound, NotPermitted
from workflow.models.meetings import MemberRole, OrganKind
from workflow.services.access import links
from workflow.services.access.sessions import Principal
from workflow.services.organisation import (
    admin,
    forbund_file,
    forbund_import,
    organs,
    parties,
    people,
)
from workflow.services.organisation.members import MEMBER_ROLE_LABELS, elected_in
from workflow.services.organisation.organs import ORGAN_KIND_LABELS
from workflow.vocabulary import PARTY_KIND_LABELS, ROLE_LABELS, Role
from workflow.web import forms
from workflow.web.deps import AppDep, CurrentUser, FormDep, verify_csrf
from workflow.web.templating import NAV, NavItem, render

router = APIRouter()

BASE = "/installningar"
FOUND_PATH = f"{BASE}/forbund"

# The roles of manage_organisation as shipped (states/actions.yaml); the pages check the action.
NAV.append(NavItem("Inställningar", BASE, frozenset({Role.FORBUNDSCHEF, Role.ADMIN})))

# What a redirect's ?klart= says on the page it lands on.
DONE = {
    "forbund": "Förbundets uppgifter är sparade.",
    "part": "Parten är sparad.",
    "person": "Personen är sparad.",
    "inaktiverad": "Personen är inaktiverad; hennes eller hans inloggningar har upphört.",
    "aktiverad": "Personen är återaktiverad.",
    "lank": "En länk för att välja lösenord är skickad till personens e-post.",
    "organ": "Organet är sparat.",
    "uppdrag": "Uppdraget är sparat.",
    "borttagen": "Uppdraget är borttaget.",
    "import": "Filen är inläst.",
    "skapat": "Förbundet är skapat med sin första administratör.",
}

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _manager(app: App, user: Principal, forbund: str) -> None:
    """The person's own förbund only (another's is not found), and the right to manage it."""
    if forbund != user.forbund_slug:
        raise NotFound(f"inget förbund {forbund!r} att visa")
    managing = app.actions["manage_organisation"]
    if not user.roles & managing.roles:
        raise NotPermitted(f"du får inte {managing.label}; det får: {managing.who_may()}")


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _optional(form: FormData, name: str) -> str | None:
    return _text(form, name) or None


def _day(form: FormData, name: str, label: str) -> date | None:
    raw = _text(form, name)
    return parse_date(raw, label) if raw else None


def _int(form: FormData, name: str, label: str) -> int | None:
    raw = _text(form, name)
    if not raw:
        return None
    if not raw.isdigit():
        raise BadInput(f"{label} {raw!r} ska vara ett heltal")
    return int(raw)


def _done(request: Request) -> str | None:
    return DONE.get(request.query_params.get("klart", ""))


def _to(path: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?klart={done}", status_code=303)


def _choices() -> dict[str, Any]:
    return {
        "party_kinds": [(k.value, label) for k, label in PARTY_KIND_LABELS.items()],
        "roles": [(r.value, label) for r, label in ROLE_LABELS.items()],
        "role_labels": {r.value: label for r, label in ROLE_LABELS.items()},
        "organ_kinds": [(k.value, ORGAN_KIND_LABELS[k]) for k in OrganKind],
        "member_roles": [(r.value, MEMBER_ROLE_LABELS[r]) for r in MemberRole],
    }


# -- the förbund's overview -------------------------------------------------------------------


def _overview(
    request: Request,
    app: App,
    user: Principal,
    *,
    error: str | None = None,
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    slug = user.forbund_slug
    view = admin.get_forbund(app, slug)
    everyone = people.people(app, slug, limit=500)
    return render(
        request,
        "setup/forbund.html.j2",
        {
            "forbund": view,
            "people": everyone.items,
            "party_choices": [(p.name, p.name) for p in view.parties],
            "base": f"{BASE}/{slug}",
            "installation_admin": admin.is_installation_admin(app, forbund=slug, email=user.email),
            "done": _done(request),
            "error": error,
            "form": form or {},
            **_choices(),
        },
        status_code=status_code,
    )


@router.get(BASE, include_in_schema=False)
def setup_start(app: AppDep, user: CurrentUser) -> Response:
    _manager(app, user, user.forbund_slug)
    return RedirectResponse(f"{BASE}/{user.forbund_slug}", status_code=303)


@router.get(FOUND_PATH, response_class=HTMLResponse, include_in_schema=False)
def found_page(request: Request, app: AppDep, user: CurrentUser) -> HTMLResponse:
    admin.require_installation_admin(app, forbund=user.forbund_slug, email=user.email)
    return _found_form(request, app)


def _found_form(
    request: Request,
    app: App,
    *,
    error: str | None = None,
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "setup/found.html.j2",
        {
            "all_forbund": admin.list_forbund(app),
            "default_dnr_pattern": app.settings.default_dnr_pattern,
            "done": _done(request),
            "created": request.query_params.get("nytt", ""),
            "error": error,
            "form": form or {},
        },
        status_code=status_code,
    )


@router.post(
    FOUND_PATH,
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
)
def found_submit(request: Request, app: AppDep, user: CurrentUser, form: FormDep) -> Response:
    admin.require_installation_admin(app, forbund=user.forbund_slug, email=user.email)
    try:
        view = admin.found_forbund_by(
            app,
            by_forbund=user.forbund_slug,
            by_email=user.email,
            slug=_text(form, "slug"),
            name=_text(form, "name"),
            orgnr=_optional(form, "orgnr"),
            dnr_pattern=_optional(form, "dnr_pattern"),
            admin_name=_text(form, "admin_name"),
            admin_email=_text(form, "admin_email"),
        )
    except BadInput as refused:
        return _found_form(
            request, app, error=forms.sentence(refused), form=dict(form), status_code=400
        )
    return RedirectResponse(f"{FOUND_PATH}?klart=skapat&nytt={view.slug}", status_code=303)


@router.get(f"{BASE}/{{forbund}}", response_class=HTMLResponse, include_in_schema=False)
def forbund_page(request: Request, app: AppDep, user: CurrentUser, forbund: str) -> HTMLResponse:
    _manager(app, user, forbund)
    return _overview(request, app, user)


@router.post(
    f"{BASE}/{{forbund}}",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
)
def forbund_submit(
    request: Request,
    app: AppDep,
    user: CurrentUser,
    forbund: str,
    form: FormDep,
) -> Response:
    _manager(app, user, forbund)
    try:
        admin.update_forbund(
            app,
            actor_email=user.email,
            forbund=forbund,
            name=_text(form, "name"),
            orgnr=_text(form, "orgnr"),
            dnr_pattern=_text(form, "dnr_pattern"),
        )
    except BadInput as refused:
        return _overview(request, app, user, error=forms.sentence(refused), status_code=400)
    return _to(f"{BASE}/{forbund}", "forbund")


# -- parties ----------------------------------------------------------------------------------


@router.post(
    f"{BASE}/{{forbund}}/parter",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
)
def party_create(
    request: Request, app: AppDep, user: CurrentUser, forbund: str, form: FormDep
) -> Response:
    _manager(app, user, forbund)
    try:
        parties.create_party(
            app,
            actor_email=user.email,
            forbund=forbund,
            kind=_text(form, "kind"),
            name=_text(form, "name"),
        )
    except BadInput as refused:
        return _overview(
            request,
            app,
            user,
            error=forms.sentence(refused),
            form={"party": dict(form)},
            status_code=400,
        )
    return _to(f"{BASE}/{forbund}", "part")


def _party_page(
    request: Request,
    app: App,
    forbund: str,
    party_id: int,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "setup/party.html.j2",
        {
            "party": parties.get_party(app, party_id=party_id, forbund=forbund),
            "base": f"{BASE}/{forbund}",
            "done": _done(request),
            "error": error,
            **_choices(),
        },
        status_code=status_code,
    )


@router.get(
    f"{BASE}/{{forbund}}/parter/{{party_id}}", response_class=HTMLResponse, include_in_schema=False
)
def party_page(
    request: Request, app: AppDep, user: CurrentUser, forbund: str, party_id: int
) -> HTMLResponse:
    _manager(app, user, forbund)
    return _party_page(request, app, forbund, party_id)


@router.post(
    f"{BASE}/{{forbund}}/parter/{{party_id}}",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
)
def party_submit(
    request: Request,
    app: AppDep,
    user: CurrentUser,
    forbund: str,
    party_id: int,
    form: FormDep,
) -> Response:
    _manager(app, user, forbund)
    try:
        parties.update_party(
            app,
            actor_email=user.email,
            forbund=forbund,
            party_id=party_id,
            name=_text(form, "name"),
            kind=_text(form, "kind"),
        )
    except BadInput as refused:
        return _party_page(
            request, app, forbund, party_id, error=forms.sentence(refused), status_code=400
        )
    return _to(f"{BASE}/{forbund}/parter/{party_id}", "part")


# -- people -----------------------------------------------------------------------------------


def _roles(form: FormData) -> list[str]:
    return [str(v) for v in form.getlist("roles") if isinstance(v, str) and v]


@router.post(
    f"{BASE}/{{forbund}}/personer",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
)
def person_create(
    request: Request, app: AppDep, user: CurrentUser, forbund: str, form: FormDep
) -> Response:
    _manager(app, user, forbund)
    try:
        view = people.create_person(
            app,
            actor_email=user.email,
            forbund=forbund,
            name=_text(form, "name"),
            email=_text(form, "email"),
            roles=_roles(form),
            party=_optional(form, "party"),
        )
    except BadInput as refused:
        submitted = {"name": _text(form, "name"), "email": _text(form, "email")}
        submitted.update(party=_text(form, "party"), roles=_roles(form))  # type: ignore[arg-type]
        return _overview(
            request,
            app,
            user,
            error=forms.sentence(refused),
            form={"person": submitted},
            status_code=400,
        )
    return _to(f"{BASE}/{forbund}/personer/{view.id}", "person")


def _person_page(
    request: Request,
    app: App,
    forbund: str,
    person_id: int,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "setup/person.html.j2",
        {
            "person": people.get_person_by_id(app, person_id=person_id, forbund=forbund),
            "party_choices": [(p.name, p.name) for p in parties.parties(app, forbund)],
            "base": f"{BASE}/{forbund}",
            "done": _done(request),
            "error": error,
            **_choices(),
        },
        status_code=status_code,
    )


@router.get(
    f"{BASE}/{{forbund}}/personer/{{person_id}}",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def person_page(
    request: Request, app: AppDep, user: CurrentUser, forbund: str, person_id: int
) -> HTMLResponse:
    _manager(app, user, forbund)
    return _person_page(request, app, forbund, person_id)


@router.post(
    f"{BASE}/{{forbund}}/personer/{{person_id}}",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
)
def person_submit(
    request: Request,
    app: AppDep,
    user: CurrentUser,
    forbund: str,
    person_id: int,
    form: FormDep,
) -> Response:
    _manager(app, user, forbund)
    try:
        people.edit_person(
            app,
            actor_email=user.email,
            forbund=forbund,
            person_id=person_id,
            name=_text(form, "name"),
            email=_text(form, "email"),
            party=_optional(form, "party"),
            roles=_roles(form),
        )
    except BadInput as refused:
        return _person_page(
            request, app, forbund, person_id, error=forms.sentence(refused), status_code=400
        )
    return _to(f"{BASE}/{forbund}/personer/{person_id}", "person")


@router.post(
    f"{BASE}/{{forbund}}/personer/{{person_id}}/aktiv",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
)
def person_active(
    request: Request,
    app: AppDep,
    user: CurrentUser,
    forbund: str,
    person_id: int,
    form: FormDep,
) -> Response:
    _manager(app, user, forbund)
    active = _text(form, "active") == "1"
    try:
        people.set_person_active(
            app, actor_email=user.email, forbund=forbund, person_id=person_id, active=active
        )
    except BadInput as refused:
        return _person_page(
            request, app, forbund, person_id, error=forms.sentence(refused), status_code=400
        )
    return _to(f"{BASE}/{forbund}/personer/{person_id}", "aktiverad" if active else "inaktiverad")


@router.post(
    f"{BASE}/{{forbund}}/personer/{{person_id}}/losenordslank",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
)
def person_link(
    request: Request, app: AppDep, user: CurrentUser, forbund: str, person_id: int
) -> Response:
    _manager(app, user, forbund)
    view = people.get_person_by_id(app, person_id=person_id, forbund=forbund)
    if not view.active:
        return _person_page(
            request,
            app,
            forbund,
            person_id,
            error="Personen är inaktiverad; återaktivera henne eller honom först.",
            status_code=400,
        )
    address = request.client.host if request.client else ""
    links.request_link(app, email=view.email, address=address)
    return _to(f"{BASE}/{forbund}/personer/{person_id}", "lank")


# -- organs -----------------------------------------------------------------------------------


@router.post(
    f"{BASE}/{{forbund}}/organ",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
)
def organ_create(
    request: Request, app: AppDep, user: CurrentUser, forbund: str, form: FormDep
) -> Response:
    _manager(app, user, forbund)
    try:
        view = organs.create_organ(
            app,
            actor_email=user.email,
            forbund=forbund,
            kind=_text(form, "kind"),
            name=_optional(form, "name"),
        )
    except BadInput as refused:
        return _overview(
            request,
            app,
            user,
            error=forms.sentence(refused),
            form={"organ": dict(form)},
            status_code=400,
        )
    return _to(f"{BASE}/{forbund}/organ/{view.id}", "organ")


def _organ_page(
    request: Request,
    app: App,
    forbund: str,
    organ_id: int,
    *,
    error: str | None = None,
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    view = organs.get_organ_by_id(app, organ_id=organ_id, forbund=forbund)
    return render(
        request,
        "setup/organ.html.j2",
        {
            "organ": view,
            "elected": {
                m.person_id: elected_in(m.mandate_from, m.mandate_to) for m in view.members
            },
            "person_choices": [
                (str(p.id), f"{p.name} <{p.email}>")
                for p in people.people(app, forbund, limit=500).items
                if p.active
            ],
            "party_choices": [(p.name, p.name) for p in parties.parties(app, forbund)],
            "base": f"{BASE}/{forbund}",
            "done": _done(request),
            "error": error,
            "form": form or {},
            **_choices(),
        },
        status_code=status_code,
    )


@router.get(
    f"{BASE}/{{forbund}}/organ/{{organ_id}}", response_class=HTMLResponse, include_in_schema=False
)
def organ_page(
    request: Request, app: AppDep, user: CurrentUser, forbund: str, organ_id: int
) -> HTMLResponse:
    _manager(app, user, forbund)
    return _organ_page(request, app, forbund, organ_id)


@router.post(
    f"{BASE}/{{forbund}}/organ/{{organ_id}}",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
)
def organ_submit(
    request: Request,
    app: AppDep,
    user: CurrentUser,
    forbund: str,
    organ_id: int,
    form: FormDep,
) -> Response:
    _manager(app, user, forbund)
    current = organs.get_organ_by_id(app, organ_id=organ_id, forbund=forbund)
    try:
        organs.rename_organ(
            app,
            actor_email=user.email,
            forbund=forbund,
            organ=current.name,
            name=_text(form, "name"),
        )
    except BadInput as refused:
        return _organ_page(
            request, app, forbund, organ_id, error=forms.sentence(refused), status_code=400
        )
    return _to(f"{BASE}/{forbund}/organ/{organ_id}", "organ")


@router.post(
    f"{BASE}/{{forbund}}/organ/{{organ_id}}/uppdrag",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
)
def member_submit(
    request: Request,
    app: AppDep,
    user: CurrentUser,
    forbund: str,
    organ_id: int,
    form: FormDep,
) -> Response:
    _manager(app, user, forbund)
    current = organs.get_organ_by_id(app, organ_id=organ_id, forbund=forbund)
    try:
        person_id = _int(form, "person", "personen")
        if person_id is None:
            raise BadInput("välj vem uppdraget gäller")
        person = people.get_person_by_id(app, person_id=person_id, forbund=forbund)
        organs.set_member(
            app,
            actor_email=user.email,
            forbund=forbund,
            organ=current.name,
            email=person.email,
            role=_text(form, "role"),
            order=_int(form, "order", "ersättarordningen"),
            party=_optional(form, "party"),
            elected=_int(form, "elected", "valåret"),
            mandate_from=_day(form, "mandate_from", "mandatets början"),
            mandate_to=_day(form, "mandate_to", "mandatets slut"),
        )
    except (BadInput, NotFound) as refused:
        return _organ_page(
            request,
            app,
            forbund,
            organ_id,
            error=forms.sentence(refused),
            form=dict(form),
            status_code=400,
        )
    return _to(f"{BASE}/{forbund}/organ/{organ_id}", "uppdrag")


@router.post(
    f"{BASE}/{{forbund}}/organ/{{organ_id}}/uppdrag/{{person_id}}/ta-bort",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
)
def member_remove(
    request: Request, app: AppDep, user: CurrentUser, forbund: str, organ_id: int, person_id: int
) -> Response:
    _manager(app, user, forbund)
    current = organs.get_organ_by_id(app, organ_id=organ_id, forbund=forbund)
    person = people.get_person_by_id(app, person_id=person_id, forbund=forbund)
    organs.remove_member(
        app, actor_email=user.email, forbund=forbund, organ=current.name, email=person.email
    )
    return _to(f"{BASE}/{forbund}/organ/{organ_id}", "borttagen")


# -- the YAML file and the history ------------------------------------------------------------


@router.get(f"{BASE}/{{forbund}}/forbund.yaml", include_in_schema=False)
def export_file(app: AppDep, user: CurrentUser, forbund: str) -> Response:
    _manager(app, user, forbund)
    text = forbund_file.export_forbund(app, forbund)
    return Response(
        text,
        media_type="application/yaml; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="forbund-{forbund}.yaml"'},
    )


@router.post(
    f"{BASE}/{{forbund}}/import",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(verify_csrf)],
)
def import_upload(
    request: Request, app: AppDep, user: CurrentUser, forbund: str, form: FormDep
) -> Response:
    _manager(app, user, forbund)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _overview(request, app, user, error="Välj en YAML-fil att läsa in.", status_code=400)
    content = upload.file.read(2_000_001)  # spooled by the form parser: no await needed
    if len(content) > 2_000_000:
        return _overview(
            request, app, user, error="Filen är större än 2 MB; dela upp den.", status_code=400
        )
    name = _SAFE_NAME.sub("_", Path(upload.filename).name)[:80] or "forbund.yaml"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        try:
            report = forbund_import.import_file(
                app,
                path,
                actor_email=user.email,
                operator=user.email,
                channel="web",
                only_forbund=forbund,
            )
        except (BadInput, NotFound) as refused:  # the file's own name, not where it was kept
            message = forms.sentence(refused).replace(str(path), name)
            return _overview(request, app, user, error=message, status_code=400)
    return render(
        request,
        "setup/imported.html.j2",
        {"report": report, "base": f"{BASE}/{forbund}"},
    )


@router.get(f"{BASE}/{{forbund}}/historik", response_class=HTMLResponse, include_in_schema=False)
def history_page(request: Request, app: AppDep, user: CurrentUser, forbund: str) -> HTMLResponse:
    _manager(app, user, forbund)
    return render(
        request,
        "setup/history.html.j2",
        {"changes": list(reversed(admin.history(app, forbund))), "base": f"{BASE}/{forbund}"},
    )
