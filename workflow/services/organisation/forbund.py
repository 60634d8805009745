"""Förbund: creating one, and finding the one a command is about. Several förbund share a
database, fully apart: every row belongs to exactly one förbund.
"""

from __future__ import annotations

import re
import string
from datetime import datetime

from sqlalchemy import bindparam
from sqlmodel import Session, select

from workflow.errors import BadInput, NotFound
from workflow.models import Forbund, ForbundRow, Person
from workflow.text_guard import check_one_line


def check_dnr_pattern(pattern: str) -> str:
    """A pattern may use {year} and {seq} (with format specs such as {seq:03d}), and needs {seq}."""
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(pattern) if name is not None}
        unknown = fields - {"year", "seq"}
        if unknown:
            raise BadInput(
                f"diarienummermönstret {pattern!r} har okända fält {sorted(unknown)}; "
                "använd {year} och {seq}"
            )
        if "seq" not in fields:
            raise BadInput(f"diarienummermönstret {pattern!r} saknar {{seq}}")
        pattern.format(year=2000, seq=1)
    except (ValueError, IndexError) as exc:
        raise BadInput(f"ogiltigt diarienummermönster {pattern!r}: {exc}") from None
    return pattern


_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")


def check_slug(slug: str) -> str:
    """The förbund's short name in commands and URLs: lower-case letters, digits and '-'."""
    cleaned = slug.strip()
    if not _SLUG.fullmatch(cleaned):
        raise BadInput(
            f"kortnamnet {slug!r} duger inte; använd a–z, 0–9 och '-' (högst 40 tecken), t.ex. 'nv'"
        )
    return cleaned


def check_orgnr(orgnr: str) -> str:
    """A Swedish organisationsnummer, NNNNNN-NNNN with its check digit."""
    digits = orgnr.strip().replace("-", "")
    if len(digits) != 10 or not digits.isdigit():
        raise BadInput(f"organisationsnumret {orgnr!r} ska skrivas NNNNNN-NNNN")
    total = 0
    for index, char in enumerate(digits):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    if total % 10:
        raise BadInput(f"organisationsnumret {orgnr!r} har fel kontrollsiffra")
    return f"{digits[:6]}-{digits[6:]}"


def create_forbund(
    session: Session,
    *,
    slug: str,
    name: str,
    dnr_pattern: str,
    now: datetime,
    orgnr: str | None = None,
) -> Forbund:
    """A new förbund, unaudited (organisation/admin.py records its founding)."""
    slug = check_slug(slug)
    if session.exec(select(Forbund).where(Forbund.slug == slug)).first() is not None:
        raise BadInput(f"förbundet {slug!r} finns redan")
    forbund = Forbund(
        slug=slug,
        name=check_one_line(name, "förbundets namn"),
        orgnr=check_orgnr(orgnr) if orgnr else None,
        dnr_pattern=check_dnr_pattern(dnr_pattern),
        created_at=now,
    )
    session.add(forbund)
    session.flush()
    return forbund


_FORBUND = Forbund.__table__  # type: ignore[attr-defined]


_FORBUND_COLUMNS = (_FORBUND.c.id, _FORBUND.c.slug, _FORBUND.c.name, _FORBUND.c.dnr_pattern)


# Every service call starts here, so these are prebuilt Core queries and no ORM load.
_FORBUND_BY_SLUG = select(*_FORBUND_COLUMNS).where(_FORBUND.c.slug == bindparam("slug"))


_FIRST_TWO_FORBUND = select(*_FORBUND_COLUMNS).order_by(_FORBUND.c.id).limit(2)


_SLUGS = select(_FORBUND.c.slug).order_by(_FORBUND.c.slug)


_PERSON = Person.__table__  # type: ignore[attr-defined]


# The förbund a person (an e-mail) belongs to: usually one.
_FORBUND_OF_PERSON = (
    select(*_FORBUND_COLUMNS)
    .select_from(_FORBUND.join(_PERSON, _PERSON.c.forbund_id == _FORBUND.c.id))
    .where(_PERSON.c.email == bindparam("email"))
    .order_by(_FORBUND.c.slug)
)


def resolve_forbund(
    session: Session, slug: str | None, person_email: str | None = None
) -> ForbundRow:
    """The förbund a command is about. In this order:

      1. the person's (`--as`), when that e-mail is in exactly one förbund;
      2. the förbund named (`--forbund` or FINSAM_FORBUND);
      3. the only förbund there is.

    The error lists the förbund to choose from only when the choice is truly open: several
    förbund, none named, and no person to go by (or a person in several of them).
    """
    connection = session.connection()
    if person_email:
        email = person_email.strip().lower()
        theirs = [
            ForbundRow(*row) for row in connection.execute(_FORBUND_OF_PERSON, {"email": email})
        ]
        if len(theirs) == 1:
            return theirs[0]
        if len(theirs) > 1:
            named = next((f for f in theirs if f.slug == slug), None) if slug else None
            if named is not None:
                return named
            choices = ", ".join(f.slug for f in theirs)
            if slug:
                raise NotFound(
                    f"{email} finns inte i förbundet {slug!r} utan i {choices}; välj ett av dem "
                    "med --forbund eller FINSAM_FORBUND"
                )
            raise BadInput(
                f"{email} finns i flera förbund ({choices}); välj ett med --forbund eller "
                "FINSAM_FORBUND"
            )
        if not slug and connection.execute(_FIRST_TWO_FORBUND).all()[1:]:
            # Nobody to go by and several förbund: the person is the problem, not the choice.
            raise NotFound(
                f"ingen person med e-post {email!r} i något förbund; se 'finsam people list'"
            )
    if slug:
        row = connection.execute(_FORBUND_BY_SLUG, {"slug": slug}).first()
        if row is None:
            known = ", ".join(connection.execute(_SLUGS).scalars()) or "inga"
            raise NotFound(f"inget förbund {slug!r}; kända förbund: {known}")
        return ForbundRow(*row)
    rows = connection.execute(_FIRST_TWO_FORBUND).all()
    if not rows:
        raise NotFound("databasen har inget förbund; kör 'finsam demo' för demodata")
    if len(rows) > 1:
        known = ", ".join(connection.execute(_SLUGS).scalars())
        raise BadInput(
            f"flera förbund finns ({known}); välj ett med --forbund eller FINSAM_FORBUND"
        )
    return ForbundRow(*rows[0])
