"""What every entry point (CLI, web, scheduler) builds once: settings, database, lifecycles, clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workflow.actions import Actions, load_actions
from workflow.clock import Clock, system_clock
from workflow.db import Database
from workflow.lifecycle.registry import Lifecycles, load_lifecycles
from workflow.settings import Settings, load_settings

if TYPE_CHECKING:  # jinja2 and the reminder sources are imported by what sends or plans
    from workflow.reminder_rules import Notifications


@dataclass
class App:
    settings: Settings
    db: Database
    lifecycles: Lifecycles
    # Who may do what besides the lifecycles' steps (states/actions.yaml).
    actions: Actions
    clock: Clock = system_clock
    # Reminder rules and e-mail templates (notifications/): see `notifications` below.
    _notifications: Notifications | None = field(default=None, repr=False)
    _notifications_loaded: bool = field(default=False, repr=False)
    # False: loading them renders no template with sample data (a command that only reads
    # reminders, workflow/cli/context.py); whatever plans, sends or sweeps keeps the check.
    render_templates: bool = field(default=True, repr=False)

    @classmethod
    def create(
        cls,
        settings: Settings | None = None,
        clock: Clock = system_clock,
        *,
        notifications: bool = True,
        **overrides: Any,
    ) -> App:
        """Load and check every definition first: a broken file stops start-up before any I/O.

        With notifications=False (the command line) the reminder rules and templates are
        loaded, and checked, on first use instead: compiling every template is a fifth of a
        short command's start-up, and most commands send nothing.
        """
        settings = settings or load_settings(**overrides)
        lifecycles = load_lifecycles(settings.data_dir("states"))
        actions = load_actions(settings.data_dir("states") / "actions.yaml")
        app = cls(
            settings=settings,
            db=Database.open(settings),
            lifecycles=lifecycles,
            actions=actions,
            clock=clock,
        )
        if notifications:
            app.notifications  # noqa: B018  (loads and checks them now)
        return app

    @property
    def notifications(self) -> Notifications | None:
        """Reminder rules and e-mail templates (notifications/), checked when first loaded
        (the templates rendered with sample data unless `render_templates` is False)."""
        if not self._notifications_loaded:
            from workflow.reminder_rules import load_notifications

            self._notifications = load_notifications(
                self.settings.data_dir("notifications"), render=self.render_templates
            )
            self._notifications_loaded = True
        return self._notifications

    def close(self) -> None:
        self.db.dispose()
