"""Durable transitions per second: the engine against plain sqlite3 doing the same writes.

    python bench/lifecycle.py --n 10000

Drives N cases from idea to avslutad/implementerad through the service layer on a SQLite
file, the way they go in use: the steps a person fires (registrera, starta_beredning,
avsluta) through `cases.fire`, and the board's steps through its records, in blocks of cases
(the beredning's recommendation per case; one board meeting per block that puts the block on
its agenda, decides and justerar it; the avtal signed per case; the slutrapport approved per
case and taken note of at a second meeting per block). The person-fired steps are compared
with the same number of steps done with plain sqlite3 (one transaction per step: update the
case row with a version check, insert one hash-chained audit row) on a file with the same
pragmas, the two taking turns in blocks; the whole path is reported beside it.
Figures, not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import resource
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlmodel import func, select

from workflow.app import App
from workflow.clock import fixed_clock
from workflow.models import AuditEvent
from workflow.services import cases
from workflow.services.board import agenda, beredning, closing, decisions, justering, meetings
from workflow.services.board import protocol as protocols
from workflow.services.funding import agreements, reports
from workflow.services.organisation.forbund import create_forbund
from workflow.services.organisation.parties import add_party
from workflow.services.organisation.people import add_person
from workflow.settings import load_settings

# The steps of the happy path a person fires: (trigger, role).
PERSON_STEPS = [
    ("registrera", "sekreterare"),
    ("starta_beredning", "forbundschef"),
    ("avsluta", "forbundschef"),
]
# The case's steps its services perform, per case: rekommendera, satt_pa_dagordning, bifall,
# justera, starta, implementera.
SERVICE_STEPS = 6
IDEA = {
    "title": "Benchmarkinsats",
    "malgrupp": "Unga vuxna",
    "mal": "Arbete",
    "syfte": "Samordning",
    "start": "2027-01-01",
    "end": "2028-12-31",
    "owner_party": "Kommunen",
    "parties": ["Kommunen", "Försäkringskassan"],
    "budget": {"2027": 100, "2028": 100},
    "followup_plan": "Halvår",
}
ROLES = [
    "handlaggare",
    "sekreterare",
    "forbundschef",
    "styrelse_ordforande",
    "styrelse_ledamot",
]
NOW = datetime(2029, 6, 1, 9, 0, tzinfo=UTC)


def _who(role: str) -> str:
    return f"{role}@bench.example"


class EngineRun:
    """The engine on its own SQLite file: N ideas submitted, then driven block by block."""

    def __init__(self, folder: Path, n: int, synchronous: str) -> None:
        app = App.create(
            load_settings(
                database_url=f"sqlite:///{folder / 'engine.db'}", sqlite_synchronous=synchronous
            )
        )
        app.db.migrate()
        self.app = dataclasses.replace(app, clock=fixed_clock(NOW))
        with self.app.db.transaction() as session:
            forbund = create_forbund(
                session, slug="bench", name="Bänkförbundet", dnr_pattern="{year}/{seq:05d}", now=NOW
            )
            add_party(session, forbund, kind="kommun", name="Kommunen")
            add_party(session, forbund, kind="forsakringskassan", name="Försäkringskassan")
            for role in ROLES:
                add_person(session, forbund, name=role, email=_who(role), roles=[role])
        self.refs = [
            cases.submit_idea(self.app, actor_email=_who("handlaggare"), values=IDEA, forbund="bench").ref
            for _ in range(n)
        ]  # fmt: skip
        self.meetings = 0
        self.person_seconds = 0.0
        self.person_steps = 0

    def _fire(self, index: int, trigger: str, role: str) -> None:
        started = time.perf_counter()
        self.refs[index] = cases.fire(
            self.app, ref=self.refs[index], trigger=trigger, actor_email=_who(role),
            forbund="bench",
        ).ref  # fmt: skip
        self.person_seconds += time.perf_counter() - started
        self.person_steps += 1

    def _meeting(self) -> int:
        """A board meeting held before the clock's now, after every earlier one."""
        self.meetings += 1
        starts = datetime(2029, 1, 1, tzinfo=UTC) + timedelta(minutes=self.meetings)
        return meetings.create_meeting(
            self.app, actor_email=_who("sekreterare"), starts=starts, place="Bänken",
            forbund="bench",
        ).id  # fmt: skip

    def _finish(self, meeting: int) -> None:
        protocols.open_protocol(
            self.app, ref=meeting, actor_email=_who("sekreterare"),
            justerare=[_who("styrelse_ledamot")], forbund="bench",
        )  # fmt: skip
        decisions.follow_recommendations(
            self.app, ref=meeting, actor_email=_who("sekreterare"), forbund="bench"
        )
        justering.send_for_justering(
            self.app, ref=meeting, actor_email=_who("sekreterare"), forbund="bench"
        )
        for signer in ("styrelse_ordforande", "styrelse_ledamot"):
            justering.approve(self.app, ref=meeting, actor_email=_who(signer), forbund="bench")

    def drive(self, chosen: range) -> int:
        """Idea to avslutad/implementerad for a block; returns the person-fired steps."""
        before = self.person_steps
        chef = _who("forbundschef")
        for index in chosen:
            self._fire(index, "registrera", "sekreterare")
            self._fire(index, "starta_beredning", "forbundschef")
            beredning.record_recommendation(
                self.app, ref=self.refs[index], actor_email=chef, outcome="bevilja",
                motivation="Bra", forbund="bench",
            )  # fmt: skip
        decided = self._meeting()
        agenda.build_agenda(
            self.app, ref=decided, actor_email=chef, add=[self.refs[i] for i in chosen],
            forbund="bench",
        )  # fmt: skip
        self._finish(decided)
        for index in chosen:
            ref = self.refs[index]
            agreements.create(self.app, ref=ref, actor_email=chef, forbund="bench")
            agreements.sign(
                self.app, ref=ref, actor_email=chef, forbund="bench",
                forbund_signed_on=date(2026, 12, 1), owner_signed_on=date(2026, 12, 1),
            )  # fmt: skip
            self._fire(index, "avsluta", "forbundschef")
            final = next(
                r.id for r in reports.list_reports(self.app, ref=ref, forbund="bench")
                if r.kind == "slut"
            )  # fmt: skip
            reports.submit(
                self.app, ref=ref, report_id=final, actor_email=chef, progress="Klart",
                forbund="bench",
            )  # fmt: skip
            reports.approve(self.app, ref=ref, report_id=final, actor_email=chef, forbund="bench")
        closed = self._meeting()
        for index in chosen:
            closing.propose(
                self.app, ref=self.refs[index], meeting=closed, outcome="implementerad",
                actor_email=chef, forbund="bench",
            )  # fmt: skip
        agenda.build_agenda(
            self.app, ref=closed, actor_email=chef, include_ready=False, forbund="bench"
        )
        self._finish(closed)
        return self.person_steps - before

    def events(self) -> int:
        with self.app.db.reading() as session:
            return session.exec(select(func.count()).select_from(AuditEvent)).one()

    def ended(self) -> int:
        return cases.count_cases(
            self.app,
            forbund="bench",
            filters=cases.CaseFilter(state="avslutad_implementerad"),
        )

    def close(self) -> None:
        self.app.close()


STATES = ["ide", "inkommen", "under_beredning", "avslutas"]


class PlainRun:
    """The person-fired steps with plain sqlite3: per step one transaction that updates the
    case row with a version check and inserts one hash-chained audit row."""

    def __init__(self, folder: Path, n: int, synchronous: str) -> None:
        self.db = sqlite3.connect(folder / "plain.db", isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(f"PRAGMA synchronous={synchronous}")
        self.db.execute(
            "CREATE TABLE insats (id INTEGER PRIMARY KEY, state TEXT NOT NULL,"
            " version INTEGER NOT NULL)"
        )
        self.db.execute(
            "CREATE TABLE audit (id INTEGER PRIMARY KEY, insats_id INTEGER, from_state TEXT,"
            " to_state TEXT, trigger TEXT, at TEXT, prev_hash TEXT, hash TEXT)"
        )
        self.db.executemany(
            "INSERT INTO insats (id, state, version) VALUES (?, 'ide', 1)",
            [(i,) for i in range(n)],
        )
        self.previous = "0" * 64

    def drive(self, chosen: range) -> int:
        done = 0
        for case in chosen:
            for step, (trigger, _) in enumerate(PERSON_STEPS):
                self.db.execute("BEGIN IMMEDIATE")
                changed = self.db.execute(
                    "UPDATE insats SET state = ?, version = version + 1"
                    " WHERE id = ? AND version = ?",
                    (STATES[step + 1], case, step + 1),
                ).rowcount
                assert changed == 1
                digest = hashlib.sha256(f"{self.previous}{case}{trigger}".encode()).hexdigest()
                self.db.execute(
                    "INSERT INTO audit (insats_id, from_state, to_state, trigger, at,"
                    " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        case,
                        STATES[step],
                        STATES[step + 1],
                        trigger,
                        datetime.now(UTC).isoformat(),
                        self.previous,
                        digest,
                    ),
                )
                self.db.execute("COMMIT")
                self.previous = digest
                done += 1
        return done

    def close(self) -> None:
        self.db.close()


def timed(drive: Callable[[range], int], chosen: range) -> tuple[int, float]:
    started = time.perf_counter()
    steps = drive(chosen)
    return steps, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--n", type=int, default=10000, help="cases to drive through the happy path"
    )
    parser.add_argument("--synchronous", choices=["FULL", "NORMAL"], default="FULL")
    parser.add_argument(
        "--block", type=int, default=100, help="cases per turn (and per board meeting)"
    )
    args = parser.parse_args()
    whole = 0.0
    plain_steps, plain_seconds = 0, 0.0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        engine = EngineRun(folder, args.n, args.synchronous)
        plain = PlainRun(folder, args.n, args.synchronous)
        # Taking turns in blocks, so that whatever else the machine does meanwhile weighs on
        # both sides alike.
        for first in range(0, args.n, args.block):
            chosen = range(first, min(first + args.block, args.n))
            _, seconds = timed(engine.drive, chosen)
            whole += seconds
            steps, seconds = timed(plain.drive, chosen)
            plain_steps += steps
            plain_seconds += seconds
        events, ended = engine.events(), engine.ended()
        engine.close()
        plain.close()
    # Peak resident memory of the whole process: both sides, the engine's being the larger.
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    fired, engine_s = engine.person_steps, engine.person_seconds
    engine_rate, plain_rate = fired / engine_s, plain_steps / plain_seconds
    transitions = args.n * (len(PERSON_STEPS) + SERVICE_STEPS)
    print(
        f"cases: {args.n}, person-fired steps per case: {len(PERSON_STEPS)}, board and avtal "
        f"steps per case: {SERVICE_STEPS} (2 meetings per block of {args.block}), "
        f"SQLite synchronous={args.synchronous}"
    )
    print(
        f"engine:        {fired} transitions in {engine_s:.1f} s"
        f" = {engine_rate:,.0f} durable transitions/s"
    )
    print(
        f"plain sqlite3: {plain_steps} steps in {plain_seconds:.1f} s = {plain_rate:,.0f} steps/s"
    )
    print(f"ratio engine/plain: {engine_rate / plain_rate:.2f} (aim: at least 0.20)")
    print(
        f"whole path:    {ended} of {args.n} cases idea -> avslutad in {whole:.1f} s"
        f" = {args.n / whole:,.1f} cases/s ({transitions / whole:,.0f} case transitions/s,"
        f" {events} audit events)"
    )
    print(f"peak memory (max RSS): {peak_mb:.0f} MiB")


if __name__ == "__main__":
    main()
