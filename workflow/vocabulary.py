"""Closed vocabularies of the domain, with the Swedish labels the UI shows (domain.md §8)."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar


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


class Inriktning(StrEnum):
    """Individual-level or structural; fixed at creation in Uppföljning Finsam."""

    INDIVID = "individ"
    STRUKTUR = "struktur"


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
    return "" if value is None else RECOMMENDATION_LABELS.get(Recommendation(value), value)


E = TypeVar("E", bound=StrEnum)


def parse_choice(kind: type[E], value: str, what: str) -> E:
    """Read a vocabulary value or name the choices in the error."""
    from workflow.errors import BadInput

    try:
        return kind(value.strip().lower())
    except ValueError:
        choices = ", ".join(m.value for m in kind)
        raise BadInput(f"okänt värde {value!r} för {what}; välj bland: {choices}") from None
