"""A scheduler in a separate OS process, with the test's clock (the system clock is real time).

    python -m tests.reminder_worker DB_URL SMTP_PORT CLOCK_ISO MODE [ROUNDS]

MODE run: ROUNDS ticks of the real scheduler (sweep + delivery), as `finsam scheduler --once`.
MODE sweep-then-crash: the sweep commits, then the process dies before anything is sent.
MODE send-then-crash: one message is handed over and the relay says 250; the process dies
    before the row is marked sent.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime

from workflow.app import App
from workflow.clock import fixed_clock
from workflow.scheduler import run_once, worker_name
from workflow.services.reminders import planner as reminders
from workflow.settings import load_settings


def main(argv: list[str]) -> int:
    url, port, when, mode = argv[:4]
    rounds = int(argv[4]) if len(argv) > 4 else 1
    mail = {
        "smtp_host": "127.0.0.1",
        "smtp_port": int(port),
        "security": "none",
        "from_address": "finsam@test.example",
        "timeout_seconds": 5,
    }
    app = App.create(
        load_settings(database_url=url, mail=mail), clock=fixed_clock(datetime.fromisoformat(when))
    )
    if mode == "sweep-then-crash":
        reminders.sweep(app, worker=worker_name())
        os._exit(9)  # no cleanup, no delivery: as if the power went
    if mode == "send-then-crash":
        from workflow.services.reminders import outbox

        outbox._record = lambda *args, **kwargs: os._exit(9)  # type: ignore[assignment]
        run_once(app)
        return 1  # not reached
    claimed = sent = 0
    for _ in range(rounds):
        totals = run_once(app)
        claimed += totals.claimed
        sent += totals.sent
    print(f"{claimed} {sent}")
    app.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
