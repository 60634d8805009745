"""Page latency at scale: the web application on uvicorn against a bare route, same queries.

    python bench/web.py                               # 100 000 cases, SQLite and PostgreSQL
    python bench/web.py --cases 10000 --requests 300
    python bench/web.py --db sqlite --cases 2000      # a quicker look
    python bench/web.py --db sqlite --filter "year=2030"   # another filtered list

Builds a förbund with N cases over ten years (2017–2026) on a fresh SQLite file and a fresh
PostgreSQL schema: a small base made through the services (förbund, parties, one person per
role with a password, one idea submitted and registered), then N copies of that registered
case written straight into the tables with SQLAlchemy Core (their parties, and their events
appended to the förbund's audit chain with valid hashes, so `finsam audit verify` passes).
The copies are spread over the ten years, both inriktningar and several states; every fifth
stays `inkommen`, so a step has cases to be taken on.

Then it serves the product's web application with uvicorn on 127.0.0.1 in a child process, logs in
as the förbundschef through the login form, and times a few hundred sequential requests per
page over one keep-alive connection: the start page, the case list (first page and a deep
page via `after`), a filtered list, a case page and a step (through the JSON API when the
branch has it, else POSTed through the case page's form, else not measured). Beside each, in
the same run and the same server, a bare route the bench adds (not in the product) runs the
same service query and returns its rows as JSON: the ratio page/bare is what the page adds
(templates, rights, the rest of the page's queries). A page this branch does not have is
reported as missing, not failed. Figures, not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import create_engine, func, insert, select, text, update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from serving import Server  # noqa: E402  (bench/serving.py, beside this script)

from workflow.app import App  # noqa: E402
from workflow.clock import fixed_clock  # noqa: E402
from workflow.models import AuditChain, AuditEvent, Insats, InsatsParty  # noqa: E402
from workflow.services import cases  # noqa: E402
from workflow.services.access import passwords  # noqa: E402
from workflow.services.cases import audit  # noqa: E402
from workflow.services.cases.views import CaseFilter, get_case, list_cases  # noqa: E402
from workflow.services.organisation.forbund import create_forbund  # noqa: E402
from workflow.services.organisation.parties import add_party  # noqa: E402
from workflow.services.organisation.people import add_person  # noqa: E402
from workflow.services.paging import encode_cursor  # noqa: E402
from workflow.settings import load_settings  # noqa: E402
from workflow.web.app import create_web_app  # noqa: E402
from workflow.web.deps import CurrentUser  # noqa: E402

POSTGRES_URL = os.environ.get(
    "FINSAM_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SLUG = "bench"
PASSWORD = "bänk-lösenord-2026"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
YEARS = list(range(2017, 2027))
ROLES = ["handlaggare", "sekreterare", "forbundschef", "styrelse_ordforande"]
WHO = "forbundschef"
IDEA = {
    "title": "Bänkinsats",
    "malgrupp": "Unga vuxna",
    "mal": "Arbete",
    "syfte": "Samordning",
    "start": "2026-01-01",
    "end": "2027-12-31",
    "owner_party": "Kommunen",
    "parties": ["Kommunen", "Försäkringskassan"],
    "budget": {"2026": 100, "2027": 100},
    "followup_plan": "Halvår",
}
# The states the copies are spread over (every fifth stays inkommen, for the steps).
STATES = ["avslutad_implementerad", "avslutad_avslag", "under_beredning", "komplettering"]
STEP = "starta_beredning"
# A state in a year that none of the copies is in (the template is the one case): the list
# reads as far as it can before it knows the page is empty. `--filter` measures another.
FILTER = "state=avslutad_avslag&year=2021"
BATCH = 2000


def _email(role: str) -> str:
    return f"{role}@bench.example"


# -- building ------------------------------------------------------------------------------


@contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    """A fresh, empty database of this kind: a SQLite file, or a PostgreSQL schema."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'web.db'}"
        return
    schema = f"bench_web_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def build_base(app: App) -> int:
    """Förbund, parties, people with passwords, and one registered case: its id."""
    with app.db.transaction() as session:
        forbund = create_forbund(
            session, slug=SLUG, name="Bänkförbundet", dnr_pattern="{year}/{seq:05d}", now=NOW
        )
        add_party(session, forbund, kind="kommun", name="Kommunen")
        add_party(session, forbund, kind="forsakringskassan", name="Försäkringskassan")
        for role in ROLES:
            add_person(session, forbund, name=role.capitalize(), email=_email(role), roles=[role])
    for role in ROLES:
        passwords.set_password(app, email=_email(role), password=PASSWORD, forbund=SLUG)
    ref = cases.submit_idea(app, actor_email=_email("handlaggare"), values=IDEA, forbund=SLUG).ref
    done = cases.fire(
        app, ref=ref, trigger="registrera", actor_email=_email("sekreterare"), forbund=SLUG
    )
    return done.id


_INSATS = Insats.__table__  # type: ignore[attr-defined]
_PARTY = InsatsParty.__table__  # type: ignore[attr-defined]
_EVENT = AuditEvent.__table__  # type: ignore[attr-defined]
_CHAIN = AuditChain.__table__  # type: ignore[attr-defined]


def grow(app: App, template_id: int, n: int) -> None:
    """N copies of the template case, their parties and events, in batches.

    Each copy gets its own id, number and dnr (year/seq over the ten years), a period in its
    year, an inriktning and a state; its events are the template's, re-dated into its year
    and chained onto the förbund's audit chain (seq, prev_hash and hash as `audit.append`
    computes them), so the chain stays valid.
    """
    with app.db.transaction() as session:
        connection = session.connection()
        case = dict(
            connection.execute(select(_INSATS).where(_INSATS.c.id == template_id)).one()._mapping
        )
        parties = [
            dict(row._mapping)
            for row in connection.execute(select(_PARTY).where(_PARTY.c.insats_id == template_id))
        ]
        events = [
            dict(row._mapping)
            for row in connection.execute(
                select(_EVENT)
                .where(_EVENT.c.subject_kind == "insats", _EVENT.c.subject_id == template_id)
                .order_by(_EVENT.c.seq)
            )
        ]
        first_id = int(connection.execute(select(func.max(_INSATS.c.id))).scalar_one()) + 1
        first_number = int(connection.execute(select(func.max(_INSATS.c.number))).scalar_one()) + 1
    forbund_id = case["forbund_id"]
    for start in range(0, n, BATCH):
        with app.db.transaction() as session:
            connection = session.connection()
            head = audit.lock_chain(session, forbund_id)
            seq, prev = head.seq, head.head_hash
            new_cases, new_parties, new_events = [], [], []
            for i in range(start, min(n, start + BATCH)):
                year = YEARS[i % len(YEARS)]
                case_id = first_id + i
                dnr = f"{year}/{i // len(YEARS) + 100:05d}"
                state = "inkommen" if i % 5 == 0 else STATES[i % len(STATES)]
                at = datetime(year, 1, 1, 8, tzinfo=UTC) + timedelta(minutes=i // len(YEARS))
                new_cases.append(
                    {
                        **case,
                        "id": case_id,
                        "number": first_number + i,
                        "dnr": dnr,
                        "title": f"Insats {i} {('Arbete', 'Hälsa', 'Unga', 'Stöd')[i % 4]}",
                        "inriktning": "individ" if i % 3 else "struktur",
                        "start_date": date(year, 1, 1),
                        "end_date": date(year, 12, 31),
                        "budget_requested": {str(year): 100 + i % 500},
                        "state": state,
                        "created_at": at,
                        "updated_at": at,
                    }
                )
                new_parties.extend({**p, "insats_id": case_id} for p in parties)
                for event in events:
                    seq += 1
                    row = {
                        **{k: v for k, v in event.items() if k != "id"},
                        "seq": seq,
                        "subject_id": case_id,
                        "subject_ref": dnr,
                        "at": at,
                        "prev_hash": prev,
                    }
                    if row["to_state"] == "inkommen" and state != "inkommen":
                        row["to_state"] = state  # one event says where the copy stands
                    row["hash"] = audit._digest(row)
                    prev = row["hash"]
                    new_events.append(row)
            connection.execute(insert(_INSATS), new_cases)
            connection.execute(insert(_PARTY), new_parties)
            # In seq order: the database's trigger moves the chain head with each row.
            connection.execute(insert(_EVENT), new_events)
            connection.execute(
                update(_CHAIN)
                .where(_CHAIN.c.forbund_id == forbund_id)
                .values(seq=seq, head_hash=prev)
            )
            head.seq, head.head_hash = seq, prev
    if app.db.engine.dialect.name == "postgresql":
        with app.db.transaction() as session:
            session.connection().execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('insats', 'id'), (SELECT max(id) FROM insats))"
                )
            )


# -- serving -------------------------------------------------------------------------------


def bare_routes(web: FastAPI, app: App) -> None:
    """The baseline: the same service queries as the pages, their rows as JSON, no page."""

    def rows(page: Any) -> list[dict[str, Any]]:
        return [{"id": c.id, "dnr": c.dnr, "title": c.title, "state": c.state} for c in page.items]

    @web.get("/_bench/start")
    def bare_start(user: CurrentUser) -> JSONResponse:
        return JSONResponse({"person": user.email, "roles": sorted(user.roles)})

    @web.get("/_bench/list")
    def bare_list(
        user: CurrentUser,
        after: str | None = None,
        state: str | None = None,
        inriktning: str | None = None,
        year: int | None = None,
        party: str | None = None,
        text: str | None = None,
    ) -> JSONResponse:
        filters = CaseFilter(
            state=state,
            inriktning=inriktning,
            year=year,
            party=party,
            text=text,
            viewer_email=user.email,
        )
        page = list_cases(app, forbund=user.forbund_slug, filters=filters, after=after)
        return JSONResponse({"items": rows(page), "next_after": page.next_after})

    @web.get("/_bench/case/{ref:path}")
    def bare_case(user: CurrentUser, ref: str) -> JSONResponse:
        view = get_case(app, ref=ref, forbund=user.forbund_slug, viewer_email=user.email)
        return JSONResponse({"ref": view.ref, "state": view.state, "history": len(view.history)})

    @web.post("/_bench/step/{ref:path}")
    async def bare_step(request: Request, user: CurrentUser, ref: str) -> JSONResponse:
        version = int(request.headers["If-Match"].strip('"'))
        done = cases.fire(
            app, ref=ref, trigger=STEP, actor_email=user.email, forbund=user.forbund_slug,
            expected_version=version,
        )  # fmt: skip
        return JSONResponse({"ref": done.ref, "state": done.state})


def bench_web_app(url: str) -> FastAPI:
    """The product's web application on `url`, with the bench's bare routes beside it."""
    settings = load_settings(
        database_url=url, sqlite_synchronous="NORMAL", web={"secure_cookies": False}
    )
    app = replace(App.create(settings), clock=fixed_clock(NOW))
    web = create_web_app(app)
    bare_routes(web, app)
    return web


def serve(url: str, fd: int) -> None:
    """The child process: uvicorn on the socket the parent bound (no race for the port)."""
    listening = socket.socket(fileno=fd)
    config = uvicorn.Config(
        bench_web_app(url), log_level="warning", lifespan="off", access_log=False
    )
    uvicorn.Server(config).run(sockets=[listening])


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def log_in(client: httpx.Client) -> None:
    page = client.get("/logga-in")
    token = _CSRF.search(page.text)
    assert token, page.text
    answer = client.post(
        "/logga-in",
        data={"email": _email(WHO), "password": PASSWORD, "csrf_token": token.group(1)},
    )
    assert answer.status_code == 303, answer.text


# -- measuring -----------------------------------------------------------------------------


@dataclass
class Figure:
    name: str
    page: list[float] | None
    bare: list[float]
    note: str = ""


def timed(call: Callable[[int], httpx.Response], count: int) -> list[float]:
    for i in range(min(5, count)):  # warm-up: caches, prepared statements, the first page
        call(-1 - i)
    seconds = []
    for i in range(count):
        started = time.perf_counter()
        answer = call(i)
        seconds.append(time.perf_counter() - started)
        if answer.status_code >= 400:
            raise RuntimeError(f"{answer.request.url}: {answer.status_code} {answer.text[:300]}")
    return seconds


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def present(client: httpx.Client, path: str) -> bool:
    """Whether this branch has the page: it answers 200 (probed once, logged in)."""
    return client.get(path).status_code == 200


def api_paths(client: httpx.Client) -> set[str]:
    answer = client.get("/api/v1/openapi.json")
    return set(answer.json().get("paths", {})) if answer.status_code == 200 else set()


def measure(app: App, url: str, count: int, filter_query: str = FILTER) -> list[Figure]:
    deep = _deep_cursor(app)
    step_refs = _step_refs(app, count)
    case_ref = step_refs["page"][0]
    figures: list[Figure] = []
    with Server(__file__, url) as server, httpx.Client(base_url=server.url, timeout=60) as client:
        log_in(client)

        def both(
            name: str, path: str | None, bare: str, params: dict[str, str] | None = None
        ) -> None:
            page = timed(lambda _i: client.get(path, params=params), count) if path else None
            figures.append(
                Figure(
                    name,
                    page,
                    timed(lambda _i: client.get(bare, params=params), count),
                    "" if path else "sidan finns inte på denna gren",
                )
            )

        both("startsida", "/", "/_bench/start")
        listing = "/arenden" if present(client, "/arenden") else None
        both("ärendelista, första sidan", listing, "/_bench/list")
        both("ärendelista, djup sida (after)", listing, "/_bench/list", {"after": deep})
        both("filtrerad lista", listing, "/_bench/list", dict(parse_qsl(filter_query)))
        case_page = f"/arenden/{case_ref}" if present(client, f"/arenden/{case_ref}") else None
        both("ärendesida", case_page, f"/_bench/case/{case_ref}")
        figures.append(_steps(app, client, case_page is not None, step_refs, count))
    return figures


def _steps(
    app: App,
    client: httpx.Client,
    has_case_page: bool,
    refs: dict[str, list[str]],
    count: int,
) -> Figure:
    version = {"version": 0}
    with app.db.reading() as session:
        version["version"] = int(
            session.connection()
            .execute(select(_INSATS.c.version).where(_INSATS.c.dnr == refs["bare"][0]))
            .scalar_one()
        )
    v = str(version["version"])

    def bare(i: int) -> httpx.Response:
        return client.post(f"/_bench/step/{refs['bare'][i]}", headers={"If-Match": f'"{v}"'})

    bare_seconds = timed(bare, count)
    api = "/api/v1/cases/{ref}/steps/{trigger}" in api_paths(client)
    form = has_case_page and "/steg" in client.get(f"/arenden/{refs['page'][0]}").text
    if api:
        secret = _api_token(app)

        def call(i: int) -> httpx.Response:
            return client.post(
                f"/api/v1/cases/{refs['page'][i]}/steps/{STEP}",
                json={},
                headers={"If-Match": f'"{v}"', "Authorization": f"Bearer {secret}"},
            )

        return Figure("steg via API", timed(call, count), bare_seconds)
    if form:
        token = _CSRF.search(client.get(f"/arenden/{refs['page'][0]}").text)
        assert token, "ärendesidan saknar csrf_token"

        def post(i: int) -> httpx.Response:
            return client.post(
                f"/arenden/{refs['page'][i]}/steg",
                data={"trigger": STEP, "version": v, "csrf_token": token.group(1)},
            )

        return Figure("steg via sidans formulär (API saknas)", timed(post, count), bare_seconds)
    return Figure("steg", None, bare_seconds, "varken API eller ärendesida på denna gren")


def _api_token(app: App) -> str:
    from workflow.services.access import tokens  # type: ignore[attr-defined]

    created = tokens.create_token(app, email=_email(WHO), forbund=SLUG, name="bänk")
    return str(getattr(created, "secret", created[0] if isinstance(created, tuple) else created))


def _deep_cursor(app: App) -> str:
    """The cursor after the case in the middle of the list, as the list's `next_after` is."""
    with app.db.reading() as session:
        total = session.connection().execute(select(func.count()).select_from(_INSATS)).scalar_one()
        row = (
            session.connection()
            .execute(
                select(_INSATS.c.dnr, _INSATS.c.id)
                .where(_INSATS.c.dnr.is_not(None))
                .order_by(_INSATS.c.dnr, _INSATS.c.id)
                .offset(total // 2)
                .limit(1)
            )
            .one()
        )
    return encode_cursor("cases", (0, row.dnr, row.id))


def _step_refs(app: App, count: int) -> dict[str, list[str]]:
    """Distinct inkommen cases for each step (warm-up ones included): the page's and the bare's."""
    need = count + 10
    with app.db.reading() as session:
        dnrs = list(
            session.connection()
            .execute(
                select(_INSATS.c.dnr)
                .where(_INSATS.c.state == "inkommen", _INSATS.c.dnr.is_not(None))
                .order_by(_INSATS.c.id.desc())
                .limit(2 * need)
            )
            .scalars()
        )
    if len(dnrs) < 2 * need:
        raise SystemExit(f"för få ärenden ({len(dnrs)} inkomna) för {count} steg; öka --cases")
    # Index -1 .. -5 are the warm-up's (Python's negative indexing reaches the list's end).
    return {"page": dnrs[:need], "bare": dnrs[need:]}


# -- report --------------------------------------------------------------------------------


def report(
    kind: str, n: int, build_seconds: float, figures: list[Figure], count: int, filter_query: str
) -> None:
    print(
        f"\n{kind}: {n} ärenden, byggda på {build_seconds:.1f} s; {count} anrop per mätning; "
        f"filtrerad lista: {filter_query}"
    )
    print(
        f"  {'':36} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}   {'bar p50':>8} {'bar p95':>8} {'bar p99':>8}  ratio p95"
    )
    for figure in figures:
        bare = [percentile(figure.bare, p) * 1000 for p in (50, 95, 99)]
        if figure.page is None:
            page_text = f"{'–':>8} {'–':>8} {'–':>8}"
            ratio = f"– ({figure.note})"
        else:
            page = [percentile(figure.page, p) * 1000 for p in (50, 95, 99)]
            page_text = " ".join(f"{v:8.2f}" for v in page)
            ratio = f"{page[1] / bare[1]:.2f}"
        bare_text = " ".join(f"{v:8.2f}" for v in bare)
        print(f"  {figure.name:36} {page_text}   {bare_text}  {ratio}")


def settle(app: App) -> None:
    """Fresh statistics on both databases, and on PostgreSQL the visibility map that lets a
    list page read its cases' ids from an index alone: what autovacuum does after a bulk
    load on a server that runs it (the test server here does not). Only this schema's
    tables: a bare VACUUM or ANALYZE would go through every schema of the database."""
    if app.db.engine.dialect.name == "postgresql":
        with app.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            tables = c.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            ).scalars()
            names = ", ".join(f'"{table}"' for table in tables)
            c.execute(text(f"VACUUM ANALYZE {names}"))
        return
    with app.db.transaction() as session:
        session.connection().execute(text("ANALYZE"))


def run(kind: str, n: int, count: int, filter_query: str = FILTER) -> None:
    with tempfile.TemporaryDirectory() as folder, database(kind, Path(folder)) as url:
        # Plain http on loopback: httpx (unlike a browser) sends no Secure cookie to http://.
        settings = load_settings(
            database_url=url, sqlite_synchronous="NORMAL", web={"secure_cookies": False}
        )
        app = replace(App.create(settings), clock=fixed_clock(NOW))
        app.db.migrate()
        started = time.perf_counter()
        template = build_base(app)
        grow(app, template, n - 1)
        build_seconds = time.perf_counter() - started
        settle(app)
        figures = measure(app, url, count, filter_query)
        report(kind, n, build_seconds, figures, count, filter_query)
        app.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument(
        "--filter",
        default=FILTER,
        metavar="QUERY",
        help=f"the filtered list's parameters, as in its URL (default {FILTER}; also "
        "inriktning, party, text)",
    )
    parser.add_argument("--serve", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    parser.add_argument("--fd", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.fd)
        return
    if args.cases < 10 * (args.requests + 10):
        raise SystemExit(
            f"--cases {args.cases} ger för få inkomna ärenden för {args.requests} steg; "
            f"ange minst {10 * (args.requests + 10)} ärenden eller färre --requests"
        )
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    for kind in kinds:
        run(kind, args.cases, args.requests, args.filter)


if __name__ == "__main__":
    main()
