"""Demo logins: one person per role in each demo förbund gets the same demo password.

`finsam serve` prints them (DEMO_LOGINS), so the demo can be tried in a browser at once.
The password is public: a demo database is never a real one.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from workflow.app import App
from workflow.models import Forbund, PasswordCredential, Person
from workflow.services.access import events, passwords
from workflow.vocabulary import Role

DEMO_PASSWORD = "demo-finsam-2026"

_F = Forbund.__table__  # type: ignore[attr-defined]
_P = Person.__table__  # type: ignore[attr-defined]
_C = PasswordCredential.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class DemoLogin:
    forbund: str
    role: Role
    email: str


_AKST = {
    Role.HANDLAGGARE: "handlaggare",
    Role.BEREDNINGSGRUPP: "beredning.kungalv",
    Role.FORBUNDSCHEF: "chef",
    Role.STYRELSE_LEDAMOT: "ledamot.fk",
    Role.STYRELSE_ORDFORANDE: "ordforande",
    Role.STYRELSE_ERSATTARE: "ersattare.ale",
    Role.SEKRETERARE: "sekreterare",
    Role.PROJEKTAGARE: "projektagare",
    Role.ADMIN: "admin",
}
_NV = {
    Role.HANDLAGGARE: "handlaggare",
    Role.BEREDNINGSGRUPP: "beredning.fk",
    Role.FORBUNDSCHEF: "samordnare",
    Role.STYRELSE_LEDAMOT: "ledamot.fk",
    Role.STYRELSE_ORDFORANDE: "ordforande",
    Role.STYRELSE_ERSATTARE: "ersattare.fagersta",
    Role.SEKRETERARE: "sekreterare",
    Role.PROJEKTAGARE: "projektagare",
    Role.ADMIN: "admin",
}

DEMO_LOGINS: list[DemoLogin] = [
    *(DemoLogin("akst", role, f"{local}@akst.example") for role, local in _AKST.items()),
    *(DemoLogin("nv", role, f"{local}@nv.example") for role, local in _NV.items()),
]


def demo_login(role: Role | str, forbund: str = "akst") -> DemoLogin:
    return next(x for x in DEMO_LOGINS if x.role == Role(role) and x.forbund == forbund)


def set_demo_passwords(app: App, forbund: str) -> int:
    """Give the förbund's demo logins the demo password (one hash for all: it is one
    password); each is an access event done by the demo. How many were set."""
    hashed = passwords.hash_password(DEMO_PASSWORD, app)
    now = app.clock()
    count = 0
    with app.db.transaction() as session:
        forbund_row = session.execute(select(Forbund).where(_F.c.slug == forbund)).scalar_one()
        for login in DEMO_LOGINS:
            if login.forbund != forbund:
                continue
            person = session.execute(
                select(Person).where(_P.c.forbund_id == forbund_row.id, _P.c.email == login.email)
            ).scalar_one_or_none()
            if person is None or session.get(PasswordCredential, person.id) is not None:
                continue
            passwords.store(session, person.id, hashed, now)  # type: ignore[arg-type]
            events.record(
                session,
                forbund_id=forbund_row.id,  # type: ignore[arg-type]
                person_id=person.id,  # type: ignore[arg-type]
                email=person.email,
                name=person.name,
                trigger=events.BYT_LOSENORD,
                now=now,
                comment=f"demolösenord för {person.name}",
                by="finsam demo",
            )
            count += 1
    return count


def demo_logins_present(app: App) -> list[DemoLogin]:
    """The demo logins this database has (with a password), in order."""
    with app.db.reading() as session:
        rows = session.execute(
            select(_F.c.slug, _P.c.email)
            .join(_P, _P.c.forbund_id == _F.c.id)
            .join(_C, _C.c.person_id == _P.c.id)
        ).all()
    present = {(slug, email) for slug, email in rows}
    return [x for x in DEMO_LOGINS if (x.forbund, x.email) in present]
