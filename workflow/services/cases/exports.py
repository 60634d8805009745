"""The case list's files as rows: one per case of a filter, in list order, the values of
COLUMNS (workflow/web/exports.py makes them CSV or XLSX).

    iter_rows(app, forbund=..., filters=CaseFilter(...))  -> Iterator[list[Value]]

The same rows as the views (views.py: CaseView, iter_cases) would give, made without them:
plain Core rows of the columns the files show, read a batch at a time in one snapshot, the
labels (states, inriktningar, recommendations, party names) looked up in small dicts read
once, the batch's parties and project owners in one query each. A view object per case cost
about 150 µs of CPU, most of the export (README, "Ärendelistan").
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Select, select

from workflow.app import App
from workflow.clock import local
from workflow.models import InsatsParty, Party, Person
from workflow.services.cases.records import INSATS_TABLE, SUBJECT
from workflow.services.cases.views import DNR_ORDER, CaseFilter, filter_conditions, filter_forbund
from workflow.vocabulary import inriktning_label, recommendation_label

Value = str | int | date | datetime | None

# The files' columns, in order. Times are local, to the minute in CSV (web/exports.py).
COLUMNS = [
    "Diarienummer",
    "Titel",
    "Tillstånd",
    "Inriktning",
    "Insatsägare",
    "Parter",
    "Projektägare",
    "Startdatum",
    "Slutdatum",
    "Sökt budget totalt (tkr)",
    "Sökt budget per år (tkr)",
    "Rekommendation",
    "Beslutsparagraf",
    "Senast ändrad",
]

_INSATS = INSATS_TABLE
_INSATS_PARTY = InsatsParty.__table__  # type: ignore[attr-defined]
_PARTY = Party.__table__  # type: ignore[attr-defined]
_PERSON = Person.__table__  # type: ignore[attr-defined]

_ROW = (
    _INSATS.c.id,
    _INSATS.c.dnr,
    _INSATS.c.number,
    _INSATS.c.title,
    _INSATS.c.state,
    _INSATS.c.inriktning,
    _INSATS.c.owner_party_id,
    _INSATS.c.project_owner_id,
    _INSATS.c.start_date,
    _INSATS.c.end_date,
    _INSATS.c.budget_requested,
    _INSATS.c.recommendation,
    _INSATS.c.decision_paragraph,
    _INSATS.c.updated_at,
)
BATCH = 500
_EVERY_CASE = CaseFilter()


class _Labels(dict[Any, str]):
    """A label function's answers, each value asked once."""

    def __init__(self, label: Any) -> None:
        super().__init__()
        self._label = label

    def __missing__(self, value: Any) -> str:
        found: str = self._label(value)
        self[value] = found
        return found


def iter_rows(
    app: App, *, forbund: str | None = None, filters: CaseFilter = _EVERY_CASE, batch: int = BATCH
) -> Iterator[list[Value]]:
    """Every case of the filter (rights included) as a row of COLUMNS, in list order
    (registered cases by dnr bytewise, then ideas by id: views.list_cases).

    1. In one snapshot: the filter's conditions (views.filter_conditions), the förbund's parties.
    2. The registered cases, then the ideas, streamed `batch` rows at a time.
    3. Per batch, its cases' parties and its project owners' addresses, one query each."""
    zone = app.settings.zone
    lifecycle = app.lifecycles[SUBJECT].lifecycle
    states = _Labels(lifecycle.label_of)
    inriktningar = _Labels(inriktning_label)
    recommendations = _Labels(recommendation_label)
    with app.db.snapshot() as session:
        organisation = filter_forbund(session, forbund, filters)
        where = filter_conditions(session, app, organisation, filters)
        connection = session.connection()
        names: dict[int, str] = _pairs(
            connection,
            select(_PARTY.c.id, _PARTY.c.name).where(_PARTY.c.forbund_id == organisation.id),
        )
        ordered = (
            select(*_ROW)
            .where(*where, _INSATS.c.dnr.is_not(None))
            .order_by(DNR_ORDER, _INSATS.c.id),
            select(*_ROW).where(*where, _INSATS.c.dnr.is_(None)).order_by(_INSATS.c.id),
        )
        for query in ordered:
            result = connection.execute(query.execution_options(yield_per=batch))
            for rows in result.partitions():
                parties = _parties(connection, rows, names)
                owners = _emails(connection, rows)
                for (
                    case_id,
                    dnr,
                    number,
                    title,
                    state,
                    inriktning,
                    owner_party_id,
                    project_owner_id,
                    start,
                    end,
                    budget,
                    recommendation,
                    paragraph,
                    updated_at,
                ) in rows:
                    requested = sorted((budget or {}).items())
                    yield [
                        dnr or f"ide-{number or case_id}",  # records.case_ref
                        title,
                        states[state],
                        inriktningar[inriktning],
                        None if owner_party_id is None else names.get(owner_party_id),
                        ", ".join(parties.get(case_id, ())),
                        None if project_owner_id is None else owners.get(project_owner_id),
                        start,
                        end,
                        sum(int(amount) for _, amount in requested),
                        "; ".join(f"{year}: {int(amount)}" for year, amount in requested),
                        recommendations[recommendation],
                        paragraph,
                        local(updated_at, zone).replace(tzinfo=None, microsecond=0),
                    ]


def _parties(
    connection: Connection, rows: Sequence[Any], names: dict[int, str]
) -> dict[int, list[str]]:
    """The names of each case's parties, by party id (as the case's page lists them). A
    party of another förbund (or an owner party) not among `names` is read and kept there."""
    links = connection.execute(
        select(_INSATS_PARTY.c.insats_id, _INSATS_PARTY.c.party_id)
        .where(_INSATS_PARTY.c.insats_id.in_([row[0] for row in rows]))
        .order_by(_INSATS_PARTY.c.insats_id, _INSATS_PARTY.c.party_id)
    ).all()
    unknown = {party_id for _, party_id in links} | {row[6] for row in rows if row[6] is not None}
    unknown -= names.keys()
    if unknown:
        names.update(
            _pairs(
                connection,
                select(_PARTY.c.id, _PARTY.c.name).where(_PARTY.c.id.in_(sorted(unknown))),
            )
        )
    found: dict[int, list[str]] = {}
    for insats_id, party_id in links:
        found.setdefault(insats_id, []).append(names[party_id])
    return found


def _emails(connection: Connection, rows: Sequence[Any]) -> dict[int, str]:
    wanted = sorted({row[7] for row in rows if row[7] is not None})
    if not wanted:
        return {}
    return _pairs(connection, select(_PERSON.c.id, _PERSON.c.email).where(_PERSON.c.id.in_(wanted)))


def _pairs(connection: Connection, query: Select[Any]) -> dict[Any, Any]:
    return {key: value for key, value in connection.execute(query)}
