"""The App of one `finsam` invocation, built on first use from the root options."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:  # the App (and with it the database library) is imported when first built
    from workflow.app import App

F = TypeVar("F", bound=Callable[..., Any])

# The commands that plan, send or show reminders check the rules and templates (notifications/)
# before they start; every other command loads them only if it comes to need them.
NOTIFICATION_COMMANDS = frozenset({"reminders", "outbox", "mail", "scheduler", "health"})


def get_app(ctx: click.Context) -> App:
    root = ctx.find_root()
    if "app" not in root.obj:
        from workflow.app import App

        # Every definition (lifecycles, settings) is checked here, before any command runs.
        root.obj["app"] = App.create(
            notifications=root.invoked_subcommand in NOTIFICATION_COMMANDS,
            **root.obj["overrides"],
        )
        root.call_on_close(root.obj["app"].close)
    app: App = root.obj["app"]
    return app


def forbund_of(ctx: click.Context) -> str | None:
    return get_app(ctx).settings.forbund


def pass_app(*, schema: bool = True) -> Callable[[F], F]:
    """Give the command the App as its first argument; by default the schema must be current."""

    def decorate(command: F) -> F:
        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            app = get_app(click.get_current_context())
            if schema:
                app.db.require_schema()
            return command(app, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
