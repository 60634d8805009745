"""Sender processes, their heartbeat, and when one may take over another's messages.

A lease on an outbox message has no expiry time that anyone trusts. A wall clock can jump
(an NTP step, a VM resumed, a test's injected clock), and a lease that ends "at 10:10" lets a
second sender take a message still in flight when the first sender's or the second's clock
jumps. Instead a lease lasts as long as its owner lives, and "lives" is decided without clocks:

  1. Each sender process (a `finsam scheduler`, or one `--once` round) registers a row in
     `scheduler_process` under a fresh token, host:pid:random. A message it claims carries that
     token in `lease_owner`.
  2. While it works a heartbeat thread adds one to the row's `beats` every lease_seconds / 4,
     timed by `time.monotonic()` (threading.Event.wait), so a wall-clock jump neither speeds
     nor stalls it. The same statement writes `beat_at` with the database's own clock, for
     the health page only.
  3. Another sender treats the owner as gone only when
       a. the owner's row is missing, stopped or fenced; or
       b. the owner ran on this host and its pid no longer exists; or
       c. this sender watched the owner's `beats` stand still for lease_seconds measured by
          its own monotonic clock (the observation is kept in memory, across rounds).
     No wall clock and no database clock takes part, so a jump of ±2 h anywhere cannot make a
     live sender look dead.
  4. Taking over is fenced: `UPDATE scheduler_process SET fenced = true WHERE token = :owner
     AND beats = :seen AND NOT fenced`, and only when exactly one row changed are the owner's
     leases released for the ordinary claim. The owner's own beat is conditional on
     `NOT fenced`: a sender that finds itself fenced (it stalled longer than the lease) takes a
     new token, and the outcome of the message it had in flight is refused because
     `lease_owner` no longer names it (outbox._record).
A message in flight when its sender died is sent again with the same Message-ID: a receiver
gets it at most twice and can tell the copies are one message.

The same row tells the health page when the process last swept and delivered (database clock):
`health.scheduler_status`.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col

from workflow.app import App
from workflow.models import OutboxMessage, SchedulerProcess

log = logging.getLogger("finsam.workers")

_PROCESS = SchedulerProcess.__table__  # type: ignore[attr-defined]
_OUTBOX = OutboxMessage.__table__  # type: ignore[attr-defined]


def db_now(session: Session) -> ColumnElement[Any]:
    """The database's clock, as an SQL expression (never this process's clock)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.clock_timestamp()
    # SQLite has no clock of its own beyond the machine's; milliseconds, UTC.
    return func.strftime("%Y-%m-%d %H:%M:%f", "now")


def db_ago(session: Session, seconds: float) -> ColumnElement[Any]:
    """The database's clock minus `seconds`."""
    if session.get_bind().dialect.name == "postgresql":
        return func.clock_timestamp() - func.make_interval(0, 0, 0, 0, 0, 0, seconds)
    return func.strftime("%Y-%m-%d %H:%M:%f", "now", f"-{float(seconds):.3f} seconds")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


@dataclass
class Worker:
    """This process as a sender: its token, its heartbeat and what it has seen of others."""

    app: App
    kind: str = "scheduler"
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    token: str = ""
    # owner token -> (beats seen, monotonic time first seen at that count)
    observed: dict[str, tuple[int, float]] = field(default_factory=dict)
    _registered: bool = False
    _beating: int = 0

    def __post_init__(self) -> None:
        if not self.token:
            self.token = self._new_token()

    def _new_token(self) -> str:
        return f"{self.host[:50]}:{self.pid}:{secrets.token_hex(6)}"

    @property
    def name(self) -> str:
        return f"{self.host}:{self.pid}"

    # -- own row ------------------------------------------------------------------------

    def register(self) -> None:
        """Write this process's row (database clock); idempotent."""
        with self.app.db.transaction() as session:
            now = db_now(session)
            exists = (
                session.connection()
                .execute(select(_PROCESS.c.token).where(_PROCESS.c.token == self.token))
                .first()
            )
            if exists is None:
                session.connection().execute(
                    _PROCESS.insert().values(
                        token=self.token,
                        host=self.host[:100],
                        pid=self.pid,
                        kind=self.kind,
                        beats=0,
                        fenced=False,
                        started_at=now,
                        beat_at=now,
                    )
                )
        self._registered = True

    def ensure(self) -> None:
        if not self._registered:
            self.register()

    def beat(self) -> bool:
        """One heartbeat; False when another sender fenced this token (then take a new one)."""
        with self.app.db.transaction() as session:
            changed = session.connection().execute(
                update(_PROCESS)
                .where(_PROCESS.c.token == self.token, _PROCESS.c.fenced.is_(False))
                .values(beats=_PROCESS.c.beats + 1, beat_at=db_now(session))
            )
        if changed.rowcount == 1:
            return True
        log.warning(
            "avsändaren %s togs över av en annan; fortsätter med en ny identitet", self.token
        )
        self.token = self._new_token()
        self.register()
        return False

    def mark(self, what: str, error: str | None = None) -> None:
        """Record that this process swept or delivered (`what`: swept_at | delivered_at)."""
        with self.app.db.transaction() as session:
            values: dict[str, Any] = {what: db_now(session), "beat_at": db_now(session)}
            values["last_error"] = error[:500] if error else None
            session.connection().execute(
                update(_PROCESS).where(_PROCESS.c.token == self.token).values(**values)
            )

    def note_error(self, error: str) -> None:
        """Keep the last error on the row, if the database can be reached at all."""
        try:
            with self.app.db.transaction() as session:
                session.connection().execute(
                    update(_PROCESS)
                    .where(_PROCESS.c.token == self.token)
                    .values(last_error=error[:500])
                )
        except SQLAlchemyError:
            pass

    def stop(self) -> None:
        """A clean stop: the row says so and the messages it still holds are free at once."""
        with self.app.db.transaction() as session:
            connection = session.connection()
            connection.execute(
                update(_PROCESS)
                .where(_PROCESS.c.token == self.token)
                .values(stopped_at=db_now(session))
            )
            connection.execute(
                update(_OUTBOX)
                .where(_OUTBOX.c.lease_owner == self.token, _OUTBOX.c.status == "pending")
                .values(lease_owner=None, lease_until=None)
            )

    @contextmanager
    def beating(self) -> Iterator[None]:
        """Run the heartbeat thread for the duration of the block (nested blocks share it)."""
        self.ensure()
        if self._beating:
            self._beating += 1
            try:
                yield
            finally:
                self._beating -= 1
            return
        self._beating = 1
        stop = threading.Event()
        interval = max(self.app.settings.mail.lease_seconds / 4, 0.2)

        def run() -> None:
            while not stop.wait(interval):  # monotonic
                try:
                    self.beat()
                except SQLAlchemyError as exc:
                    log.warning("hjärtslag misslyckades: %s", str(exc).splitlines()[0])

        thread = threading.Thread(target=run, name="finsam-heartbeat", daemon=True)
        thread.start()
        try:
            yield
        finally:
            self._beating = 0
            stop.set()
            thread.join()

    # -- others -------------------------------------------------------------------------

    def release_dead(self) -> int:
        """Free the messages of senders known to be gone (steps 3–4 above); returns how many."""
        released = 0
        with self.app.db.transaction() as session:
            connection = session.connection()
            owners = [
                o
                for o in connection.execute(
                    select(_OUTBOX.c.lease_owner)
                    .where(
                        _OUTBOX.c.status == "pending",
                        _OUTBOX.c.lease_owner.is_not(None),
                        _OUTBOX.c.lease_owner != self.token,
                    )
                    .distinct()
                ).scalars()
            ]
            if not owners:
                self.observed.clear()
                return 0
            rows = {
                r.token: r
                for r in connection.execute(
                    select(_PROCESS).where(_PROCESS.c.token.in_(owners))
                ).mappings()
            }
            now = time.monotonic()
            watch = self.app.settings.mail.lease_seconds
            for owner in owners:
                row = rows.get(owner)
                gone = (
                    row is None
                    or row["fenced"]
                    or row["stopped_at"] is not None
                    or (row["host"] == self.host[:100] and not pid_alive(row["pid"]))
                )
                if not gone and row is not None:
                    seen = self.observed.get(owner)
                    if seen is None or seen[0] != row["beats"]:
                        self.observed[owner] = (row["beats"], now)
                        continue
                    if now - seen[1] < watch:
                        continue
                if row is not None and not row["fenced"]:
                    fenced = connection.execute(
                        update(_PROCESS)
                        .where(
                            _PROCESS.c.token == owner,
                            _PROCESS.c.beats == row["beats"],
                            _PROCESS.c.fenced.is_(False),
                        )
                        .values(fenced=True)
                    )
                    if fenced.rowcount != 1:
                        continue  # it beat meanwhile: alive after all
                freed = connection.execute(
                    update(_OUTBOX)
                    .where(_OUTBOX.c.lease_owner == owner, _OUTBOX.c.status == "pending")
                    .values(lease_owner=None, lease_until=None)
                )
                released += freed.rowcount
                self.observed.pop(owner, None)
                log.warning(
                    "avsändaren %s svarar inte; %d meddelanden skickas av andra",
                    owner,
                    freed.rowcount,
                )
        return released

    def release_own(self) -> None:
        """Messages this token still holds outside a send (an error cut a round short)."""
        with self.app.db.transaction() as session:
            session.connection().execute(
                update(_OUTBOX)
                .where(_OUTBOX.c.lease_owner == self.token, _OUTBOX.c.status == "pending")
                .values(lease_owner=None, lease_until=None)
            )


def forget_old(app: App, days: float = 7.0) -> int:
    """Drop rows of processes stopped or silent for `days` (database clock)."""
    with app.db.transaction() as session:
        old = db_ago(session, days * 86400)
        gone = session.connection().execute(
            delete(_PROCESS).where(
                col(SchedulerProcess.beat_at) < old,
                ~select(_OUTBOX.c.id).where(_OUTBOX.c.lease_owner == _PROCESS.c.token).exists(),
            )
        )
        return int(gone.rowcount)
