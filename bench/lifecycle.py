"""Durable transitions per second: the engine against plain sqlite3 doing the same writes.

    python bench/lifecycle.py --n 10000

Drives N cases from idea to avslutad/implementerad through the service layer on a SQLite
file, then performs the same number of steps with plain sqlite3 (one transaction per step:
update the case row with a version check, insert one audit row) on a file with the same
pragmas, and prints both rates and their ratio. Figures, not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import resource
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from workflow.app import App
from workflow.clock import fixed_clock
from workflow.services import cases
from workflow.services.organisation import add_party, add_person, create_forbund
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


def run_engine(folder: Path, n: int, synchronous: str) -> tuple[int, float, float]:
    app = App.create(
        load_settings(
            database_url=f"sqlite:///{folder / 'engine.db'}", sqlite_synchronous=synchronous
        )
    )
    app.db.migrate()
    now = datetime(2029, 2, 1, 9, 0, tzinfo=UTC)
    app = dataclasses.replace(app, clock=fixed_clock(now))
    with app.db.transaction() as session:
        forbund = create_forbund(
            session, slug="bench", name="Bänkförbundet", dnr_pattern="{year}/{seq:05d}", now=now
        )
        add_party(session, forbund, kind="kommun", name="Kommunen")
        add_party(session, forbund, kind="forsakringskassan", name="Försäkringskassan")
        for role in {role for _, role, _, _ in STEPS} | {"handlaggare"}:
            add_person(session, forbund, name=role, email=f"{role}@bench.example", roles=[role])
    refs = [
        cases.submit_idea(
            app, actor_email="handlaggare@bench.example", values=IDEA, forbund="bench"
        ).ref
        for _ in range(n)
    ]
    started = time.perf_counter()
    fired = 0
    for ref in refs:
        for trigger, role, values, comment in STEPS:
            ref = cases.fire(
                app,
                ref=ref,
                trigger=trigger,
                actor_email=f"{role}@bench.example",
                forbund="bench",
                values=values,
                comment=comment,
            ).ref
            fired += 1
    elapsed = time.perf_counter() - started
    app.close()
    # Peak resident memory of the process so far: the engine run is the larger part.
    return fired, elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_plain(folder: Path, n: int, synchronous: str) -> tuple[int, float]:
    db = sqlite3.connect(folder / "plain.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={synchronous}")
    db.execute(
        "CREATE TABLE insats (id INTEGER PRIMARY KEY, state TEXT NOT NULL, version INTEGER NOT NULL)"
    )
    db.execute(
        "CREATE TABLE audit (id INTEGER PRIMARY KEY, insats_id INTEGER, from_state TEXT, to_state TEXT,"
        " trigger TEXT, at TEXT, prev_hash TEXT, hash TEXT)"
    )
    db.executemany(
        "INSERT INTO insats (id, state, version) VALUES (?, 'ide', 1)", [(i,) for i in range(n)]
    )
    states = [
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
    previous = "0" * 64
    started = time.perf_counter()
    done = 0
    for case in range(n):
        for step, (trigger, _, _, _) in enumerate(STEPS):
            db.execute("BEGIN IMMEDIATE")
            changed = db.execute(
                "UPDATE insats SET state = ?, version = version + 1 WHERE id = ? AND version = ?",
                (states[step + 1], case, step + 1),
            ).rowcount
            assert changed == 1
            digest = hashlib.sha256(f"{previous}{case}{trigger}".encode()).hexdigest()
            db.execute(
                "INSERT INTO audit (insats_id, from_state, to_state, trigger, at, prev_hash, hash)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    case,
                    states[step],
                    states[step + 1],
                    trigger,
                    datetime.now(UTC).isoformat(),
                    previous,
                    digest,
                ),
            )
            db.execute("COMMIT")
            previous = digest
            done += 1
    elapsed = time.perf_counter() - started
    db.close()
    return done, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--n", type=int, default=10000, help="cases to drive through the happy path"
    )
    parser.add_argument("--synchronous", choices=["FULL", "NORMAL"], default="FULL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        fired, engine_s, peak_mb = run_engine(folder, args.n, args.synchronous)
        plain, plain_s = run_plain(folder, args.n, args.synchronous)
    engine_rate, plain_rate = fired / engine_s, plain / plain_s
    print(f"cases: {args.n}, steps per case: {len(STEPS)}, SQLite synchronous={args.synchronous}")
    print(
        f"engine:      {fired} transitions in {engine_s:.1f} s = {engine_rate:,.0f} durable transitions/s"
    )
    print(f"plain sqlite3: {plain} steps in {plain_s:.1f} s = {plain_rate:,.0f} steps/s")
    print(f"ratio engine/plain: {engine_rate / plain_rate:.2f} (aim: at least 0.20)")
    print(f"peak memory (max RSS) after the engine run: {peak_mb:.0f} MiB")


if __name__ == "__main__":
    main()
