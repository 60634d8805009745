"""Access events in the audit trail: logins, logouts, refused logins, refused access.

Each is an event in the person's förbund's chain with subject `access` and the person as its
subject; the channel (web, api, cli) is the entry point's (workflow/channel.py). A failed login
for an e-mail no account has belongs to no förbund: it is kept only as a throttle row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from workflow.services.cases import audit
from workflow.services.organisation.people import Actor

SUBJECT = "access"

LOGGA_IN = "logga_in"
LOGGA_UT = "logga_ut"
INLOGGNING_NEKAD = "inloggning_nekad"
ATKOMST_NEKAD = "atkomst_nekad"
BYT_LOSENORD = "byt_losenord"
SKICKA_LOSENORDSLANK = "skicka_losenordslank"

_TO_STATE = {
    LOGGA_IN: "inloggad",
    LOGGA_UT: "utloggad",
    INLOGGNING_NEKAD: "nekad",
    ATKOMST_NEKAD: "nekad",
    BYT_LOSENORD: "nytt_losenord",
    SKICKA_LOSENORDSLANK: "lank_skickad",
}


def record(
    session: Session,
    *,
    forbund_id: int,
    person_id: int,
    email: str,
    name: str,
    trigger: str,
    now: datetime,
    comment: str,
    data: dict[str, Any] | None = None,
    by: Actor | str | None = None,
) -> None:
    """One access event about the person; `by` is who acted when not the person themself
    (an operator setting a password from the CLI)."""
    head = audit.lock_chain(session, forbund_id)
    audit.append(
        session,
        head,
        subject_kind=SUBJECT,
        subject_id=person_id,
        subject_ref=email[:60],
        from_state=None,
        to_state=_TO_STATE[trigger],
        trigger=trigger,
        actor=by if by is not None else Actor(person_id, name, email, frozenset()),
        at=now,
        comment=comment,
        data=data,
    )
