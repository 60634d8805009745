"""Helpers for reminder tests: an App that mails to the loopback server, due documents."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from tests.smtp_support import SmtpServer
from tests.support import TravelClock, World, email
from workflow.app import App
from workflow.clock import STOCKHOLM
from workflow.services.policies import documents as policies
from workflow.settings import load_settings

SEND_HOUR_LOCAL = 8


def mailing_app(
    db_url: str,
    clock: TravelClock,
    server: SmtpServer | None,
    config_dir: Path | None = None,
    **mail: object,
) -> App:
    settings = {**(server.settings if server else {}), **mail}
    return App.create(
        load_settings(database_url=db_url, mail=settings, config_dir=config_dir), clock=clock
    )


def policy_due(
    world: World,
    title: str = "Policy för samverkan",
    *,
    owner: str = "sekreterare",
    decided_on: date = date(2022, 12, 15),
) -> str:
    """A policy decided 2022 for four years: renewal reminders 1 Sep, 1 Oct, 1 Nov 2026."""
    view = policies.register(
        world.app,
        actor_email=email("forbundschef", world.slug),
        kind="policy",
        title=title,
        decided_on=decided_on,
        decided_by="Styrelsen",
        owner_email=email(owner, world.slug),
        forbund=world.slug,
    )
    return view.ref


def morning(day: date, hour: int = 8, minute: int = 30) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=STOCKHOLM)


def settle(world: World, day: date, server: SmtpServer | None = None) -> None:
    """Run the scheduler at noon on `day` so everything due until then is out of the way
    (the yearly reminders of the calendar), and forget what the server got."""
    from workflow.scheduler import run_once

    world.clock.set(morning(day, 12, 0))
    run_once(world.app)
    if server is not None:
        server.mailbox.messages.clear()


# The policy reminder of 1 October 2026 (a Thursday); nothing else in the calendar is due then.
OCT_1 = date(2026, 10, 1)
SEP_30 = date(2026, 9, 30)
