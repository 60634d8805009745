"""Idempotency-Key: a repeated request gets the first answer and changes nothing.

    stored = claim(app, person_id=7, key="k-1", method="POST", path="/api/v1/cases", body={...})
    if stored is not None:
        return stored                    # a repeat: the first answer, nothing done again
    try:
        answer = do_the_work()
    except Exception:
        release(app, person_id=7, key="k-1")   # nothing was changed: the key may be used again
        raise
    complete(app, person_id=7, key="k-1", answer=answer)

Keys are per person and kept in the database (every `finsam serve` process shares them) for
KEEP after the first request. The first request claims its key with an INSERT on the key's
primary key, so of two requests racing with one key exactly one does the work: the other
waits for its answer (up to `wait` seconds) or is told the first is still under way (409).
The same key with another request (method, path or body) is refused (422), not answered
with the first one's result. Only a successful answer is kept: an error changed nothing, so
the key is released and a corrected repeat may use it.

A process that dies between doing the work and keeping its answer leaves the key claimed;
a repeat is then told so (409) rather than risk doing the work twice.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from workflow.clock import as_utc
from workflow.errors import BadInput, Conflict
from workflow.models.api_access import IdempotentRequest

if TYPE_CHECKING:  # only for annotations: the App imports the services' modules
    from workflow.app import App

KEEP = timedelta(hours=24)
MAX_KEY = 200
PENDING = "pending"
DONE = "done"
# How long a repeat waits for the first request's answer before it is told to come back.
WAIT_SECONDS = 10.0
# A claim this old without an answer was cut short (its process died): a repeat is told so
# at once instead of waiting.
STALE = timedelta(minutes=2)
_POLL_SECONDS = 0.05

_T = IdempotentRequest.__table__  # type: ignore[attr-defined]


class KeyReused(BadInput):
    """The key was used before for another request: 422, as the IETF draft says."""

    http_status = 422


class KeyInUse(Conflict):
    """The first request with this key has not finished (or was cut short)."""


@dataclass(frozen=True)
class Answer:
    """What the first request answered: its status, body (JSON text) and the headers a
    repeat must carry too."""

    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)


def check_key(key: str) -> str:
    """A key people may send: 1 to 200 visible ASCII characters (a UUID is typical)."""
    if not key or len(key) > MAX_KEY or not all(33 <= ord(c) <= 126 for c in key):
        raise BadInput(
            f"ogiltig Idempotency-Key; ange 1–{MAX_KEY} synliga ASCII-tecken, t.ex. ett UUID"
        )
    return key


def fingerprint(method: str, path: str, body: Any) -> str:
    """The request as the key remembers it: method, path and the body as canonical JSON
    (key order and spacing do not matter)."""
    canonical = json.dumps(
        [method.upper(), path, body], sort_keys=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def claim(
    app: App,
    *,
    person_id: int,
    key: str,
    method: str,
    path: str,
    body: Any,
    wait: float = WAIT_SECONDS,
) -> Answer | None:
    """Claim the key for this request (None: do the work, then `complete` or `release`), or
    the first answer when this is a repeat.

    Steps, each in a short transaction of its own: drop expired keys; insert the claim (the
    primary key makes this atomic across processes; losing a race is an IntegrityError and
    the loop reads the winner's row); an existing row for another request is KeyReused; a
    finished one gives its answer; an unfinished one is waited for, then KeyInUse.
    """
    check_key(key)
    wanted = fingerprint(method, path, body)
    deadline = time.monotonic() + wait
    while True:
        now = app.clock()
        try:
            with app.db.transaction() as session:
                connection = session.connection()
                connection.execute(delete(_T).where(_T.c.expires_at <= now))
                row = session.get(IdempotentRequest, (person_id, key))
                if row is None:
                    session.add(
                        IdempotentRequest(
                            person_id=person_id,
                            key=key,
                            fingerprint=wanted,
                            method=method.upper()[:10],
                            path=path[:500],
                            state=PENDING,
                            created_at=now,
                            expires_at=now + KEEP,
                        )
                    )
                    session.flush()
                    return None
                if row.fingerprint != wanted:
                    raise KeyReused(
                        f"Idempotency-Key {key!r} användes redan {as_utc(row.created_at):%Y-%m-%d %H:%M} "
                        f"UTC för en annan begäran ({row.method} {row.path}); använd en ny nyckel "
                        "för en ny begäran"
                    )
                if row.state == DONE:
                    assert row.status_code is not None and row.body is not None
                    return Answer(row.status_code, row.body, json.loads(row.headers or "{}"))
                stale = now - as_utc(row.created_at) >= STALE
        except IntegrityError:
            continue  # another request claimed the key first: read its row
        if stale or time.monotonic() >= deadline:
            raise KeyInUse(
                f"en begäran med Idempotency-Key {key!r} pågår redan eller avbröts; "
                "vänta en stund och skicka den igen, eller kontrollera resultatet innan du "
                "använder en ny nyckel"
            )
        time.sleep(_POLL_SECONDS)


def complete(app: App, *, person_id: int, key: str, answer: Answer) -> None:
    """Keep the answer of the request that claimed the key, for its repeats."""
    with app.db.transaction() as session:
        session.connection().execute(
            update(_T)
            .where(_T.c.person_id == person_id, _T.c.key == key, _T.c.state == PENDING)
            .values(
                state=DONE,
                status_code=answer.status,
                body=answer.body,
                headers=json.dumps(answer.headers, sort_keys=True),
                completed_at=app.clock(),
            )
        )


def release(app: App, *, person_id: int, key: str) -> None:
    """Give the key back: the request failed and changed nothing."""
    with app.db.transaction() as session:
        session.connection().execute(
            delete(_T).where(_T.c.person_id == person_id, _T.c.key == key, _T.c.state == PENDING)
        )
