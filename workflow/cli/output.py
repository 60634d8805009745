"""Printing for people (plain tables with Swedish headings) and for scripts (--json)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

import click

from workflow.case_fields import parse_date

json_option = click.option("--json", "as_json", is_flag=True, help="Skriv ut som JSON för skript.")


def date_option(*names: str, **kwargs: Any) -> Any:
    """A --date option read as ÅÅÅÅ-MM-DD with a Swedish one-line error."""

    def convert(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
        return None if value is None else parse_date(value, f"--{param.name}".replace("_", "-"))

    return click.option(*names, callback=convert, metavar="ÅÅÅÅ-MM-DD", **kwargs)


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, default=_default, ensure_ascii=False, indent=2))


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(cell(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {cell(v)}" for k, v in value.items())
    return str(value).replace("\n", " ")


def print_table(
    headers: Sequence[str], rows: Sequence[Sequence[Any]], empty: str = "(inga rader)"
) -> None:
    if not rows:
        click.echo(empty)
        return
    text = [[cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in text)) for i, h in enumerate(headers)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    click.echo("  ".join("-" * w for w in widths))
    for row in text:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def print_pairs(pairs: Sequence[tuple[str, Any]]) -> None:
    width = max(len(label) for label, _ in pairs)
    for label, value in pairs:
        click.echo(f"{label.ljust(width)}  {cell(value)}")


def emit(as_json: bool, data: Any, human: Callable[[], None]) -> None:
    """Print `data` as JSON for scripts, or call `human` to print it for people."""
    if as_json:
        print_json(data)
    else:
        human()
