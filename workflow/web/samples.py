"""Sample values of path parameters, per förbund, for the generated security tests.

The cross-förbund matrix (tests/test_web_security.py) walks the routing table: every route
with path parameters, every role, both demo förbund. To call a route of förbund B as a person
of förbund A it needs, for each path parameter, a value that exists in B. A route gets it
in one of two ways:

  - by the parameter's name: a finder registered here with `@sample("ref")` serves every
    route with a `{ref}` (a case's dnr or idea number);
  - by the route: `openapi_extra={"x-finsam-samples": {"ref": "case_ref"}}` names the finder
    to use for that route's parameter when the name alone is ambiguous.

A route with a parameter no finder serves fails the matrix test, naming the route: so a
route added later is covered, or its author is told what to add.

A route that is public by design for every förbund (an OIDC login of förbund B, before anyone
is known) says so with `openapi_extra={"x-finsam-public": "why"}`: the cross-förbund matrix
skips it, the other security tests still call it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from workflow.app import App
from workflow.models import Forbund, Insats, Person

# (app, förbund slug) -> a value of that förbund for the parameter.
Finder = Callable[[App, str], str]

FINDERS: dict[str, Finder] = {}


def sample(name: str) -> Callable[[Finder], Finder]:
    """Register the finder of a path parameter (or of a named sample, see the docstring)."""

    def register(finder: Finder) -> Finder:
        if name in FINDERS:
            raise ValueError(f"sample {name!r} registered twice")
        FINDERS[name] = finder
        return finder

    return register


_F = Forbund.__table__  # type: ignore[attr-defined]
_I = Insats.__table__  # type: ignore[attr-defined]
_P = Person.__table__  # type: ignore[attr-defined]


def _forbund_id(app: App, slug: str) -> int:
    with app.db.reading() as session:
        return int(session.execute(select(_F.c.id).where(_F.c.slug == slug)).scalar_one())


@sample("ref")
def case_ref(app: App, slug: str) -> str:
    """A registered case of the förbund (its dnr), else an idea (its number).

    A dnr holds a slash (2012/011-01): routes take it as `{ref:path}`.
    """
    forbund_id = _forbund_id(app, slug)
    with app.db.reading() as session:
        insats_id = session.execute(
            select(_I.c.id)
            .where(_I.c.forbund_id == forbund_id)
            .order_by(_I.c.dnr.is_(None), _I.c.id)
            .limit(1)
        ).scalar_one()
        insats = session.get(Insats, insats_id)
        assert insats is not None
    from workflow.services.cases.records import case_ref as ref_of

    return ref_of(insats)


@sample("person_id")
def person_id(app: App, slug: str) -> str:
    forbund_id = _forbund_id(app, slug)
    with app.db.reading() as session:
        return str(
            session.execute(select(_P.c.id).where(_P.c.forbund_id == forbund_id).order_by(_P.c.id))
            .scalars()
            .first()
        )


@sample("forbund")
def forbund_slug(app: App, slug: str) -> str:
    return slug


@sample("token_id")
def token_id(app: App, slug: str) -> str:
    """A personal API token of the förbund's first person (made once, named "prov")."""
    from workflow.services.access import tokens

    email = person_email(app, slug)
    for view in tokens.list_tokens(app, email=email, forbund=slug):
        if view.name == "prov" and view.active:
            return str(view.id)
    return str(tokens.create_token(app, email=email, name="prov", forbund=slug).token.id)


def _latest_item(app: App, slug: str) -> tuple[int, int]:
    """(meeting id, item id): the first agenda item of the förbund's latest meeting that has
    an agenda."""
    from workflow.models import AgendaItem, Meeting

    meeting = Meeting.__table__  # type: ignore[attr-defined]
    item = AgendaItem.__table__  # type: ignore[attr-defined]
    forbund_id = _forbund_id(app, slug)
    with app.db.reading() as session:
        row = session.execute(
            select(meeting.c.id, item.c.id)
            .join(item, item.c.meeting_id == meeting.c.id)
            .where(meeting.c.forbund_id == forbund_id)
            .order_by(meeting.c.starts_at.desc(), item.c.section, item.c.position)
            .limit(1)
        ).one()
        return int(row[0]), int(row[1])


@sample("meeting_id")
def meeting_id(app: App, slug: str) -> str:
    """A meeting of the förbund (its row id, as /moten/{meeting_id} takes it)."""
    return str(_latest_item(app, slug)[0])


@sample("agenda_item_id")
def agenda_item_id(app: App, slug: str) -> str:
    """An agenda item of that meeting."""
    return str(_latest_item(app, slug)[1])


def person_email(app: App, slug: str) -> str:
    forbund_id = _forbund_id(app, slug)
    with app.db.reading() as session:
        return str(
            session.execute(
                select(_P.c.email).where(_P.c.forbund_id == forbund_id).order_by(_P.c.id)
            )
            .scalars()
            .first()
        )


def is_public(route_extra: dict[str, object] | None) -> bool:
    return bool((route_extra or {}).get("x-finsam-public"))


def finder_for(route_extra: dict[str, object] | None, param: str) -> Finder | None:
    named = (route_extra or {}).get("x-finsam-samples")
    if isinstance(named, dict) and param in named:
        return FINDERS.get(str(named[param]))
    return FINDERS.get(param)


# -- the board's protocol pages (routes/protocol.py, routes/anslagstavla.py) ------------------


def _meeting_numbers(app: App, slug: str, *, posted: bool) -> list[int]:
    from workflow.models import Meeting, Protocol

    _M = Meeting.__table__  # type: ignore[attr-defined]
    _R = Protocol.__table__  # type: ignore[attr-defined]
    forbund_id = _forbund_id(app, slug)
    query = select(_M.c.number).join(_R, _R.c.meeting_id == _M.c.id)
    query = query.where(_M.c.forbund_id == forbund_id)
    if posted:
        query = query.where(_R.c.status == "anslaget")
    with app.db.reading() as session:
        return [int(n) for n in session.execute(query.order_by(_M.c.starts_at)).scalars()]


@sample("protocol_meeting")
def protocol_meeting(app: App, slug: str) -> str:
    """A meeting of the förbund with a protocol (its number; the path names the förbund too,
    since numbers are each förbund's own)."""
    return str(_meeting_numbers(app, slug, posted=False)[-1])


@sample("posted_protocol")
def posted_protocol(app: App, slug: str) -> str:
    """A meeting whose protocol is on the förbund's anslagstavla."""
    return str(_meeting_numbers(app, slug, posted=True)[-1])


@sample("protocol_paper")
def protocol_paper(app: App, slug: str) -> str:
    return "protokoll"
