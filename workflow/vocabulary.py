"""Closed vocabularies of the domain, with the Swedish labels the UI shows (domain.md §8)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeVar


class PartyKind(StrEnum):
    FORSAKRINGSKASSAN = "forsakringskassan"
    ARBETSFORMEDLINGEN = "arbetsformedlingen"
    REGION = "region"
    KOMMUN = "kommun"


PARTY_KIND_LABELS = {
    PartyKind.FORSAKRINGSKASSAN: "Försäkringskassan",
    PartyKind.ARBETSFORMEDLINGEN: "Arbetsförmedlingen",
    PartyKind.REGION: "Region",
    PartyKind.KOMMUN: "Kommun",
}


class Role(StrEnum):
    HANDLAGGARE = "handlaggare"
    BEREDNINGSGRUPP = "beredningsgrupp"
    FORBUNDSCHEF = "forbundschef"
    STYRELSE_LEDAMOT = "styrelse_ledamot"
    STYRELSE_ORDFORANDE = "styrelse_ordforande"
    STYRELSE_ERSATTARE = "styrelse_ersattare"
    SEKRETERARE = "sekreterare"
    PROJEKTAGARE = "projektagare"
    ADMIN = "admin"


ROLE_LABELS = {
    Role.HANDLAGGARE: "handläggare",
    Role.BEREDNINGSGRUPP: "beredningsgrupp",
    Role.FORBUNDSCHEF: "förbundschef",
    Role.STYRELSE_LEDAMOT: "styrelseledamot",
    Role.STYRELSE_ORDFORANDE: "styrelsens ordförande",
    Role.STYRELSE_ERSATTARE: "ersättare i styrelsen",
    Role.SEKRETERARE: "sekreterare",
    Role.PROJEKTAGARE: "projektägare",
    Role.ADMIN: "administratör",
}


def role_label(role: str) -> str:
    try:
        return ROLE_LABELS[Role(role)]
    except ValueError:
        return role


# Who a reminder goes to besides a role: the person responsible for the case (notifications/).
RECIPIENT_LABELS = {"ansvarig": "ansvarig för ärendet"}


def recipient_label(who: str) -> str:
    """A reminder's recipient as people read it: a role's label, or 'ansvarig för ärendet'."""
    return RECIPIENT_LABELS.get(who) or role_label(who)


def roles_text(roles: frozenset[str] | set[str] | tuple[str, ...], empty: str = "ingen") -> str:
    """Roles as people read them: 'förbundschef, sekreterare'."""
    return ", ".join(sorted(role_label(r) for r in roles)) or empty


class Inriktning(StrEnum):
    """Individual-level or structural; fixed at creation in Uppföljning Finsam."""

    INDIVID = "individ"
    STRUKTUR = "struktur"


INRIKTNING_LABELS = {
    Inriktning.INDIVID: "individinriktad",
    Inriktning.STRUKTUR: "strukturövergripande",
}


def inriktning_label(value: str | None) -> str:
    if value is None:
        return ""
    try:
        return INRIKTNING_LABELS[Inriktning(value)]
    except ValueError:
        return value


class Recommendation(StrEnum):
    """What the beredningsgrupp recommends; the board decides."""

    BEVILJA = "bevilja"
    BEVILJA_MED_VILLKOR = "bevilja_med_villkor"
    KOMPLETTERA = "komplettera"
    AVSLA = "avsla"


RECOMMENDATION_LABELS = {
    Recommendation.BEVILJA: "bevilja",
    Recommendation.BEVILJA_MED_VILLKOR: "bevilja med villkor",
    Recommendation.KOMPLETTERA: "komplettera",
    Recommendation.AVSLA: "avslå",
}


def recommendation_label(value: str | None) -> str:
    if value is None:
        return ""
    try:
        return RECOMMENDATION_LABELS[Recommendation(value)]
    except ValueError:
        return value


def choices_text(labels: dict[E, str]) -> str:
    """The values one may type, each with its label: 'individ (individinriktad), ...'."""
    return ", ".join(
        value.value if label == value.value else f"{value.value} ({label})"
        for value, label in labels.items()
    )


# The statuses of records beside a case's lifecycle, as people read them (the ids are stored).
STATUS_LABELS: dict[str, dict[str, str]] = {
    "report": {
        "vantar": "väntar",
        "inkommen": "inkommen",
        "komplettering": "komplettering begärd",
        "godkand": "godkänd",
        "ersatt": "ersatt",
    },
    "agreement": {"utkast": "utkast", "undertecknat": "undertecknat", "ersatt": "ersatt"},
    "payment": {"vilande": "vilande (väntar på godkänd rapport)", "utbetald": "utbetald"},
    # A reminder, and a message in the outbox.
    "reminder": {
        "pending": "väntar",
        "sent": "skickad",
        "cancelled": "avplanerad",
        "skipped": "ingen mottagare",
        "failed": "misslyckad",
    },
    # One attempt to hand a message to the mail server.
    "delivery": {
        "delivered": "levererat",
        "retry": "inte levererat, försöks igen",
        "failed": "avvisat av servern",
    },
}


def status_label(kind: str, value: str | None) -> str:
    if value is None:
        return ""
    return STATUS_LABELS.get(kind, {}).get(value, value)


E = TypeVar("E", bound=StrEnum)


def parse_choice(kind: type[E], value: str, what: str) -> E:
    """Read a vocabulary value or name the choices in the error."""
    from workflow.errors import BadInput

    text = value.strip().lower()
    labels = _LABELS.get(kind, {})
    for member, label in labels.items():
        if text == label.casefold():
            return member  # type: ignore[return-value]
    try:
        return kind(text)
    except ValueError:
        choices = choices_text(labels) if labels else ", ".join(m.value for m in kind)
        raise BadInput(f"okänt värde {value!r} för {what}; välj bland: {choices}") from None


_LABELS: dict[type[StrEnum], dict[Any, str]] = {
    Role: ROLE_LABELS,
    Inriktning: INRIKTNING_LABELS,
    Recommendation: RECOMMENDATION_LABELS,
    PartyKind: PARTY_KIND_LABELS,
}
