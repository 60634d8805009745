"""`finsam backup` and `finsam restore` for the embedded SQLite database.

Backup, while the application keeps writing:
  1. copies the database with SQLite's online backup API in one step (it reads one
     consistent snapshot; WAL lets writers go on meanwhile) into a temporary file beside the
     target,
  2. checks the copy: PRAGMA integrity_check and every förbund's audit chain,
  3. moves it into place and writes the witness (each chain's head, witness.py) beside it.
Restore:
  1. refuses unless the target database is empty (no förbund, no audit event),
  2. copies the backup into a temporary file beside the target, upgrades its schema,
  3. runs `audit verify` on it and compares it with the witness beside the backup, if any,
  4. only if all holds, moves it into place: nothing half-restored is ever left.
PostgreSQL has its own tools, which know its transactions better than we could: pg_dump -Fc
and pg_restore (README, "Backup and restore"); both commands refuse it with that advice.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url

from workflow.app import App
from workflow.errors import BadInput, ChainBroken
from workflow.services.archive import witness
from workflow.services.archive.witness import WitnessCheck
from workflow.services.cases.audit import ChainReport, verify
from workflow.settings import load_settings

PG_BACKUP = (
    "finsam backup kopierar bara SQLite-databaser; för PostgreSQL: "
    "pg_dump -Fc -f finsam.dump DATABAS (se README, Backup and restore)"
)
PG_RESTORE = (
    "finsam restore återställer bara SQLite-databaser; för PostgreSQL: "
    "pg_restore -d NY_DATABAS finsam.dump, sedan finsam audit verify (se README)"
)


def _sqlite_path(app: App, advice: str) -> Path:
    url = make_url(app.settings.database_url)
    if url.get_backend_name() != "sqlite":
        raise BadInput(advice)
    if not url.database or url.database == ":memory:":
        raise BadInput("en databas i minnet kan inte säkerhetskopieras; ange en fil med --db")
    return Path(url.database).expanduser().absolute()


def _copy(source: sqlite3.Connection, target: Path) -> None:
    destination = sqlite3.connect(target)
    try:
        source.backup(destination)  # pages=-1: one step, one snapshot
    finally:
        destination.close()


def _integrity(path: Path) -> str:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        return str(exc)
    finally:
        connection.close()


def _open(app: App, path: Path) -> App:
    settings = load_settings(database_url=f"sqlite:///{path}", config_dir=app.settings.config_dir)
    return App.create(settings, clock=app.clock)


def _remove(path: Path) -> None:
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        leftover.unlink(missing_ok=True)


@dataclass
class BackupResult:
    path: Path
    witness: Path
    chains: list[dict[str, object]]
    integrity: str


def backup(app: App, *, to: Path) -> BackupResult:
    """Copy the database to `to` and write `to`.witness.json (steps in the module doc)."""
    _sqlite_path(app, PG_BACKUP)
    target = to.expanduser().absolute()
    if target.exists():
        raise BadInput(
            f"{target} finns redan; välj ett nytt filnamn (en säkerhetskopia skrivs aldrig över)"
        )
    if not target.parent.is_dir():
        raise BadInput(f"mappen {target.parent} finns inte")
    temporary = target.with_name(f".{target.name}.tmp")
    _remove(temporary)
    try:
        with app.db.engine.connect() as connection:
            driver = connection.connection.driver_connection
            assert isinstance(driver, sqlite3.Connection)
            _copy(driver, temporary)
        integrity = _integrity(temporary)
        if integrity != "ok":
            raise BadInput(f"kopian klarade inte integritetskontrollen: {integrity}")
        copy = _open(app, temporary)
        try:
            with copy.db.reading() as session:
                broken = [r for r in verify(session) if not r.ok]
                heads = witness.chain_heads(session)
        finally:
            copy.close()
        if broken:
            raise ChainBroken(
                f"granskningsloggen för {broken[0].forbund} är bruten vid händelse "
                f"{broken[0].broken_at}; ingen säkerhetskopia skrevs"
            )
        temporary.replace(target)
    finally:
        _remove(temporary)
    path = witness.witness_path(target)
    witness.write(path, backup=target, heads=heads, taken_at=app.clock())
    return BackupResult(target, path, heads, integrity)


@dataclass
class RestoreResult:
    path: Path
    reports: list[ChainReport]
    witness: Path | None = None
    checks: list[WitnessCheck] = field(default_factory=list)


def _is_empty(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return True
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {
            r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        for table in ("forbund", "audit_event"):
            if table in tables and connection.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone():
                return False
        return True
    except sqlite3.DatabaseError:
        return False
    finally:
        connection.close()


def restore(app: App, *, source: Path) -> RestoreResult:
    """Restore `source` into the app's (empty) database (steps in the module doc)."""
    target = _sqlite_path(app, PG_RESTORE)
    source = source.expanduser().absolute()
    if not source.is_file():
        raise BadInput(f"säkerhetskopian {source} finns inte")
    if _integrity(source) != "ok":
        raise BadInput(f"{source} är ingen hel SQLite-databas (integritetskontrollen misslyckades)")
    if not _is_empty(target):
        raise BadInput(
            f"databasen {target} är inte tom; återställ till en ny fil, t.ex. --db sqlite:///ny.db"
        )
    app.db.dispose()
    temporary = target.with_name(f".{target.name}.restore.tmp")
    _remove(temporary)
    try:
        reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            _copy(reader, temporary)
        finally:
            reader.close()
        copy = _open(app, temporary)
        try:
            copy.db.migrate()
            with copy.db.reading() as session:
                reports = verify(session)
                found = witness.witness_path(source)
                checks = witness.compare(session, witness.read(found)) if found.exists() else []
        finally:
            copy.close()
        broken = [r for r in reports if not r.ok]
        if broken:
            raise ChainBroken(
                f"granskningsloggen för {broken[0].forbund} i säkerhetskopian är bruten vid "
                f"händelse {broken[0].broken_at}: {broken[0].problem}; inget återställdes"
            )
        rewritten = [c for c in checks if not c.ok]
        if rewritten:
            raise ChainBroken(
                f"säkerhetskopian stämmer inte med vittnet för {rewritten[0].forbund}: "
                f"{rewritten[0].problem}; inget återställdes"
            )
        _remove(target)
        temporary.replace(target)
    finally:
        _remove(temporary)
    return RestoreResult(target, reports, found if checks else None, checks)
