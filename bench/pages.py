"""Every page at 10 000 and 100 000 cases: the server's CPU per request, latency and page size.

    python bench/pages.py                                   # builds 10 000 and 100 000 cases
    python bench/pages.py --db /tmp/scale/cases-10000.db /tmp/scale/cases-100000.db
    python bench/pages.py --db /tmp/scale/cases-100000.db --only /granskning

The databases are bench/scale.py's (the demo grown straight in the tables, with funding,
reports, reminders and a valid audit chain); without `--db` it builds them as scale.py does
(`--keep DIR` keeps them). For each database it serves the product's web application with
uvicorn in a child process, logs in through the login form as each demo role of the förbund
`akst` (the demo password), and asks for every page of the routing table that takes no path
parameter (the JSON API, static files and the health check aside), first as the förbundschef,
then as each other role for the pages the förbundschef may not see, and the start page as every
role. Each page is asked for `--requests` times over one keep-alive connection after a warm-up.

The figures per page: the server process's CPU milliseconds per request (from the kernel's
account of that process, /proc, so a machine busy with other work slows the clock but not the
CPU much), the p95 latency in ms and the size of the answer; then the growth factor between the
smallest and the largest database, the baseline of the same run. A page that reads what the
förbund holds grows with it; a bounded page stays about flat (aim, issue 15: growth at most 12
for ten times the cases, and no page that grows at all apart from the CSV downloads, which are
as long as what they export). Figures, not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import re
import socket
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from serving import Server  # bench/serving.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FORBUND = "akst"
# Who asks, in order: the first who may see a page measures it.
ROLES = (
    "forbundschef",
    "admin",
    "sekreterare",
    "styrelse_ordforande",
    "styrelse_ledamot",
    "beredningsgrupp",
    "handlaggare",
    "projektagare",
)
SKIP = ("/api/", "/static", "/healthz", "/logga-in", "/logga-ut", "/oidc", "/glomt-losenord")
# Downloads are as long as what they export (linear by nature): measured with --downloads.
DOWNLOADS = (".csv", ".xlsx")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def serve(url: str, fd: int) -> None:
    """The child process: uvicorn on the socket the parent bound (no race for the port)."""
    import uvicorn

    from workflow.app import App
    from workflow.settings import load_settings
    from workflow.web.app import create_web_app

    settings = load_settings(
        database_url=url,
        forbund=FORBUND,
        sqlite_synchronous="NORMAL",
        web={"secure_cookies": False},
    )
    listening = socket.socket(fileno=fd)
    config = uvicorn.Config(
        create_web_app(App.create(settings)), log_level="warning", lifespan="off", access_log=False
    )
    uvicorn.Server(config).run(sockets=[listening])


def page_paths() -> list[str]:
    """The pages of the routing table without path parameters."""
    from workflow.app import App
    from workflow.settings import load_settings
    from workflow.web.app import create_web_app, route_table

    with tempfile.TemporaryDirectory() as tmp:
        web = create_web_app(App.create(load_settings(database_url=f"sqlite:///{tmp}/x.db")))
        paths = {
            r.path
            for r in route_table(web)
            if "GET" in r.methods and not r.params and not r.path.startswith(SKIP)
        }
    return sorted(paths)


def demo_email(role: str) -> str:
    from workflow.services.demo.logins import demo_login

    return demo_login(role, FORBUND).email


def log_in(client: httpx.Client, role: str) -> None:
    from workflow.services.demo.logins import DEMO_PASSWORD

    token = _CSRF.search(client.get("/logga-in").text)
    assert token, "no CSRF token on the login page"
    answer = client.post(
        "/logga-in",
        data={"email": demo_email(role), "password": DEMO_PASSWORD, "csrf_token": token.group(1)},
    )
    if answer.status_code != 303:
        raise RuntimeError(f"login as {role} refused: {answer.status_code}")


@dataclass
class Figure:
    cpu_ms: float
    p95_ms: float
    size_kb: float
    status: int


def measure_page(server: Server, client: httpx.Client, path: str, count: int) -> Figure:
    first = client.get(path)
    if first.status_code != 200:
        return Figure(0, 0, 0, first.status_code)
    client.get(path)  # warm-up: caches, prepared statements
    seconds = []
    size = 0
    cpu = server.cpu()
    for _ in range(count):
        started = time.perf_counter()
        answer = client.get(path)
        seconds.append(time.perf_counter() - started)
        size = len(answer.content)
    cpu = server.cpu() - cpu
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered) + 0.5) - 1))]
    return Figure(cpu * 1000 / count, p95 * 1000, size / 1024, 200)


def measure(
    path: Path, count: int, only: list[str] | None, downloads: bool = False
) -> dict[str, tuple[str, Figure]]:
    """Per page: who measured it and the figure."""
    pages = [
        p
        for p in page_paths()
        if (only is None or p.startswith(tuple(only))) and (downloads or not p.endswith(DOWNLOADS))
    ]
    found: dict[str, tuple[str, Figure]] = {}
    with Server(__file__, f"sqlite:///{path}") as server:
        for role in ROLES:
            with httpx.Client(base_url=server.url, timeout=600) as client:
                log_in(client, role)
                for page in pages:
                    label = page if page != "/" else f"/ ({role})"
                    if label in found:
                        continue
                    figure = measure_page(server, client, page, count)
                    if figure.status == 200:
                        found[label] = (role, figure)
                        print(
                            f"  {path.name:<18} {label:<44} {figure.cpu_ms:8.1f} ms CPU "
                            f"{figure.p95_ms:8.1f} ms p95 {figure.size_kb:9.1f} KB",
                            flush=True,
                        )
    return found


def build(folder: Path, sizes: list[int]) -> list[Path]:
    """bench/scale.py's databases, built as it builds them."""
    from scale import copy_database, grow_in_child, load_demo

    demo = folder / "demo.db"
    if not demo.exists():
        load_demo(demo)
    built = []
    for size in sizes:
        path = folder / f"cases-{size}.db"
        if not path.exists():
            copy_database(demo, path)
            grow_in_child(path, size)
        built.append(path)
    return built


def main() -> None:
    if sys.argv[1:2] == ["--serve"]:
        serve(sys.argv[2], int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", type=Path, nargs="+", help="scale.py databases, smallest first")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--keep", type=Path, help="folder to keep built databases in")
    parser.add_argument("--requests", type=int, default=20, help="requests per page")
    parser.add_argument(
        "--downloads", action="store_true", help="the CSV and XLSX downloads as well (slow)"
    )
    parser.add_argument(
        "--only", nargs="+", help="only the pages whose path starts with one of these"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="finsam-pages-") as tmp:
        paths = args.db or build(args.keep or Path(tmp), sorted(args.sizes))
        results = [measure(p, args.requests, args.only, args.downloads) for p in paths]

    first, last = results[0], results[-1]
    print()
    heads = " ".join(f"{p.name:>26}" for p in paths)
    print(f"{'page (who)':<44} {heads}  growth")
    for label in sorted(set().union(*results)):
        cells = []
        for result in results:
            if label in result:
                f = result[label][1]
                cells.append(f"{f.cpu_ms:7.1f} ms {f.size_kb:9.1f} KB".rjust(26))
            else:
                cells.append("-".rjust(26))
        a, b = first.get(label), last.get(label)
        growth = f"{b[1].cpu_ms / a[1].cpu_ms:.1f}" if a and b and a[1].cpu_ms > 0 else "-"
        who = (b or a)[0]  # type: ignore[index]
        name = label if label.startswith("/ (") else f"{label} ({who})"
        print(f"{name:<44} {' '.join(cells)}  {growth}")
    print(
        "figures: the server's CPU ms per request and the page's size; growth: CPU at the "
        "largest database over the smallest"
    )


if __name__ == "__main__":
    main()
