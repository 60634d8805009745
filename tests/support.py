"""Shared test helpers: a small förbund with one person per role, a clock that travels."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

import pytest
from sqlalchemy import event

from workflow.app import App
from workflow.cli.main import run
from workflow.clock import STOCKHOLM
from workflow.services import cases
from workflow.services.organisation.forbund import create_forbund
from workflow.services.organisation.parties import add_party
from workflow.services.organisation.people import add_person
from workflow.vocabulary import Role


class TravelClock:
    """The injected clock of a test: it stands still until the test moves it."""

    def __init__(self, start: datetime) -> None:
        self.now = start.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def set(self, when: datetime | date) -> None:
        if not isinstance(when, datetime):
            when = datetime(when.year, when.month, when.day, 10, 0, tzinfo=STOCKHOLM)
        self.now = when.astimezone(UTC)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def email(role: Role | str, forbund: str = "test") -> str:
    return f"{Role(role).value}@{forbund}.example"


@dataclass
class World:
    """One förbund with FK, AF, a region, two kommuner and one person per role."""

    app: App
    clock: TravelClock
    slug: str = "test"
    parties: dict[str, str] = field(default_factory=dict)

    def idea(self, **values: Any) -> str:
        fields = {**complete_application(self.clock.now.year + 1, self.slug), **values}
        view = cases.submit_idea(
            self.app,
            actor_email=email(Role.HANDLAGGARE, self.slug),
            values=fields,
            forbund=self.slug,
        )
        return view.ref

    def fire(self, ref: str, trigger: str, role: Role | str, **kwargs: Any) -> cases.CaseView:
        return cases.fire(
            self.app,
            ref=ref,
            trigger=trigger,
            actor_email=email(role, self.slug),
            forbund=self.slug,
            **kwargs,
        )

    def show(self, ref: str) -> cases.CaseView:
        return cases.get_case(self.app, ref=ref, forbund=self.slug)


def complete_application(year: int, forbund: str = "test") -> dict[str, Any]:
    return {
        "title": "Gemensamt stöd för unga vuxna",
        "inriktning": "individ",
        "malgrupp": "Unga vuxna 18–29 år",
        "syfte": "Samordnad rehabilitering mot arbete eller studier",
        "mal": "40 % i arbete eller studier efter insatsen",
        "start": f"{year}-01-01",
        "end": f"{year + 1}-12-31",
        "owner_party": "Kungälvs kommun",
        "parties": ["Kungälvs kommun", "Försäkringskassan"],
        "project_owner": email(Role.PROJEKTAGARE, forbund),
        "budget": {str(year): 500, str(year + 1): 400},
        "followup_plan": "Delårsrapport 30 juni, helårsrapport 31 december",
    }


def build_world(app: App, clock: TravelClock, slug: str = "test") -> World:
    with app.db.transaction() as session:
        forbund = create_forbund(
            session,
            slug=slug,
            name=f"Samordningsförbundet {slug}",
            dnr_pattern="{year}/{seq:03d}",
            now=clock(),
        )
        parties = {
            name: add_party(session, forbund, kind=kind, name=name)
            for kind, name in [
                ("forsakringskassan", "Försäkringskassan"),
                ("arbetsformedlingen", "Arbetsförmedlingen"),
                ("region", "Region Test"),
                ("kommun", "Kungälvs kommun"),
                ("kommun", "Ale kommun"),
            ]
        }
        for role in Role:
            add_person(
                session,
                forbund,
                name=f"Test {role.value}",
                email=email(role, slug),
                roles=[role.value],
            )
    return World(app, clock, slug, {name: party.name for name, party in parties.items()})


class Step(NamedTuple):
    """One step of the happy path: the trigger, who acts, and the service that performs it
    (as states/insats.yaml says; None: the person fires it with `cases fire`)."""

    trigger: str
    role: Role
    service: str | None


# Idea to avslutad/implementerad. The board's steps happen at a meeting held just then.
HAPPY_PATH: list[Step] = [
    Step("registrera", Role.SEKRETERARE, None),
    Step("starta_beredning", Role.FORBUNDSCHEF, None),
    Step("rekommendera", Role.FORBUNDSCHEF, "beredning"),  # meetings recommend
    Step("satt_pa_dagordning", Role.FORBUNDSCHEF, "agenda"),  # meetings agenda
    Step("bifall", Role.SEKRETERARE, "protocol"),  # meetings decide
    Step("justera", Role.STYRELSE_LEDAMOT, "protocol"),  # the justerare signs last
    Step("starta", Role.FORBUNDSCHEF, "agreements"),  # agreements sign, start-due
    Step("avsluta", Role.FORBUNDSCHEF, None),
    Step("implementera", Role.SEKRETERARE, "closure"),  # closure propose, meetings follow
]


def drive_happy_path(
    world: World, ref: str, until: str | None = None, *, over_frame: bool = False
) -> cases.CaseView:
    """Take the case along the happy path, each step the way it happens: a person's steps
    through `cases.fire`, the board's at a meeting held just now, the start through the avtal
    (the clock jumps to the start date) and the end at the end date, the slutrapport approved
    and taken note of in a § of a later meeting."""
    from tests import meeting_support as board

    view = world.show(ref)
    for step in HAPPY_PATH:
        if step.trigger == "avsluta":
            assert view.end is not None
            world.clock.set(view.end)
        if step.service is None:
            view = world.fire(view.ref, step.trigger, step.role)
        elif step.trigger == "rekommendera":
            board.recommend(world, view.ref)
        elif step.trigger == "satt_pa_dagordning":
            board.put_on_agenda(world, view.ref)
        elif step.trigger == "bifall":
            board.decide(world, view.ref, "bifall", over_frame=over_frame)
        elif step.trigger == "justera":
            board.finish_meeting(world, board.meeting_of(world, view.ref))
        elif step.trigger == "starta":
            board.sign_and_start(world, view.ref)
        elif step.trigger == "implementera":
            board.final_report_approved(world, view.ref)
            board.close_at_meeting(world, view.ref, "implementerad")
        view = world.show(view.ref)
        assert view.history[-1].trigger == step.trigger, (step, view.state)
        if step.trigger == until:
            break
    return view


# -- the command line, in process -----------------------------------------------------------


def one_line_error(err: str) -> str:
    """Errors are one line on stderr, starting 'fel: ', never a traceback."""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fel: ") and "Traceback" not in err, err
    return lines[0]


def finsam(
    capsys: pytest.CaptureFixture[str], db_url: str, *args: str, forbund: str | None = None
) -> tuple[int, str, str]:
    """Run `finsam --db URL [--forbund F] ARGS`; return (exit code, stdout, stderr)."""
    prefix = ["--db", db_url] + (["--forbund", forbund] if forbund else [])
    code = run([*prefix, *args])
    out, err = capsys.readouterr()
    return code, out, err


class Cli:
    """`finsam` against one database, asserting the exit code (and the error's form)."""

    def __init__(self, db: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.db = db
        self.capsys = capsys
        self.error = ""

    def __call__(self, *args: str, code: int = 0) -> str:
        result, out, err = finsam(self.capsys, self.db, *args)
        assert result == code, f"exit {result} != {code}\nstdout: {out}\nstderr: {err}"
        if code:
            self.error = err
            one_line_error(err)
        return out

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json"))


# -- the wall clock of a command run in process ----------------------------------------------


def freeze_wall_clock(monkeypatch: pytest.MonkeyPatch, at: datetime) -> None:
    """`finsam` run in process reads this moment as now (workflow.clock's system clock): a
    command-line test must not depend on the day or the hour it happens to run."""
    frozen = at.astimezone(UTC)

    class _Frozen(datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
            return frozen if tz is None else frozen.astimezone(tz)

    monkeypatch.setattr("workflow.clock.datetime", _Frozen)


# For tests whose subject does not depend on the database (routing, rights, headers) and that
# are long: SQLite by default, PostgreSQL as well with `pytest -m full`. What depends on the
# database (locks, concurrency, SQL of the reads) keeps running on both.
sqlite_by_default = pytest.mark.parametrize(
    "db_url",
    ["sqlite", pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.full])],
    indirect=True,
)


# -- what the database is asked, and how it reads it ------------------------------------------


@contextmanager
def sent_statements(app: App, starts: str = "") -> Iterator[list[tuple[str, Any]]]:
    """The statements (with their parameters) starting with `starts` that the app sends while
    inside."""
    seen: list[tuple[str, Any]] = []

    def note(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if statement.lstrip().startswith(starts):
            seen.append((statement, parameters))

    event.listen(app.db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(app.db.engine, "before_cursor_execute", note)


def query_plan(
    app: App,
    statement: str,
    parameters: Any,
    avoid: tuple[str, ...] = ("enable_seqscan", "enable_bitmapscan", "enable_sort"),
    analyze: tuple[str, ...] = (),
) -> str:
    """How the database reads the statement. PostgreSQL is told to avoid what `avoid` names
    (table scans, sorts) wherever it can: on a few rows it would rightly prefer them, and the
    question is which index serves a list, not what is cheapest for a small table; `analyze`:
    tables whose statistics it plans with (as autovacuum would keep them)."""
    with app.db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            return "\n".join(str(row[3]) for row in rows)
        if analyze:
            connection.exec_driver_sql(f"ANALYZE {', '.join(analyze)}")
        for setting in avoid:
            connection.exec_driver_sql(f"SET LOCAL {setting} = off")
        rows = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
        plan = "\n".join(str(row[0]) for row in rows)
        connection.rollback()
        return plan
