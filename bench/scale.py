"""Every read path at 10 000 and 100 000 cases: CPU seconds, peak memory and growth per command.

    python bench/scale.py                           # 10 000 and 100 000 cases
    python bench/scale.py --sizes 2000 10000        # a quicker look
    python bench/scale.py --keep /tmp/scale         # keep the databases (demo.db, cases-N.db)

It loads the demo (`finsam init`, `finsam demo`) into a SQLite file, then grows the förbund
`akst` to N cases straight in the database with SQLAlchemy Core bulk inserts: each new case is
a copy of one of the demo's own cases (cycling through all of them) with its parties, budget
lines, avtal, reports, payments, Uppföljning Finsam record, recommendation and reminders, and
its own events (about six a case) appended to the förbund's audit chain with valid hashes, so
`audit verify` passes. Meetings and protocols stay the demo's. Then each command runs in a
child process of its own (bench/measure.py): the figures are its CPU seconds (user + system)
and peak memory, and the growth factor is the figure at the largest size over the smallest.
Beside them, what each command costs above the floor every command pays to start (`python -c
"import sqlalchemy, sqlmodel, click"`, measured at each size, as bench/startup.py does) and
how much it wrote: a command as long as its output reads as such.
Aim (issue 15) for ten times the cases: every growth factor at most 12, every command under
1 s of CPU at 100 000 cases apart from `audit verify`, which is linear in events, and
`reminders plan` (the day's first sweep), linear in open insatser.
Figures, not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from itertools import cycle
from pathlib import Path
from typing import Any

from measure import FLOOR, Cost, best_of, finsam_command  # bench/measure.py, beside this script

# This process only starts the others and reads their costs, so it stays small: a child forked
# from a big parent would report the parent's memory as its own peak. The growing runs in a
# child of its own (--grow), with SQLAlchemy and the tables imported there.
if "--grow" in sys.argv:
    from sqlalchemy import Connection, Table, create_engine, event, func, insert, select
    from sqlmodel import SQLModel

    from workflow.models import load_all
    from workflow.services.cases.audit import _digest

FORBUND = "akst"
CHUNK = 2000  # cases per transaction while growing
# (label, arguments); "{ref}" is a grown case's diarienummer.
COMMANDS: list[tuple[str, list[str]]] = [
    ("cases list --state pagaende --json", ["cases", "list", "--state", "pagaende", "--json"]),
    ("reminders list", ["reminders", "list"]),
    ("budget report --year 2013", ["budget", "report", "--year", "2013"]),
    ("audit verify", ["audit", "verify"]),
    ("--help", ["--help"]),
    ("uppfoljning export", ["uppfoljning", "export"]),
    ("reports overdue", ["reports", "overdue"]),
    ("cases show", ["cases", "show", "{ref}"]),
    # The one write: a whole plan of the förbund's reminders, as the day's first sweep makes
    # (planner.sweep); linear in open insatser and owed reports, like audit verify in events.
    ("reminders plan", ["reminders", "plan"]),
]


def load_demo(path: Path) -> None:
    url = f"sqlite:///{path}"
    for step in ("init", "demo"):
        cost = best_of([*finsam_command(), "--db", url, step], 1)
        if cost.returncode != 0:
            sys.exit(f"finsam {step} failed: {cost.err.strip()}")


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy, WAL and all (SQLite's online backup)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


class Grower:
    """Copies the demo's cases of one förbund until it has `size` cases."""

    def __init__(self, connection: Connection, tables: dict[str, Table]) -> None:
        self.c = connection
        self.t = tables
        forbund = self.t["forbund"]
        self.forbund_id = connection.execute(
            select(forbund.c.id).where(forbund.c.slug == FORBUND)
        ).scalar_one()
        insats = self.t["insats"]
        self.templates = [
            dict(row)
            for row in connection.execute(
                select(insats).where(insats.c.forbund_id == self.forbund_id).order_by(insats.c.id)
            ).mappings()
        ]
        ids = [t["id"] for t in self.templates]
        self.rows: dict[str, dict[int, list[dict[str, Any]]]] = {}
        for name in ("insats_party", "budget_line", "agreement", "report", "payment"):
            self.rows[name] = self._by_case(name, ids)
        self.rows["uppfoljning_record"] = self._by_case("uppfoljning_record", ids)
        self.rows["recommendation"] = self._by_case("recommendation", ids)
        events = self.t["audit_event"]
        self.events = self._grouped(
            select(events)
            .where(
                events.c.forbund_id == self.forbund_id,
                events.c.subject_kind == "insats",
                events.c.subject_id.in_(ids),
            )
            .order_by(events.c.seq),
            "subject_id",
        )
        reminder = self.t["reminder"]
        report_ids = [r["id"] for rows in self.rows["report"].values() for r in rows]
        self.case_reminders = self._grouped(
            select(reminder).where(
                reminder.c.subject_kind == "insats", reminder.c.subject_id.in_(ids)
            ),
            "subject_id",
        )
        self.report_reminders = self._grouped(
            select(reminder).where(
                reminder.c.subject_kind == "report", reminder.c.subject_id.in_(report_ids)
            ),
            "subject_id",
        )
        self.next_id = {
            name: (connection.execute(select(func.max(self.t[name].c.id))).scalar() or 0) + 1
            for name in (
                "insats",
                "budget_line",
                "agreement",
                "report",
                "payment",
                "recommendation",
                "reminder",
                "audit_event",
            )
        }
        self.next_number = (
            connection.execute(
                select(func.max(insats.c.number)).where(insats.c.forbund_id == self.forbund_id)
            ).scalar()
            or 0
        ) + 1
        chain = self.t["audit_chain"]
        head = connection.execute(
            select(chain.c.seq, chain.c.head_hash).where(chain.c.forbund_id == self.forbund_id)
        ).one()
        self.seq, self.head_hash = head.seq, head.head_hash
        self.serial = 1000  # grown cases get diarienummer YEAR/01000-01 and up
        self.last_ref = ""

    def _grouped(self, query: Any, key: str) -> dict[int, list[dict[str, Any]]]:
        grouped: dict[int, list[dict[str, Any]]] = {}
        for row in self.c.execute(query).mappings():
            grouped.setdefault(row[key], []).append(dict(row))
        return grouped

    def _by_case(self, name: str, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        table = self.t[name]
        query = select(table).where(table.c.insats_id.in_(ids))
        return self._grouped(query.order_by(*table.primary_key.columns), "insats_id")

    def _new_id(self, name: str) -> int:
        value = self.next_id[name]
        self.next_id[name] = value + 1
        return value

    def existing(self) -> int:
        insats = self.t["insats"]
        return int(
            self.c.execute(
                select(func.count()).where(insats.c.forbund_id == self.forbund_id)
            ).scalar_one()
        )

    def grow(self, size: int) -> None:
        missing = size - self.existing()
        self.c.commit()
        templates = cycle(self.templates)
        while missing > 0:
            batch = min(CHUNK, missing)
            with self.c.begin():
                self._insert(self._copies(next(templates) for _ in range(batch)))
            missing -= batch

    def _copies(self, templates: Iterator[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {name: [] for name in self.next_id}
        out["insats_party"] = []
        out["uppfoljning_record"] = []
        for template in templates:
            old_id = template["id"]
            case = {**template, "id": self._new_id("insats"), "number": self.next_number}
            self.next_number += 1
            old_ref = template["dnr"] or f"ide-{template['number']}"
            if template["dnr"] is not None:
                year = template["dnr"].split("/")[0]
                case["dnr"] = f"{year}/{self.serial:05d}-01"
                self.serial += 1
            ref = case["dnr"] or f"ide-{case['number']}"
            self.last_ref = case["dnr"] or self.last_ref
            out["insats"].append(case)
            new_id = case["id"]
            for row in self.rows["insats_party"].get(old_id, []):
                out["insats_party"].append({**row, "insats_id": new_id})
            for row in self.rows["budget_line"].get(old_id, []):
                out["budget_line"].append(
                    {**row, "id": self._new_id("budget_line"), "insats_id": new_id}
                )
            agreements: dict[int, int] = {}
            for row in self.rows["agreement"].get(old_id, []):
                agreements[row["id"]] = self._new_id("agreement")
                out["agreement"].append({**row, "id": agreements[row["id"]], "insats_id": new_id})
            reports: dict[int, int] = {}
            for row in self.rows["report"].get(old_id, []):
                reports[row["id"]] = self._new_id("report")
                out["report"].append(
                    {
                        **row,
                        "id": reports[row["id"]],
                        "insats_id": new_id,
                        "agreement_id": agreements[row["agreement_id"]],
                    }
                )
            for row in self.rows["payment"].get(old_id, []):
                waits = row["waits_for_report_id"]
                out["payment"].append(
                    {
                        **row,
                        "id": self._new_id("payment"),
                        "insats_id": new_id,
                        "agreement_id": agreements[row["agreement_id"]],
                        "waits_for_report_id": reports[waits] if waits is not None else None,
                    }
                )
            for row in self.rows["uppfoljning_record"].get(old_id, []):
                out["uppfoljning_record"].append({**row, "insats_id": new_id})
            for row in self.rows["recommendation"].get(old_id, []):
                out["recommendation"].append(
                    {**row, "id": self._new_id("recommendation"), "insats_id": new_id}
                )
            reminders = [(r, new_id) for r in self.case_reminders.get(old_id, [])]
            for old_report, new_report in reports.items():
                reminders += [(r, new_report) for r in self.report_reminders.get(old_report, [])]
            for row, subject_id in reminders:
                subject_ref = row["subject_ref"].replace(old_ref, ref)
                out["reminder"].append(
                    {
                        **row,
                        "id": self._new_id("reminder"),
                        "subject_id": subject_id,
                        "subject_ref": subject_ref,
                    }
                )
            for row in self.events.get(old_id, []):
                self.seq += 1
                subject_ref = row["subject_ref"]
                if subject_ref == template["dnr"]:
                    subject_ref = case["dnr"]
                elif subject_ref == f"ide-{template['number']}":
                    subject_ref = f"ide-{case['number']}"
                fields = {
                    **row,
                    "id": self._new_id("audit_event"),
                    "seq": self.seq,
                    "subject_id": new_id,
                    "subject_ref": subject_ref,
                    "prev_hash": self.head_hash,
                }
                fields["hash"] = self.head_hash = _digest(fields)
                out["audit_event"].append(fields)
        return out

    def _insert(self, rows: dict[str, list[dict[str, Any]]]) -> None:
        # Parents before children; audit events last, in seq order (the chain head moves
        # with each insert: migration 0005's trigger).
        order = [
            "insats",
            "insats_party",
            "budget_line",
            "agreement",
            "report",
            "payment",
            "uppfoljning_record",
            "recommendation",
            "reminder",
            "audit_event",
        ]
        for name in order:
            if rows.get(name):
                self.c.execute(insert(self.t[name]), rows[name])


def grow_in_child(path: Path, size: int) -> tuple[str, int, int, float]:
    """grow() in a child process: (a grown case's ref, cases, events, CPU seconds)."""
    result = subprocess.run(
        [sys.executable, __file__, "--grow", str(path), str(size)],
        check=True,
        capture_output=True,
        text=True,
    )
    ref, cases, events, cpu = json.loads(result.stdout)
    return ref, cases, events, cpu


def grow(path: Path, size: int) -> tuple[str, int, int]:
    """Grow the förbund in a copy of the demo to `size` cases; (a grown case's ref, cases,
    events). The file must hold the demo as loaded: its cases are the templates, and grown
    cases are numbered from YEAR/01000-01, so a grown file is not grown again."""
    load_all()
    tables = dict(SQLModel.metadata.tables)
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _fast(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=OFF")  # a benchmark's scratch file: speed, not safety
        cursor.close()

    with engine.connect() as connection:
        grower = Grower(connection, tables)
        connection.commit()  # the demo's rows are read; each chunk is a transaction of its own
        grower.grow(size)
        cases = grower.existing()
        events = tables["audit_event"]
        count = connection.execute(select(func.count()).select_from(events)).scalar_one()
        connection.commit()
    engine.dispose()
    return grower.last_ref, cases, int(count)


def figure(cost: Cost, timeout: float) -> str:
    if cost.timed_out:
        return f"> {timeout:.0f} s (stopped)"
    if cost.returncode != 0:
        return f"failed ({cost.returncode})"
    return f"{cost.cpu:.2f} s {cost.rss_mib:.0f} MiB"


def main() -> None:
    if sys.argv[1:2] == ["--grow"]:
        started = time.process_time()
        ref, cases, events = grow(Path(sys.argv[2]), int(sys.argv[3]))
        print(json.dumps([ref, cases, events, time.process_time() - started]))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=1, help="runs per figure (the best counts)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds before a run stops")
    parser.add_argument("--keep", type=Path, help="folder to keep the databases in")
    args = parser.parse_args()
    sizes = sorted(args.sizes)

    with tempfile.TemporaryDirectory(prefix="finsam-scale-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        demo = folder / "demo.db"
        if not demo.exists():
            load_demo(demo)
        results: dict[int, dict[str, Cost]] = {}
        for size in sizes:
            path = folder / f"cases-{size}.db"
            path.unlink(missing_ok=True)
            copy_database(demo, path)
            ref, cases, events, cpu = grow_in_child(path, size)
            print(
                f"built {cases} cases, {events} audit events in {cpu:.1f} s CPU ({path.name})",
                flush=True,
            )
            env = {
                **os.environ,
                "FINSAM_DATABASE_URL": f"sqlite:///{path}",
                "FINSAM_FORBUND": FORBUND,
            }
            env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: compiled modules cached
            results[size] = {"floor": best_of(FLOOR, args.repeat)}
            print(
                f"  {size:>7} {'floor (import sqlalchemy, sqlmodel, click)':<36} "
                f"{figure(results[size]['floor'], args.timeout)}",
                flush=True,
            )
            for label, argv in COMMANDS:
                command = [*finsam_command(), *(a.format(ref=ref) for a in argv)]
                cost = best_of(command, args.repeat, env=env, timeout=args.timeout)
                results[size][label] = cost
                print(f"  {size:>7} {label:<36} {figure(cost, args.timeout)}", flush=True)
                if cost.returncode != 0 and not cost.timed_out:
                    print(f"    {cost.err.strip().splitlines()[-1:]}", flush=True)

    first, last = sizes[0], sizes[-1]
    # The floor is the same at every size: its cheapest run is the least disturbed one.
    floor = min(results[size]["floor"].cpu for size in sizes)
    print()
    print(
        f"{'command':<36} "
        + " ".join(f"{f'{s} cases':>22}" for s in sizes)
        + "  growth  over floor  out"
    )
    for label, _ in COMMANDS:
        cells = " ".join(f"{figure(results[s][label], args.timeout):>22}" for s in sizes)
        a, b = results[first][label], results[last][label]
        ok = a.returncode == 0 and b.returncode == 0 and a.cpu > 0
        growth = f"{b.cpu / a.cpu:.1f}" if ok else "-"
        # --help imports no database library, so it costs less than the floor.
        above = "-" if not ok else f"{b.cpu - floor:.2f} s" if b.cpu >= floor else "below"
        print(f"{label:<36} {cells}  {growth:>6}  {above:>10}  {_size(b.out_bytes)}")
    print(
        f"growth: CPU at {last} cases over CPU at {first} ({last / first:.0f}x the cases); "
        "aim: at most 12 for 10x, under 1 s at 100000 except audit verify and reminders plan"
    )
    print(
        f"over floor: CPU at {last} cases less the floor (its cheapest run at any size, "
        f"{floor:.2f} s), what the command itself costs; out: what it wrote to stdout"
    )


def _size(count: int) -> str:
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f} MB"
    if count >= 1_000:
        return f"{count / 1_000:.0f} kB"
    return f"{count} B"


if __name__ == "__main__":
    main()
