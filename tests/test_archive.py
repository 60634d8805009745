"""Backups taken while the application writes, restores that verify, the witness that finds a
rewritten chain, the PostgreSQL drill, and gallring only by the dokumenthanteringsplan."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import uuid
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import col, select

from tests.conftest import POSTGRES_URL, _schema_url, _truncate_all
from tests.support import Cli, TravelClock, World, build_world, email, finsam, one_line_error
from workflow.app import App
from workflow.clock import STOCKHOLM
from workflow.models import AuditEvent, FrameContribution
from workflow.services.archive import gallring
from workflow.services.cases import audit
from workflow.services.funding import budget
from workflow.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent

WRITER = """
import sys, time
from tests.support import complete_application, email
from workflow.app import App
from workflow.services import cases
from workflow.settings import load_settings

app = App.create(load_settings(database_url=sys.argv[1]))
n = 0
print("ready", flush=True)
while sys.stdin.readline().strip() != "stop":
    for _ in range(5):
        ref = cases.submit_idea(app, actor_email=email("handlaggare"),
                                values=complete_application(2027), forbund="test").ref
        cases.fire(app, ref=ref, trigger="registrera", actor_email=email("sekreterare"),
                   forbund="test")
        n += 2
    print(n, flush=True)
"""


def _integrity(path: Path) -> str:
    with sqlite3.connect(path) as connection:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])


def test_backups_taken_while_another_process_changes_cases_restore_and_verify(
    sqlite_url: str, clock: TravelClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = build_world(App.create(load_settings(database_url=sqlite_url), clock=clock), clock)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, sqlite_url],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdin is not None and writer.stdout is not None
    assert writer.stdout.readline().strip() == "ready"
    copies = []
    for number in range(3):
        writer.stdin.write("go\n")
        writer.stdin.flush()
        writer.stdout.readline()  # it has written; the next batch runs while we copy
        writer.stdin.write("go\n")
        writer.stdin.flush()
        target = tmp_path / f"kopia{number}.db"
        code, out, err = finsam(capsys, sqlite_url, "backup", "--to", str(target))
        assert code == 0, err
        copies.append(target)
        writer.stdout.readline()
    writer.stdin.write("stop\n")
    writer.stdin.flush()
    writer.wait(timeout=60)
    assert writer.returncode == 0

    counts = []
    for number, copy in enumerate(copies):
        restored = tmp_path / f"aterstalld{number}.db"
        code, out, err = finsam(capsys, f"sqlite:///{restored}", "restore", "--from", str(copy))
        assert code == 0, err
        assert "kedjan är hel" in out and "Stämmer med vittnet" in out
        assert _integrity(restored) == "ok"
        app = App.create(load_settings(database_url=f"sqlite:///{restored}"))
        [report] = audit.verify_all(app)
        assert report.ok
        counts.append(report.events)
        witness = json.loads(Path(f"{copy}.witness.json").read_text(encoding="utf-8"))
        assert witness["chains"] == [
            {
                "forbund": "test",
                "seq": report.events,
                "head_hash": witness["chains"][0]["head_hash"],
            }
        ]
        app.close()
    assert counts == sorted(counts) and counts[0] < counts[-1]  # taken while it grew
    world.app.close()


def _rewrite_chain(path: Path) -> None:
    """What someone with write access to the file could do: change an old event and
    recompute every hash after it, so that the chain verifies again on its own."""
    from workflow.services.cases.audit import _HASHED, _digest

    app = App.create(load_settings(database_url=f"sqlite:///{path}"))
    with app.db.transaction() as session:
        session.execute(text("DROP TRIGGER audit_event_no_update"))
        events = session.exec(select(AuditEvent).order_by(col(AuditEvent.seq))).all()
        previous = audit.GENESIS
        for event in events:
            if event.seq == 2:
                event.comment = "ändrad i efterhand"
            event.prev_hash = previous
            event.hash = _digest({name: getattr(event, name) for name in _HASHED})
            previous = event.hash
            session.add(event)
        session.flush()
        session.execute(text("UPDATE audit_chain SET head_hash = :h"), {"h": previous})
    app.close()


def test_a_chain_rewritten_in_the_database_alone_is_found_by_the_witness(
    sqlite_url: str, clock: TravelClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = build_world(App.create(load_settings(database_url=sqlite_url), clock=clock), clock)
    for _ in range(3):
        world.idea()
    target = tmp_path / "kopia.db"
    assert finsam(capsys, sqlite_url, "backup", "--to", str(target))[0] == 0
    database = Path(make_url(sqlite_url).database or "")
    world.app.close()
    _rewrite_chain(database)

    assert finsam(capsys, sqlite_url, "audit", "verify")[0] == 0  # alone it sees nothing
    code, out, err = finsam(
        capsys, sqlite_url, "audit", "verify", "--witness", f"{target}.witness.json"
    )
    assert code == 1, out + err
    assert "har skrivits om sedan säkerhetskopian" in one_line_error(err)

    _rewrite_chain(target)  # a rewritten backup does not restore past its witness either
    code, out, err = finsam(
        capsys, f"sqlite:///{tmp_path / 'ny.db'}", "restore", "--from", str(target)
    )
    assert code == 1 and "stämmer inte med vittnet" in one_line_error(err)
    assert not (tmp_path / "ny.db").exists()  # nothing half-restored


def test_restore_refuses_a_database_that_is_not_empty(
    sqlite_url: str, clock: TravelClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build_world(App.create(load_settings(database_url=sqlite_url), clock=clock), clock).app.close()
    target = tmp_path / "kopia.db"
    assert finsam(capsys, sqlite_url, "backup", "--to", str(target))[0] == 0
    code, _out, err = finsam(capsys, sqlite_url, "restore", "--from", str(target))
    assert code == 2 and "är inte tom" in one_line_error(err)
    code, _out, err = finsam(capsys, sqlite_url, "backup", "--to", str(target))
    assert code == 2 and "finns redan" in one_line_error(err)


@pytest.mark.postgres
def test_postgresql_backup_is_refused_with_pg_dump_advice_and_the_drill_restores_and_extends(
    request: pytest.FixtureRequest,
    clock: TravelClock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    schema = request.getfixturevalue("postgres_schema")
    url = _schema_url(schema)
    _truncate_all(url)
    world = build_world(App.create(load_settings(database_url=url), clock=clock), clock)
    ref = world.idea()
    world.fire(world.idea(), "registrera", "sekreterare")
    code, _out, err = finsam(capsys, url, "backup", "--to", str(tmp_path / "x.db"))
    assert code == 2 and "pg_dump -Fc" in one_line_error(err)
    [before] = audit.verify_all(world.app)
    world.app.close()

    server = make_url(POSTGRES_URL)
    where = ["-h", server.host or "127.0.0.1", "-p", str(server.port or 5432)]
    where += ["-U", server.username or "postgres"]
    dump = tmp_path / "finsam.dump"
    subprocess.run(
        ["pg_dump", "-Fc", *where, "-n", schema, "-f", str(dump), server.database or "test"],
        check=True,
    )
    drill = f"drill_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {drill}"))
    try:
        # A dump of one schema holds no extension: the text search's pg_trgm first (README).
        subprocess.run(
            ["psql", *where, "-d", drill, "-c", "CREATE EXTENSION pg_trgm SCHEMA public"],
            check=True,
        )
        subprocess.run(["pg_restore", *where, "-d", drill, str(dump)], check=True)
        restored_url = server.set(database=drill).render_as_string(hide_password=False)
        restored_url += f"?options=-csearch_path%3D{schema}"
        app = App.create(load_settings(database_url=restored_url), clock=clock)
        restored = build_restored(app, clock)
        [after] = audit.verify_all(app)
        assert after.ok and after.events == before.events
        restored.fire(ref, "registrera", "sekreterare")  # one more change extends the chain
        [extended] = audit.verify_all(app)
        assert extended.ok and extended.events == before.events + 1
        assert Cli(restored_url, capsys)("audit", "verify").count("kedjan är hel") == 1
        app.close()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {drill} WITH (FORCE)"))
        admin.dispose()


def build_restored(app: App, clock: TravelClock) -> World:
    return World(app, clock)


# -- gallring ---------------------------------------------------------------------------------


def test_gallring_disposes_only_what_the_plan_names_logs_it_and_the_chain_verifies(
    world: World, clock: TravelClock, tmp_path: Path
) -> None:
    clock.set(datetime(2014, 11, 20, 10, 0, tzinfo=STOCKHOLM))
    chef = email("forbundschef")
    budget.set_frame(world.app, year=2015, total=6000, actor_email=chef, forbund="test")
    budget.set_frame(world.app, year=2015, total=6400, actor_email=chef, forbund="test")
    with world.app.db.reading() as session:
        rows = session.exec(select(FrameContribution)).all()
    superseded = [r for r in rows if r.superseded_at is not None]
    current = [r for r in rows if r.superseded_at is None]
    assert superseded and sum(r.amount_tkr for r in current) == 6400  # history kept

    clock.set(datetime(2024, 11, 19, 10, 0, tzinfo=STOCKHOLM))  # nine years on: kept
    [kept] = [
        d
        for d in gallring.dispose(world.app, actor_email=chef, forbund="test")
        if d.kind == "ersatt_fordelning"
    ]
    assert kept.ids == []
    clock.set(datetime(2024, 11, 21, 10, 0, tzinfo=STOCKHOLM))  # ten years and a day
    dry = gallring.dispose(world.app, actor_email=chef, forbund="test", dry_run=True)
    assert {d.kind: len(d.ids) for d in dry}["ersatt_fordelning"] == len(superseded)
    gone = gallring.dispose(world.app, actor_email=chef, forbund="test")

    assert {d.kind: len(d.ids) for d in gone}["ersatt_fordelning"] == len(superseded)
    with world.app.db.reading() as session:
        left = session.exec(select(FrameContribution)).all()
        [event] = session.exec(
            select(AuditEvent).where(AuditEvent.subject_kind == "gallring")
        ).all()
    assert sorted(r.id for r in left) == sorted(r.id for r in current)  # the current split stays
    assert event.data["count"] == len(superseded) and event.actor_email == chef
    assert event.data["rule"] == {"keep_years": 10, "from": "superseded"}
    assert all(r.ok for r in audit.verify_all(world.app))
    [figures] = budget.figures(world.app, years=[2015], forbund="test")
    assert sum(c["tkr"] for c in figures.contributions) == 6400


def test_without_a_rule_nothing_is_disposed_of(
    db_url: str, clock: TravelClock, tmp_path: Path
) -> None:
    deployment = tmp_path / "deployment"
    shutil.copytree(ROOT / "config", deployment / "config")
    (deployment / "config" / "dokumenthanteringsplan.yaml").write_text(
        "rules:\n  - kind: utskick\n    keep_years: 2\n    from: sent\n", encoding="utf-8"
    )
    app = App.create(load_settings(database_url=db_url, config_dir=deployment), clock=clock)
    world = build_world(app, clock)
    clock.set(date(2014, 11, 20))
    chef = email("forbundschef")
    budget.set_frame(app, year=2015, total=6000, actor_email=chef, forbund="test")
    budget.set_frame(app, year=2015, total=6400, actor_email=chef, forbund="test")
    clock.set(date(2040, 1, 1))
    found = gallring.dispose(app, actor_email=chef, forbund="test")
    assert [d.kind for d in found] == ["utskick"]
    with app.db.reading() as session:
        assert len(session.exec(select(FrameContribution)).all()) > 0
    with pytest.raises(Exception, match="får inte gallra"):
        gallring.dispose(app, actor_email=email("handlaggare"), forbund="test")
    world.app.close()
