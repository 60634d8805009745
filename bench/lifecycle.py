"""Durable transitions per second: the engine against plain sqlite3 doing the same writes.

    python bench/lifecycle.py --n 10000

Drives N cases from idea to avslutad/implementerad through the service layer on a SQLite
file and performs the same number of steps with plain sqlite3 (one transaction per step:
update the case row with a version check, insert one audit row) on a file with the same
pragmas, the two taking turns in blocks of cases, and prints both rates and their ratio.
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
from datetime import UTC, datetime
from pathlib import Path

from workflow.app import App
from workflow.clock import fixed_clock
from workflow.services import cases
from workflow.services.organisation.forbund import create_forbund
from workflow.services.organisation.parties import add_party
from workflow.services.organisation.people import add_person
from workflow.settings import load_settings

# Idea -> avslutad/implementerad, the steps a real case takes.
STEPS: list[tuple[str, str, dict[str, str], str | None]] = [
    ("registrera", "sekreterare", {}, None),
    ("starta_beredning", "forbundschef", {}, None),
    (
        "rekommendera",
        "forbundschef",
        {"recommendation": "bevilja", "recommendation_motivation": "Bra"},
        None,
    ),
    ("satt_pa_dagordning", "sekreterare", {}, None),
    ("bifall", "sekreterare", {"decision_paragraph": "§ 1"}, None),
    ("justera", "styrelse_ordforande", {}, None),
    ("starta", "forbundschef", {"agreement_signed_on": "2027-01-01"}, None),
    ("avsluta", "forbundschef", {}, None),
    (
        "implementera",
        "sekreterare",
        {"final_report_on": "2029-01-15", "decision_paragraph": "§ 2"},
        None,
    ),
]
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


class EngineRun:
    """The engine on its own SQLite file: N ideas submitted, then driven case by case."""

    def __init__(self, folder: Path, n: int, synchronous: str) -> None:
        app = App.create(
            load_settings(
                database_url=f"sqlite:///{folder / 'engine.db'}", sqlite_synchronous=synchronous
            )
        )
        app.db.migrate()
        now = datetime(2029, 2, 1, 9, 0, tzinfo=UTC)
        self.app = dataclasses.replace(app, clock=fixed_clock(now))
        with self.app.db.transaction() as session:
            forbund = create_forbund(
                session,
                slug="bench",
                name="Bänkförbundet",
                dnr_pattern="{year}/{seq:05d}",
                now=now,
            )
            add_party(session, forbund, kind="kommun", name="Kommunen")
            add_party(session, forbund, kind="forsakringskassan", name="Försäkringskassan")
            for role in {role for _, role, _, _ in STEPS} | {"handlaggare"}:
                add_person(session, forbund, name=role, email=f"{role}@bench.example", roles=[role])
        self.refs = [
            cases.submit_idea(
                self.app, actor_email="handlaggare@bench.example", values=IDEA, forbund="bench"
            ).ref
            for _ in range(n)
        ]

    def drive(self, chosen: range) -> int:
        fired = 0
        for case in chosen:
            ref = self.refs[case]
            for trigger, role, values, comment in STEPS:
                ref = cases.fire(
                    self.app,
                    ref=ref,
                    trigger=trigger,
                    actor_email=f"{role}@bench.example",
                    forbund="bench",
                    values=values,
                    comment=comment,
                ).ref
                fired += 1
        return fired

    def close(self) -> None:
        self.app.close()


STATES = [
    "ide",
    "inkommen",
    "under_beredning",
    "rekommenderad",
    "pa_dagordning",
    "vantar_justering",
    "avtal",
    "pagaende",
    "avslutas",
    "avslutad_implementerad",
]


class PlainRun:
    """The same steps with plain sqlite3: per step one transaction that updates the case row
    with a version check and inserts one hash-chained audit row."""

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
            for step, (trigger, _, _, _) in enumerate(STEPS):
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
        "--block", type=int, default=100, help="cases per turn before the other side runs"
    )
    args = parser.parse_args()
    totals = {"engine": [0, 0.0], "plain": [0, 0.0]}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        engine = EngineRun(folder, args.n, args.synchronous)
        plain = PlainRun(folder, args.n, args.synchronous)
        # Taking turns in blocks, so that whatever else the machine does meanwhile weighs on
        # both sides alike.
        for first in range(0, args.n, args.block):
            chosen = range(first, min(first + args.block, args.n))
            for name, side in (("engine", engine), ("plain", plain)):
                steps, seconds = timed(side.drive, chosen)
                totals[name][0] += int(steps)
                totals[name][1] += seconds
        engine.close()
        plain.close()
    # Peak resident memory of the whole process: both sides, the engine's being the larger.
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    (fired, engine_s), (done, plain_s) = totals["engine"], totals["plain"]
    engine_rate, plain_rate = fired / engine_s, done / plain_s
    print(f"cases: {args.n}, steps per case: {len(STEPS)}, SQLite synchronous={args.synchronous}")
    print(
        f"engine:        {fired} transitions in {engine_s:.1f} s"
        f" = {engine_rate:,.0f} durable transitions/s"
    )
    print(f"plain sqlite3: {done} steps in {plain_s:.1f} s = {plain_rate:,.0f} steps/s")
    print(f"ratio engine/plain: {engine_rate / plain_rate:.2f} (aim: at least 0.20)")
    print(f"peak memory (max RSS): {peak_mb:.0f} MiB")


if __name__ == "__main__":
    main()
