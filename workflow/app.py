"""What every entry point (CLI, web, scheduler) builds once: settings, database, lifecycles, clock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workflow.actions import Actions, load_actions
from workflow.clock import Clock, system_clock
from workflow.db import Database
from workflow.lifecycle.registry import Lifecycles, load_lifecycles
from workflow.reminder_rules import Notifications, load_notifications
from workflow.settings import Settings, load_settings


@dataclass
class App:
    settings: Settings
    db: Database
    lifecycles: Lifecycles
    # Who may do what besides the lifecycles' steps (states/actions.yaml).
    actions: Actions
    clock: Clock = system_clock
    # Reminder rules and e-mail templates (notifications/), checked at start-up.
    notifications: Notifications | None = None

    @classmethod
    def create(
        cls, settings: Settings | None = None, clock: Clock = system_clock, **overrides: Any
    ) -> App:
        """Load and check every definition first: a broken file stops start-up before any I/O."""
        settings = settings or load_settings(**overrides)
        lifecycles = load_lifecycles(settings.data_dir("states"))
        actions = load_actions(settings.data_dir("states") / "actions.yaml")
        notifications = load_notifications(settings.data_dir("notifications"))
        return cls(
            settings=settings,
            db=Database.open(settings),
            lifecycles=lifecycles,
            actions=actions,
            clock=clock,
            notifications=notifications,
        )

    def close(self) -> None:
        self.db.dispose()
