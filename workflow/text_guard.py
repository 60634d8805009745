"""Guards on free text: no personal identity numbers, no control characters in one-liners.

The system must never hold personal data about the people an insats serves (domain.md §4, GDPR):
text that carries a valid-looking personnummer or samordningsnummer is refused.
"""

from __future__ import annotations

import re

from workflow.errors import BadInput

_PERSONNUMMER = re.compile(r"(?<!\d)(?:19|20)?(\d{2})(\d{2})(\d{2})[-+ ]?(\d{4})(?!\d)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(digits):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def contains_personnummer(text: str) -> bool:
    for match in _PERSONNUMMER.finditer(text):
        yy, mm, dd, tail = match.groups()
        day = int(dd) - 60 if int(dd) > 60 else int(dd)  # samordningsnummer add 60 to the day
        if 1 <= int(mm) <= 12 and 1 <= day <= 31 and _luhn_ok(yy + mm + dd + tail):
            return True
    return False


def check_free_text(value: str, label: str) -> str:
    if contains_personnummer(value):
        raise BadInput(
            f"{label} ser ut att innehålla ett personnummer; personuppgifter om deltagare "
            "får inte registreras – ta bort numret"
        )
    return value


def check_one_line(value: str, label: str, max_length: int = 200) -> str:
    """A title or name: one line of printable text (it may end up in an e-mail subject)."""
    cleaned = value.strip()
    if not cleaned:
        raise BadInput(f"{label} får inte vara tom")
    if _CONTROL.search(cleaned):
        raise BadInput(f"{label} får inte innehålla radbrytningar eller styrtecken")
    if len(cleaned) > max_length:
        raise BadInput(f"{label} är för lång (högst {max_length} tecken)")
    return check_free_text(cleaned, label)
