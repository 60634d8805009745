"""The few errors the service layer raises; the edges map them to exit codes and statuses.

Each error means one thing, and so does its exit code (the table in README.md, "Exit codes"):

| exit | HTTP | error          | meaning                                                         |
|------|------|----------------|-----------------------------------------------------------------|
| 0    | 200  |                | done                                                            |
| 1    |      | (audit verify) | the audit chain is broken                                       |
| 2    | 400  | BadInput       | bad input: unknown command, step, field or value; broken file   |
| 3    | 404  | NotFound       | no such thing, or none this person may see                      |
| 4    | 403  | NotPermitted   | this person may not: their roles or their relation to the case  |
| 5    | 409  | Conflict       | the case is not as the caller saw it: another state, or changed |
| 6    | 409  | ConditionFailed| the step's conditions do not hold: something must be supplied   |
| 7    | 503  | Unavailable    | a service outside does not answer (the mail server)             |
| 130  |      |                | interrupted (Ctrl-C)                                            |

`exit_code` and `http_status` are attributes, so an edge maps any error with one lookup and
the order of `except` clauses cannot change the answer.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    CHAIN_BROKEN = 1
    BAD_INPUT = 2
    NOT_FOUND = 3
    NOT_PERMITTED = 4
    CONFLICT = 5
    CONDITION_FAILED = 6
    UNAVAILABLE = 7
    INTERRUPTED = 130


class FinsamError(Exception):
    """Base of every error a user can cause; its message is one line in Swedish."""

    exit_code: int = ExitCode.BAD_INPUT
    http_status: int = 400


class BadInput(FinsamError):
    """The request itself is wrong: an unknown name, a malformed value, a missing argument."""

    exit_code = ExitCode.BAD_INPUT
    http_status = 400


class NotFound(FinsamError):
    """No such record in the förbund, or one the person may not see (never told apart)."""

    exit_code = ExitCode.NOT_FOUND
    http_status = 404


class NotPermitted(FinsamError):
    """The person may not do this: none of their roles allows it, or the case is not theirs."""

    exit_code = ExitCode.NOT_PERMITTED
    http_status = 403


class Conflict(FinsamError):
    """The record is not as the caller saw it: in a state where the step does not exist, or
    changed by someone else meanwhile."""

    exit_code = ExitCode.CONFLICT
    http_status = 409


class ConditionFailed(FinsamError):
    """The step exists and the person may take it, but its conditions do not hold yet; the
    message says what is missing and how to supply it."""

    exit_code = ExitCode.CONDITION_FAILED
    # The case as it stands does not allow the step (RFC 9110: a conflict with the current
    # state of the resource). 428 is the API's answer to a change without If-Match.
    http_status = 409

    def __init__(self, message: str, failures: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(message)
        # (condition name, Swedish sentence) for scripts and tests; people read the message.
        self.failures = failures


class Unavailable(FinsamError):
    """A service outside the machine (the mail server) does not answer as it should."""

    exit_code = ExitCode.UNAVAILABLE
    http_status = 503


class ChainBroken(FinsamError):
    """An audit chain does not verify, or does not match its witness (exit 1, as audit verify)."""

    exit_code = ExitCode.CHAIN_BROKEN
    http_status = 500


class DefinitionError(FinsamError):
    """A data file (lifecycle, rules, settings) is broken; start-up stops."""

    exit_code = ExitCode.BAD_INPUT
    http_status = 500
