"""No personal identity numbers of participants, no header tricks in one-line text."""

from __future__ import annotations

import pytest

from workflow.errors import BadInput
from workflow.text_guard import check_one_line, contains_personnummer


@pytest.mark.parametrize(
    "text",
    ["Deltagare 19121212-1212 deltar", "ring 121212-1212", "201212121212", "nr 701063-2391 sam"],
)
def test_valid_personnummer_and_samordningsnummer_are_found(text: str) -> None:
    assert contains_personnummer(text)


@pytest.mark.parametrize(
    "text", ["Budget 2013-2014 är 1500 tkr", "dnr 2012/011-01", "19121212-1213", "tel 0223-442 55"]
)
def test_dates_amounts_and_case_numbers_are_not_mistaken_for_one(text: str) -> None:
    assert not contains_personnummer(text)


def test_a_title_with_a_line_break_is_refused() -> None:
    with pytest.raises(BadInput, match="radbrytningar"):
        check_one_line("Utgångspunkten\r\nBcc: alla@example.se", "titeln")
