"""The few errors the service layer raises; the edges map them to exit codes and statuses."""


class FinsamError(Exception):
    """Base of every error a user can cause; its message is one line in Swedish."""

    exit_code = 1


class BadInput(FinsamError):
    exit_code = 2


class NotFound(FinsamError):
    exit_code = 3


class NotPermitted(FinsamError):
    exit_code = 4


class Conflict(FinsamError):
    exit_code = 5


class ChainBroken(FinsamError):
    """An audit chain does not verify, or does not match its witness (exit 1, as audit verify)."""

    exit_code = 1


class Unavailable(FinsamError):
    """Something outside the application cannot be reached now (the SMTP relay); try later."""

    exit_code = 6


class DefinitionError(FinsamError):
    """A data file (lifecycle, rules, settings) is broken; start-up stops."""

    exit_code = 2
