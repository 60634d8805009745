"""The start page's and the working boards' reads on a grown database: CPU and statements.

    cp /tmp/scale/cases-100000.db /tmp/copy.db        # bench/scale.py --keep /tmp/scale
    python bench/startpage.py sqlite:////tmp/copy.db
    python bench/startpage.py sqlite:////tmp/copy.db ready beredning   # only these reads

Each read is the service call a page makes (services/cases/todo.py, board/overview.py,
board/beredning.py, board/agenda.py ready_cases, policies/documents.py), for the demo's
people of `akst`, on a copy of a database bench/scale.py grew (opening it may touch its
journal files, so not the kept one itself). It runs once to warm, then five times: the figure
is the median CPU (time.process_time) and the number of SQL statements of one call; "shown"
is how many cases (or rows) the page would list. Figures, not a test.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import event

from workflow.app import App
from workflow.services.board import agenda, beredning, overview
from workflow.services.cases import todo
from workflow.services.policies import documents
from workflow.settings import load_settings

FORBUND = "akst"


def reads(app: App) -> dict[str, Callable[[], Any]]:
    def who(person: str) -> dict[str, Any]:
        return {"forbund": FORBUND, "viewer_email": f"{person}@akst.example"}

    return {
        "todo_for chef": lambda: todo.todo_for(app, **who("chef")),
        "todo_for sekreterare": lambda: todo.todo_for(app, **who("sekreterare")),
        "mine_for projektagare": lambda: todo.mine_for(app, **who("projektagare")),
        "mine_for handlaggare": lambda: todo.mine_for(app, **who("handlaggare")),
        "kansli_overview chef": lambda: todo.kansli_overview(app, **who("chef")),
        "for_member ordforande": lambda: overview.for_member(app, **who("ordforande")),
        "beredning_board chef": lambda: beredning.beredning_board(app, **who("chef")),
        "list_policies": lambda: documents.list_policies(app, forbund=FORBUND),
        "start_notice chef": lambda: documents.start_notice(
            app, forbund=FORBUND, roles={"forbundschef"}
        ),
        "ready_cases": lambda: agenda.ready_cases(app, forbund=FORBUND),
    }


def shown(result: Any) -> int:
    if result is None:
        return 0
    if hasattr(result, "groups"):  # Todo
        return sum(len(group.cases) for group in result.groups)
    if hasattr(result, "coming"):  # BoardOverview
        return len(result.coming) + len(result.to_sign)
    for name in ("cases", "items"):  # Mine, BeredningBoard; ReadyCases
        if hasattr(result, name):
            return len(getattr(result, name))
    return len(result)


def measure(app: App, read: Callable[[], Any]) -> tuple[int, int, float]:
    read()
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(app.db.engine, "before_cursor_execute", note)
    try:
        result = read()
    finally:
        event.remove(app.db.engine, "before_cursor_execute", note)
    cpu = []
    for _ in range(5):
        start = time.process_time()
        read()
        cpu.append(time.process_time() - start)
    return len(seen), shown(result), statistics.median(cpu)


def main(argv: list[str]) -> None:
    if not argv:
        sys.exit(__doc__)
    app = App.create(load_settings(database_url=argv[0]))
    try:
        for name, read in reads(app).items():
            if argv[1:] and not any(word in name for word in argv[1:]):
                continue
            count, rows, cpu = measure(app, read)
            print(f"{name:24s} {count:6d} statements {rows:6d} shown {cpu * 1000:9.1f} ms CPU")
    finally:
        app.close()


if __name__ == "__main__":
    main(sys.argv[1:])
