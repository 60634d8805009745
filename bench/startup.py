"""What a `finsam` command costs before it does anything: start-up against its floor.

    python bench/startup.py                      # builds a demo database in a temporary folder
    python bench/startup.py --db sqlite:///finsam.db --repeat 5

The floor is `python -c "import sqlalchemy, sqlmodel, click"`, measured in the same run: what
any command that reads the database must import. Each figure is the CPU seconds (user + system,
of the child alone) of the cheapest of `--repeat` runs. The runs take turns (floor, --help,
--version, cases show, floor, ...), so that a machine busier at one moment than another
weighs on the floor and the commands alike. Aim (issue 15): `--help` and `--version` import
no database library, and a small `cases show` costs at most 1.3 times the floor.
Figures, not a test: nothing here asserts (tests/test_startup.py checks the imports).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from measure import (  # bench/measure.py, beside this script
    FLOOR,
    Cost,
    best_of,
    finsam_command,
    run,
)

# The database libraries `--help` must not import, and how the check asks.
DB_LIBRARIES = ("sqlalchemy", "sqlmodel", "alembic", "psycopg")
_IMPORTS = (
    "import sys, runpy; sys.argv = ['finsam', {arg!r}]\n"
    "try:\n    runpy.run_module('workflow', run_name='__main__')\n"
    "except SystemExit:\n    pass\n"
    "print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}} & {libs!r})) or '-', "
    "file=sys.stderr)\n"
)


def db_libraries_imported(arg: str) -> str:
    """Which database libraries `finsam ARG` leaves in sys.modules ('-' for none)."""
    import subprocess

    code = _IMPORTS.format(arg=arg, libs=set(DB_LIBRARIES))
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return result.stderr.strip().splitlines()[-1]


def cheapest_in_turns(
    commands: dict[str, list[str]], repeat: int, env: dict[str, str]
) -> dict[str, Cost]:
    """Each command's cheapest run, the commands run one after another `repeat` times over."""
    best: dict[str, Cost] = {}
    for _ in range(max(1, repeat)):
        for name, argv in commands.items():
            if name in best and best[name].returncode != 0:
                continue  # failed once: reported as it failed
            cost = run(argv, env=env)
            if name not in best or cost.returncode != 0 or cost.cpu < best[name].cpu:
                best[name] = cost
    return best


def demo_database(folder: Path) -> str:
    url = f"sqlite:///{folder / 'demo.db'}"
    for step in (["init"], ["demo"]):
        cost = best_of([*finsam_command(), "--db", url, *step], 1)
        if cost.returncode != 0:
            sys.exit(f"finsam {step[0]} failed: {cost.err.strip()}")
    return url


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", help="a database with the demo loaded (else one is built)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (the best counts)")
    parser.add_argument("--ref", default="2012/011-01", help="the case `cases show` shows")
    parser.add_argument("--forbund", default="akst")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="finsam-startup-") as tmp:
        url = args.db or demo_database(Path(tmp))
        env = {**os.environ, "FINSAM_DATABASE_URL": url, "FINSAM_FORBUND": args.forbund}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: compiled modules cached
        finsam = finsam_command()
        costs = cheapest_in_turns(
            {
                "floor": FLOOR,
                "--help": [*finsam, "--help"],
                "--version": [*finsam, "--version"],
                "cases show": [*finsam, "cases", "show", args.ref],
            },
            args.repeat,
            env,
        )
        floor = costs.pop("floor")
        rows: list[tuple[str, Cost]] = list(costs.items())
    print(f"floor (import sqlalchemy, sqlmodel, click): {floor.line()}")
    for name, cost in rows:
        if cost.returncode != 0:
            print(f"finsam {name}: failed ({cost.returncode}): {cost.err.strip()}")
            continue
        print(f"finsam {name:<11} {cost.line()}  ratio to floor {cost.cpu / floor.cpu:.2f}")
    for arg in ("--help", "--version"):
        print(f"database libraries imported by finsam {arg}: {db_libraries_imported(arg)}")
    show = costs["cases show"]
    print(f"ratio cases show/floor: {show.cpu / floor.cpu:.2f} (aim: at most 1.30)")


if __name__ == "__main__":
    main()
