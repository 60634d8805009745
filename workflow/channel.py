"""Through which channel a person acts: the web pages, the JSON API, the CLI or the scheduler.

The entry point says it once (`with acting_through("web"):`) and every audit event written
inside records it, so no service needs a parameter for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Literal

Channel = Literal["web", "api", "cli", "scheduler"]
CHANNELS: tuple[Channel, ...] = ("web", "api", "cli", "scheduler")

_current: ContextVar[Channel | None] = ContextVar("finsam_channel", default=None)


@contextmanager
def acting_through(channel: Channel) -> Iterator[None]:
    """Everything done inside is recorded as done through `channel`."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    token = _current.set(channel)
    try:
        yield
    finally:
        _current.reset(token)


def current_channel() -> Channel | None:
    """The channel of the work under way; None where no entry point said (tests, demo)."""
    return _current.get()
