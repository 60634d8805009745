"""Lists a page at a time: `--limit`, `--after CURSOR` and `--all`, and `--json` that streams.

A list command asks its service for one page (or, with `--all`, every page in turn), prints
it as it comes and, when more follows, tells on stderr how to get the next page:

    Fler ärenden: finsam cases list --state pagaende --after WyJjYXNlcyIsMCwi...

With `--json` the items are written one by one as a JSON array: the output is valid JSON
whatever the number of items, and the memory is that of one page.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import click

from workflow.cli.output import _default, cell
from workflow.services.paging import Page

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_LIMIT = 50


def page_options(function: F) -> F:
    """--limit, --after and --all on a list command (as `limit`, `after`, `all_pages`)."""
    function = click.option(
        "--all",
        "all_pages",
        is_flag=True,
        help="Hämta alla sidor (med --json strömmas de).",
    )(function)
    function = click.option(
        "--after",
        metavar="MARKÖR",
        help="Börja efter denna sidmarkör (skrivs ut när fler rader finns).",
    )(function)
    function = click.option(
        "--limit",
        type=int,
        default=DEFAULT_LIMIT,
        show_default=True,
        help="Högst så många rader per sida (1–500).",
    )(function)
    return function


def _pages(
    fetch: Callable[[str | None, int], Page[T]], after: str | None, limit: int, all_pages: bool
) -> Iterator[Page[T]]:
    while True:
        page = fetch(after, limit)
        yield page
        if not all_pages or page.next_after is None:
            return
        after = page.next_after


def next_command(cursor: str) -> str:
    """The command line that lists the next page: this command, its options as given (not
    the defaults), and `--after CURSOR`."""
    context = click.get_current_context()
    words = context.command_path.split()
    for param in context.command.params:
        if not isinstance(param, click.Option) or param.name in ("after", "all_pages"):
            continue
        value = context.params.get(param.name or "")
        if value is None or value == param.default or value == () or value is False:
            continue
        option = max(param.opts, key=len)
        if param.is_flag:
            words.append(option)
        elif isinstance(value, list | tuple):
            for item in value:
                words.extend([option, str(item)])
        else:
            words.extend([option, str(value)])
    words.extend(["--after", cursor])
    return shlex.join(words)


def emit_pages(
    *,
    as_json: bool,
    fetch: Callable[[str | None, int], Page[T]],
    after: str | None,
    limit: int,
    all_pages: bool,
    to_json: Callable[[T], Any],
    headers: Sequence[str],
    row: Callable[[T], Sequence[Any]],
    empty: str,
    more: str,
    seen: Callable[[list[T]], None] | None = None,
) -> None:
    """Print a paged list: streamed JSON or a table, and on stderr where the next page
    starts (`more` names the rows: "Fler ärenden"). `seen` is shown each page's items after
    the table has printed them (for a note below the table)."""
    cursor: str | None = None
    if as_json:
        click.echo("[", nl=False)
        first = True
        for page in _pages(fetch, after, limit, all_pages):
            for item in page.items:
                text = json.dumps(to_json(item), default=_default, ensure_ascii=False, indent=2)
                click.echo(("\n" if first else ",\n") + _indent(text), nl=False)
                first = False
            cursor = page.next_after
        click.echo("\n]" if not first else "]")
    else:
        shown = 0
        for page in _pages(fetch, after, limit, all_pages):
            if page.items:
                _print_rows(headers, [row(item) for item in page.items], header=shown == 0)
                if seen is not None:
                    seen(page.items)
            shown += len(page.items)
            cursor = page.next_after
        if shown == 0:
            click.echo(empty)
    if cursor is not None:
        click.echo(f"{more}: {next_command(cursor)}", err=True)


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def _print_rows(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, header: bool) -> None:
    text = [[cell(v) for v in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in text)) for i, h in enumerate(headers)]
    if header:
        click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
        click.echo("  ".join("-" * w for w in widths))
    for r in text:
        click.echo("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
