"""Finding and claiming the due reminders: the service's claim against the same SQL by hand.

    python bench/sweep.py                                  # 100,000 cases, 1,000,000 reminders
    python bench/sweep.py --cases 2000 --reminders 20000   # a quick check
    python bench/sweep.py --databases sqlite               # skip PostgreSQL

Per database it builds one förbund with N cases (insatser) and M reminder rows spread over five
years; most rows before "now" are already sent, `--due` of them are still pending, the rest lie
in the future. It then times claiming the whole due set in batches of `--batch` (one
transaction per batch, as the sweep does) twice: through `reminders.claim_due` (SQLAlchemy, the
code the scheduler runs) and through the same statement in plain SQL on the raw driver
connection. The rows are put back to pending between runs; each figure is the best of
`--repeat` runs. Figures, not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, text
from sqlmodel import Session

from workflow.app import App
from workflow.models import Forbund, Insats, Reminder
from workflow.services.reminders.planner import claim_due
from workflow.settings import load_settings

POSTGRES = os.environ.get(
    "FINSAM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
START = datetime(2026, 1, 1, 7, 0, tzinfo=UTC)
NOW = datetime(2027, 1, 1, 12, 0, tzinfo=UTC)  # a fifth of the five years lies before now
WORKER = "bench"


def build(app: App, cases: int, reminders: int, due: int, seed: int = 7) -> int:
    """Fill the database; returns how many rows are due (pending, send_at <= now)."""
    rng = random.Random(seed)
    with app.db.transaction() as session:
        forbund = Forbund(slug="bench", name="Bench", dnr_pattern="{year}/{seq}", created_at=START)
        session.add(forbund)
        session.flush()
        forbund_id = forbund.id
    engine = app.db.engine
    chunk = 20_000
    with engine.begin() as connection:
        for first in range(0, cases, chunk):
            connection.execute(
                insert(Insats),
                [
                    {
                        "forbund_id": forbund_id,
                        "title": f"Insats {n}",
                        "inriktning": "individ",
                        "state": "pagaende",
                        "budget_requested": {},
                        "version": 1,
                        "created_at": START,
                        "updated_at": START,
                    }
                    for n in range(first, min(first + chunk, cases))
                ],
            )
    span = (START + timedelta(days=5 * 365) - START).total_seconds()
    before_now = []
    rows_done = 0
    with engine.begin() as connection:
        while rows_done < reminders:
            batch = []
            for k in range(rows_done, min(rows_done + chunk, reminders)):
                case_id = 1 + k % cases
                per_case = k // cases
                send_at = START + timedelta(seconds=rng.random() * span)
                day = send_at.date()
                batch.append(
                    {
                        "forbund_id": forbund_id,
                        "rule": f"rule{per_case % 7}",
                        "step": f"step{per_case // 7}",
                        "source": "bench",
                        "subject_kind": "insats",
                        "subject_id": case_id,
                        "subject_ref": f"2026/{case_id}",
                        "due_on": day + timedelta(days=21),
                        "send_on": day,
                        "send_at": send_at,
                        "status": "sent" if send_at <= NOW else "pending",
                        "created_at": START,
                        "updated_at": START,
                    }
                )
                if send_at <= NOW:
                    before_now.append(k + 1)
            connection.execute(insert(Reminder), batch)
            rows_done += len(batch)
    # Of the rows before now, `due` stay pending: the work of one sweep after some downtime.
    pending_ids = rng.sample(before_now, min(due, len(before_now)))
    with engine.begin() as connection:
        for first in range(0, len(pending_ids), chunk):
            part = pending_ids[first : first + chunk]
            connection.execute(
                text(
                    f"UPDATE reminder SET status = 'pending' WHERE id IN ({','.join(map(str, part))})"
                )
            )
        if engine.dialect.name == "postgresql":
            connection.execute(text("ANALYZE reminder"))
        else:
            connection.execute(text("ANALYZE"))
    return len(pending_ids)


def reset(app: App) -> None:
    with app.db.engine.begin() as connection:
        connection.execute(
            text("UPDATE reminder SET status = 'pending', claimed_by = NULL WHERE claimed_by = :w"),
            {"w": WORKER},
        )


def claim_with_service(app: App, forbund_id: int, batch: int) -> int:
    claimed = 0
    while True:
        with Session(app.db.engine) as session, session.begin():
            got = claim_due(session, forbund_id=forbund_id, now=NOW, worker=WORKER, limit=batch)
        claimed += len(got)
        if len(got) < batch:
            return claimed


def claim_with_plain_sql(app: App, forbund_id: int, batch: int) -> int:
    """The same statement, written by hand, on the raw DB-API connection."""
    postgres = app.db.engine.dialect.name == "postgresql"
    raw = app.db.engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert driver is not None
        if postgres:
            sql = (
                "WITH picked AS MATERIALIZED (SELECT id FROM reminder WHERE forbund_id = %s "
                "AND status = 'pending' AND send_at <= %s ORDER BY send_at LIMIT %s "
                "FOR UPDATE SKIP LOCKED) UPDATE reminder SET status = 'sent', claimed_by = %s, "
                "updated_at = %s WHERE id IN (SELECT id FROM picked) AND status = 'pending' "
                "RETURNING id"
            )
            now: object = NOW
        else:
            sql = (
                "WITH picked AS (SELECT id FROM reminder WHERE forbund_id = ? "
                "AND status = 'pending' AND send_at <= ? ORDER BY send_at LIMIT ?) "
                "UPDATE reminder SET status = 'sent', claimed_by = ?, updated_at = ? "
                "WHERE id IN (SELECT id FROM picked) AND status = 'pending' RETURNING id"
            )
            now = NOW.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
        claimed = 0
        while True:
            cursor = driver.cursor()
            if not postgres:
                cursor.execute("BEGIN IMMEDIATE")
            cursor.execute(sql, (forbund_id, now, batch, WORKER, now))
            got = cursor.fetchall()
            driver.commit() if postgres else cursor.execute("COMMIT")
            cursor.close()
            claimed += len(got)
            if len(got) < batch:
                return claimed
    finally:
        raw.close()


def best_of(repeat: int, app: App, run: Callable[[], int]) -> tuple[float, int]:
    times = []
    claimed = 0
    for _ in range(repeat):
        reset(app)
        began = time.perf_counter()
        claimed = run()
        times.append(time.perf_counter() - began)
    return min(times), claimed


def measure(name: str, url: str, args: argparse.Namespace) -> None:
    app = App.create(load_settings(database_url=url))
    app.db.migrate()
    began = time.perf_counter()
    due = build(app, args.cases, args.reminders, args.due)
    built = time.perf_counter() - began
    with app.db.reading() as session:
        forbund_id = session.exec(text("SELECT id FROM forbund WHERE slug = 'bench'")).scalar_one()  # type: ignore[call-overload]
    service, got_service = best_of(
        args.repeat, app, lambda: claim_with_service(app, forbund_id, args.batch)
    )
    plain, got_plain = best_of(
        args.repeat, app, lambda: claim_with_plain_sql(app, forbund_id, args.batch)
    )
    app.close()
    print(
        f"{name:<10} {args.cases:>9,} cases {args.reminders:>11,} reminders {due:>8,} due "
        f"(built in {built:.1f} s)\n"
        f"           service claim_due: {service * 1000:9.1f} ms ({got_service:,} claimed)\n"
        f"           plain SQL:         {plain * 1000:9.1f} ms ({got_plain:,} claimed)\n"
        f"           ratio service/plain: {service / plain:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--reminders", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=10_000, help="pending rows before now")
    parser.add_argument("--batch", type=int, default=500, help="rows claimed per transaction")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default=POSTGRES)
    args = parser.parse_args()
    for name in args.databases.split(","):
        if name == "sqlite":
            with tempfile.TemporaryDirectory() as folder:
                measure("SQLite", f"sqlite:///{Path(folder) / 'bench.db'}", args)
        elif name == "postgresql":
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(args.postgres_url)
            with admin.begin() as connection:
                connection.execute(text(f"CREATE SCHEMA {schema}"))
            try:
                measure("PostgreSQL", f"{args.postgres_url}?options=-csearch_path%3D{schema}", args)
            finally:
                with admin.begin() as connection:
                    connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
                admin.dispose()
        else:
            parser.error(f"unknown database {name!r}; use sqlite and/or postgresql")


if __name__ == "__main__":
    main()
