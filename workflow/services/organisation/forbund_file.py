"""A whole förbund as one YAML file: reading and checking it, and writing it (the export).

The file holds the förbund's details, its parties, its people with their roles and its organs
with their members, so that a förbund can be set up without code and kept in version control
(forbund_import.py applies it). A broken file is refused before anything is written, with one
line naming the file and the key.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from sqlmodel import Session, col, select

from workflow.errors import BadInput, FinsamError
from workflow.models import Forbund, ForbundRef, Organ, Person
from workflow.models.meetings import ORGAN_NAMES, MemberRole, OrganKind
from workflow.services.organisation.forbund import (
    check_dnr_pattern,
    check_orgnr,
    check_slug,
    resolve_forbund,
)
from workflow.services.organisation.members import (
    ORDINARY,
    board_term,
    check_mandate,
    elected_in,
    member_rows,
    parse_member_role,
)
from workflow.services.organisation.organs import parse_organ_kind
from workflow.services.organisation.parties import (
    check_party_name,
    list_parties,
    parse_party_kind,
)
from workflow.services.organisation.people import (
    KEEP,
    Keep,
    check_email,
    parse_roles,
    roles_of,
)
from workflow.text_guard import check_one_line

if TYPE_CHECKING:  # only for annotations: the App imports the services' modules
    from workflow.app import App

# Roles whose members hold an elected mandate; an organ's `mandate` is theirs by default.
ELECTED = ORDINARY | {MemberRole.ERSATTARE}


# -- the file, read and checked -------------------------------------------------------------


@dataclass
class PartySpec:
    key: str
    name: str
    kind: str


@dataclass
class PersonSpec:
    key: str
    email: str
    name: str | None
    roles: list[str] | None
    party: str | Keep | None
    active: bool | None


Mandate = tuple[date | None, date | None]


@dataclass
class MemberSpec:
    key: str
    email: str
    role: MemberRole
    order: int | None
    party: str | Keep | None
    mandate: Mandate | Keep


@dataclass
class OrganSpec:
    key: str
    kind: OrganKind
    name: str
    members: list[MemberSpec] | None


@dataclass
class ForbundFile:
    path: Path
    slug: str
    name: str
    orgnr: str | Keep | None
    dnr_pattern: str | None
    parties: list[PartySpec] = field(default_factory=list)
    people: list[PersonSpec] = field(default_factory=list)
    organs: list[OrganSpec] = field(default_factory=list)


class Reader:
    """Checks one file; every failure names the file and the key."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, problem: str) -> BadInput:
        return BadInput(f"{self.path}: {key}: {problem}")

    @contextmanager
    def at(self, key: str) -> Iterator[None]:
        """A rule's own one-line refusal, prefixed with the file and the key."""
        try:
            yield
        except FinsamError as error:
            raise type(error)(f"{self.path}: {key}: {error}") from None

    def mapping(self, value: Any, key: str, allowed: set[str], required: set[str]) -> dict:
        """A mapping with only known keys and every required one; key "" is the whole file."""

        def inner(name: str) -> str:
            return f"{key}.{name}" if key else name

        if not isinstance(value, dict):
            raise self.fail(key or "(filen)", "ska vara en mappning (nyckel: värde)")
        unknown = sorted(str(k) for k in value if k not in allowed)
        if unknown:
            raise self.fail(inner(unknown[0]), f"okänd nyckel; kända: {', '.join(sorted(allowed))}")
        for name in sorted(required):
            if value.get(name) is None:
                raise self.fail(inner(name), "saknas")
        return value

    def items(self, value: Any, key: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(key, "ska vara en lista")
        return value

    def text(self, value: Any, key: str) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self.fail(key, "ska vara text")
        with self.at(key):
            return check_one_line(str(value), "värdet")

    def optional_text(self, spec: dict, name: str, key: str) -> str | Keep | None:
        if name not in spec:
            return KEEP
        return None if spec[name] is None else self.text(spec[name], f"{key}.{name}")

    def day(self, value: Any, key: str) -> date | None:
        if value is None or isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value).strip())
        except ValueError:
            raise self.fail(key, f"{value!r} är inget datum; skriv ÅÅÅÅ-MM-DD") from None

    def mandate(self, value: Any, key: str) -> Mandate:
        if value is None:
            return None, None
        spec = self.mapping(value, key, {"elected", "from", "to"}, set())
        if "elected" in spec:
            if "from" in spec or "to" in spec:
                raise self.fail(key, "ange antingen elected (valår) eller from/to")
            year = spec["elected"]
            if isinstance(year, bool) or not isinstance(year, int) or not 1990 < year < 2100:
                raise self.fail(f"{key}.elected", f"{year!r} är inget valår; skriv t.ex. 2022")
            return board_term(year)
        start, end = (
            self.day(spec.get("from"), f"{key}.from"),
            self.day(spec.get("to"), f"{key}.to"),
        )
        with self.at(key):
            return check_mandate(start, end)


def _unique(reader: Reader, values: list[tuple[str, str]], what: str) -> None:
    counts = Counter(v.lower() for _, v in values)
    for key, value in values:
        if counts[value.lower()] > 1:
            raise reader.fail(key, f"{what} {value!r} står mer än en gång i filen")


def read_file(path: Path) -> ForbundFile:
    """Read and check the whole file before anything is written."""
    reader = Reader(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(f"{path}: filen finns inte") from None
    except UnicodeDecodeError:
        raise BadInput(f"{path}: filen är inte UTF-8-text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"rad {mark.line + 1}" if mark is not None else "(okänd rad)"
        problem = getattr(exc, "problem", None) or "ogiltig YAML"
        raise BadInput(f"{path}: {where}: ogiltig YAML ({problem})") from None
    doc = reader.mapping(raw, "", {"forbund", "parties", "people", "organs"}, {"forbund"})
    head = reader.mapping(
        doc["forbund"], "forbund", {"slug", "name", "orgnr", "dnr_pattern"}, {"slug", "name"}
    )
    with reader.at("forbund.slug"):
        slug = check_slug(reader.text(head["slug"], "forbund.slug"))
    orgnr = reader.optional_text(head, "orgnr", "forbund")
    if isinstance(orgnr, str):
        with reader.at("forbund.orgnr"):
            orgnr = check_orgnr(orgnr)
    dnr_pattern = None
    if head.get("dnr_pattern") is not None:
        with reader.at("forbund.dnr_pattern"):
            dnr_pattern = check_dnr_pattern(reader.text(head["dnr_pattern"], "forbund.dnr_pattern"))
    result = ForbundFile(path, slug, reader.text(head["name"], "forbund.name"), orgnr, dnr_pattern)
    result.parties = [
        _party(reader, i, p) for i, p in enumerate(reader.items(doc.get("parties"), "parties"))
    ]
    result.people = [
        _person(reader, i, p) for i, p in enumerate(reader.items(doc.get("people"), "people"))
    ]
    result.organs = [
        _organ(reader, i, o) for i, o in enumerate(reader.items(doc.get("organs"), "organs"))
    ]
    _unique(reader, [(f"{p.key}.name", p.name) for p in result.parties], "parten")
    _unique(reader, [(f"{p.key}.email", p.email) for p in result.people], "e-postadressen")
    _unique(reader, [(f"{o.key}.name", o.name) for o in result.organs], "organet")
    for organ in result.organs:
        _unique(reader, [(f"{m.key}.email", m.email) for m in organ.members or []], "ledamoten")
    return result


def _party(reader: Reader, index: int, raw: Any) -> PartySpec:
    key = f"parties[{index}]"
    spec = reader.mapping(raw, key, {"name", "kind"}, {"name", "kind"})
    with reader.at(f"{key}.name"):
        name = check_party_name(reader.text(spec["name"], f"{key}.name"))
    key = f"{key} ({name})"
    with reader.at(f"{key}.kind"):
        kind = parse_party_kind(reader.text(spec["kind"], f"{key}.kind")).value
    return PartySpec(key, name, kind)


def _person(reader: Reader, index: int, raw: Any) -> PersonSpec:
    key = f"people[{index}]"
    spec = reader.mapping(raw, key, {"email", "name", "roles", "party", "active"}, {"email"})
    with reader.at(f"{key}.email"):
        email = check_email(reader.text(spec["email"], f"{key}.email"))
    key = f"{key} ({email})"
    name = None if spec.get("name") is None else reader.text(spec["name"], f"{key}.name")
    roles = None
    if "roles" in spec:
        listed = reader.items(spec["roles"], f"{key}.roles")
        for position, role in enumerate(listed):
            with reader.at(f"{key}.roles[{position}]"):
                parse_roles([reader.text(role, f"{key}.roles[{position}]")])
        roles = parse_roles(str(r) for r in listed)
    active = spec.get("active")
    if active is not None and not isinstance(active, bool):
        raise reader.fail(f"{key}.active", "ska vara true eller false")
    return PersonSpec(key, email, name, roles, reader.optional_text(spec, "party", key), active)


def _organ(reader: Reader, index: int, raw: Any) -> OrganSpec:
    key = f"organs[{index}]"
    spec = reader.mapping(raw, key, {"kind", "name", "mandate", "members"}, {"kind"})
    with reader.at(f"{key}.kind"):
        kind = parse_organ_kind(reader.text(spec["kind"], f"{key}.kind"))
    name = (
        ORGAN_NAMES[kind] if spec.get("name") is None else reader.text(spec["name"], f"{key}.name")
    )
    key = f"{key} ({name})"
    default: Mandate | Keep = (
        reader.mandate(spec["mandate"], f"{key}.mandate") if "mandate" in spec else KEEP
    )
    members = None
    if "members" in spec:
        members = [
            _member(reader, f"{key}.members[{i}]", m, default)
            for i, m in enumerate(reader.items(spec["members"], f"{key}.members"))
        ]
    return OrganSpec(key, kind, name, members)


def _member(reader: Reader, key: str, raw: Any, default: Mandate | Keep) -> MemberSpec:
    spec = reader.mapping(
        raw, key, {"email", "role", "order", "party", "mandate"}, {"email", "role"}
    )
    with reader.at(f"{key}.email"):
        email = check_email(reader.text(spec["email"], f"{key}.email"))
    key = f"{key} ({email})"
    with reader.at(f"{key}.role"):
        role = parse_member_role(reader.text(spec["role"], f"{key}.role"))
    order = spec.get("order")
    if order is not None:
        if isinstance(order, bool) or not isinstance(order, int) or order < 1:
            raise reader.fail(f"{key}.order", f"{order!r}: ersättarordningen ska vara 1, 2, ...")
        if role != MemberRole.ERSATTARE:
            raise reader.fail(f"{key}.order", "ordningen gäller bara ersättare")
    if "mandate" in spec:
        mandate: Mandate | Keep = reader.mandate(spec["mandate"], f"{key}.mandate")
    else:
        mandate = default if role in ELECTED else KEEP
    return MemberSpec(key, email, role, order, reader.optional_text(spec, "party", key), mandate)


# -- the export -----------------------------------------------------------------------------


def export_data(session: Session, forbund: ForbundRef) -> dict[str, Any]:
    """The förbund as the file describes it; importing it changes nothing."""
    row = session.get(Forbund, forbund.id)
    assert row is not None  # resolved in this very read
    parties = list_parties(session, row)
    party_names = {p.id: p.name for p in parties}
    people = list(
        session.exec(select(Person).where(Person.forbund_id == row.id).order_by(col(Person.id)))
    )
    emails = {p.id: p for p in people}
    head: dict[str, Any] = {"slug": row.slug, "name": row.name}
    if row.orgnr:
        head["orgnr"] = row.orgnr
    head["dnr_pattern"] = row.dnr_pattern
    data: dict[str, Any] = {
        "forbund": head,
        "parties": [_Line(name=p.name, kind=p.kind) for p in parties],
        "people": [_person_data(session, p, party_names) for p in people],
        "organs": [],
    }
    for organ in session.exec(
        select(Organ).where(Organ.forbund_id == row.id).order_by(col(Organ.id))
    ):
        data["organs"].append(_organ_data(session, organ, emails, party_names))
    return data


def _person_data(session: Session, person: Person, party_names: dict[Any, str]) -> dict[str, Any]:
    entry: dict[str, Any] = _Line(email=person.email, name=person.name)
    if person.party_id:
        entry["party"] = party_names[person.party_id]
    entry["roles"] = roles_of(session, person)
    if person.deactivated_at is not None:
        entry["active"] = False
    return entry


def _mandate_data(start: date | None, end: date | None) -> dict[str, Any] | None:
    if start is None and end is None:
        return None
    elected = elected_in(start, end)
    if elected is not None:
        return _Line(elected=elected)
    return _Line((k, v) for k, v in (("from", start), ("to", end)) if v is not None)


def _organ_data(
    session: Session, organ: Organ, people: dict[Any, Person], party_names: dict[Any, str]
) -> dict[str, Any]:
    rows = [m for m, _ in member_rows(session, organ)]
    terms = Counter(
        (m.mandate_from, m.mandate_to)
        for m in rows
        if MemberRole(m.role) in ELECTED and (m.mandate_from or m.mandate_to)
    )
    common = terms.most_common(1)[0][0] if terms else None
    entry: dict[str, Any] = {"kind": organ.kind, "name": organ.name}
    if common is not None:
        entry["mandate"] = _mandate_data(*common)
    members = []
    for member in rows:
        item: dict[str, Any] = _Line(email=people[member.person_id].email, role=member.role)
        if member.position is not None:
            item["order"] = member.position
        if member.party_id is not None:
            item["party"] = party_names[member.party_id]
        term = (member.mandate_from, member.mandate_to)
        inherits = common is not None and MemberRole(member.role) in ELECTED
        if (inherits and term != common) or (not inherits and (term[0] or term[1])):
            item["mandate"] = _mandate_data(*term)
        members.append(item)
    entry["members"] = members
    return entry


class _Line(dict[str, Any]):
    """A mapping the export writes on one line: a party, a person, a member, a mandate."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _Line, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data, True)
)


def export_forbund(app: App, forbund: str | None = None) -> str:
    """The förbund as YAML text, ready for `finsam forbund import`."""
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        data = export_data(session, organisation)
    text = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=120)
    return (
        f"# Förbundet {organisation.slug}, skrivet av 'finsam forbund export'. Läs in med\n"
        f"# 'finsam forbund import FIL --as EMAIL'; en ändring här blir en ändring i förbundet.\n"
        f"{text}"
    )
