"""Jinja2 for the pages: autoescape on for every template we use, Swedish dates and times.

A route renders with `render(request, "domain/page.html.j2", {...})`; every template extends
`_layout.html.j2` (blocks `title` and `content`) and puts `{{ csrf_field() }}` in each form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from workflow.clock import STOCKHOLM, as_utc
from workflow.services.access.sessions import Principal
from workflow.vocabulary import Role

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

MONTHS = (
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
)


def _local(value: date | datetime) -> date | datetime:
    return as_utc(value).astimezone(STOCKHOLM) if isinstance(value, datetime) else value


def datum(value: date | datetime | None) -> str:
    """Running text: "13 december 2026" (a datetime in Stockholm time)."""
    if value is None:
        return ""
    day = _local(value)
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def kort_datum(value: date | datetime | None) -> str:
    """Where space is short: "2026-12-13"."""
    if value is None:
        return ""
    day = _local(value)
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}"


def tid(value: datetime | None) -> str:
    """A time of day in Stockholm: "kl. 9.00"."""
    if value is None:
        return ""
    moment = as_utc(value).astimezone(STOCKHOLM)
    return f"kl. {moment.hour}.{moment.minute:02d}"


# Swedish typography groups the thousands with a space that does not break a number over two
# lines: a narrow no-break space (U+202F), "6 340".
THOUSANDS = "\u202f"
_DIGITS = re.compile(r"\d{4,}")


def _grouped(digits: str) -> str:
    return f"{int(digits):,}".replace(",", THOUSANDS)


def tkr(value: int | float | str | None) -> str:
    """An amount in tkr as Swedish text: 6340 -> "6 340"; a text such as "+ 6340" keeps its
    sign; None is empty. Every page that shows money uses this filter."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return ("-" if value < 0 else "") + _grouped(str(abs(value)))
    if isinstance(value, float):
        whole, _, fraction = f"{value:.2f}".rstrip("0").rstrip(".").partition(".")
        return tkr(int(whole)) + ("," + fraction if fraction else "")
    return _DIGITS.sub(lambda m: _grouped(m.group(0)), str(value))


@dataclass(frozen=True)
class NavItem:
    """A link in the main navigation; shown to everyone logged in, or only to `roles`."""

    label: str
    path: str
    roles: frozenset[Role] | None = None


# The main navigation, in order. A domain's routes module appends its own items (the pages
# helper adds Ärenden, the board pages Möten, ...); keep each label short.
NAV: list[NavItem] = [NavItem("Att göra", "/")]

# The order the menu shows, by the work rather than by which routes module was merged first:
# the cases, the board, the funding, then the administration. An item not named here comes
# after these, in the order it was added.
NAV_ORDER: tuple[str, ...] = (
    # the cases
    "Att göra",
    "Ärenden",
    "Ny idé",
    # the board
    "Beredning",
    "Möten",
    "Styrdokument",
    # the funding
    "Ekonomi",
    "Rapporter",
    # the administration
    "Påminnelser",
    "Utkorg",
    "Diarium",
    "Logg",
    "Inställningar",
)


def _nav_place(item: NavItem) -> int:
    return NAV_ORDER.index(item.label) if item.label in NAV_ORDER else len(NAV_ORDER)


def nav_for(principal: Principal | None) -> list[NavItem]:
    if principal is None:
        return []
    shown = [item for item in NAV if item.roles is None or principal.roles & item.roles]
    return sorted(shown, key=_nav_place)  # stable: the unnamed keep their order


@pass_context
def csrf_field(context: Context) -> Markup:
    """The hidden CSRF field every form carries (workflow/web/deps.py checks it)."""
    from workflow.web.deps import csrf_token

    token = csrf_token(context["request"])
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(escape(token))


def _autoescape(name: str | None) -> bool:
    return name is None or name.endswith((".html.j2", ".html", ".xml.j2", ".svg.j2"))


def make_environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=_autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(datum=datum, kort_datum=kort_datum, tid=tid, tkr=tkr)
    environment.globals.update(csrf_field=csrf_field)
    return environment


ENVIRONMENT = make_environment()


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """The page `template` for this request; the layout gets the person, nav and contact."""
    from workflow.web.deps import csrf_token, principal_or_none, set_pending_cookies

    principal = principal_or_none(request)
    app = request.app.state.finsam
    page = {
        "request": request,
        "principal": principal,
        "nav": nav_for(principal),
        "contact_email": app.settings.web.contact_email,
        "current_path": request.url.path,
        **(context or {}),
    }
    csrf_token(request)  # decided before the body, so a new anonymous cookie goes with it
    body = ENVIRONMENT.get_template(template).render(page)
    response = HTMLResponse(body, status_code=status_code, headers=headers)
    set_pending_cookies(request, response)
    return response
