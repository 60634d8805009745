"""The login throttle: failed logins counted per account and per address, in the database.

The rows are shared by every `finsam serve` process on the database, so the count holds
across them. An account here is the e-mail as given, whether or not a person has it: the
answer must not tell the two apart.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, insert
from sqlalchemy import select as core_select
from sqlmodel import Session

from workflow.clock import as_utc
from workflow.errors import NotPermitted
from workflow.models import LoginFailure

if TYPE_CHECKING:  # only for annotations: the App imports the services' modules
    from workflow.app import App

_T = LoginFailure.__table__  # type: ignore[attr-defined]


class LoginThrottled(NotPermitted):
    """Too many failed logins for the account or from the address; wait and try again."""

    http_status = 429


def check(app: App, *, account: str, address: str, now: datetime) -> None:
    """Refuse the attempt while the account or the address is over its limit."""
    web = app.settings.web
    since = now - timedelta(minutes=web.login_window_minutes)
    with app.db.reading() as session:
        connection = session.connection()
        for column, key, limit in (
            (_T.c.account, account, web.login_failures_per_account),
            (_T.c.address, address, web.login_failures_per_address),
        ):
            count, oldest = connection.execute(
                core_select(func.count(), func.min(_T.c.at)).where(column == key, _T.c.at > since)
            ).one()
            if count >= limit:
                # The oldest failure of the window leaves it first: then one more try is allowed.
                free_at = as_utc(oldest) + timedelta(minutes=web.login_window_minutes)
                minutes = max(1, math.ceil((free_at - now).total_seconds() / 60))
                raise LoginThrottled(
                    "för många misslyckade inloggningar; vänta "
                    f"{minutes} {'minut' if minutes == 1 else 'minuter'} och försök igen, "
                    "eller be om en länk för att välja nytt lösenord"
                )


def record_failure(
    app: App, session: Session, *, account: str, address: str, now: datetime
) -> None:
    """Count one failure; rows older than the window go at the same time."""
    since = now - timedelta(minutes=app.settings.web.login_window_minutes)
    connection = session.connection()
    connection.execute(delete(_T).where(_T.c.at <= since))
    connection.execute(insert(_T).values(account=account[:254], address=address[:64], at=now))


def forget_account(session: Session, account: str) -> None:
    """A successful login (or a new password) clears the account's failures."""
    session.connection().execute(delete(_T).where(_T.c.account == account))
