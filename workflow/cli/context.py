"""The App of one `finsam` invocation, built on first use from the root options."""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import click

if TYPE_CHECKING:  # the App (and with it the database library) is imported when first built
    from workflow.app import App

F = TypeVar("F", bound=Callable[..., Any])


def get_app(ctx: click.Context) -> App:
    root = ctx.find_root()
    if "app" not in root.obj:
        from workflow.app import App

        # Every definition (lifecycles, settings) is checked here, before any command runs;
        # the reminder rules and templates as each command says (pass_app below).
        root.obj["app"] = App.create(notifications=False, **root.obj["overrides"])
        root.call_on_close(root.obj["app"].close)
        if root.obj.get("freeze"):
            # What start-up built (modules, table classes, lifecycles, settings, rules) lives
            # as long as the process; without this every full collection walks it again, a
            # third of what the budget report costs above start-up at 100 000 cases. Frozen
            # objects are never collected: start-up's own garbage (a few cycles at most) stays
            # until exit, which a one-command process can afford, and nothing here relies on
            # a finaliser of it (the App is closed by call_on_close, not by the collector).
            gc.freeze()
    app: App = root.obj["app"]
    return app


def forbund_of(ctx: click.Context) -> str | None:
    return get_app(ctx).settings.forbund


def pass_app(
    *, schema: bool = True, notifications: Literal["check", "read"] | None = None
) -> Callable[[F], F]:
    """Give the command the App as its first argument; by default the schema must be current.

    `notifications` (the reminder rules and templates, notifications/) are loaded and checked
    before the command starts, so that a broken rule stops start-up: with "check", for a
    command that plans, sends or sweeps, every template is rendered with sample data as well
    (a broken one stops start-up rather than the sweep); with "read", for a command that only
    reads reminders or messages, each template is checked only for being there (no rendering,
    no Jinja2). Any other command loads and checks them, rendering and all, only if it comes
    to need them."""

    def decorate(command: F) -> F:
        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            app = get_app(click.get_current_context())
            if notifications is not None:
                app.render_templates = notifications == "check"
                app.notifications  # noqa: B018  (loads and checks them now)
            if schema:
                app.db.require_schema()
            return command(app, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
