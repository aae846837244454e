"""The few errors jobdeck raises. Each carries one human sentence; the CLI prints it, the monitor
shows it as a notification, and neither shows a traceback unless asked to with --debug."""

from __future__ import annotations


class JobdeckError(Exception):
    """Base of every error jobdeck raises on purpose. `str(err)` is one sentence for a person."""

    exit_code = 1


class InvalidInput(JobdeckError):
    """The caller gave something jobdeck cannot accept (bad JSON, a bad flag value, ...)."""

    exit_code = 2


class NotFound(JobdeckError):
    """An unknown job id, kind, or handler module."""

    exit_code = 3


class TransitionError(JobdeckError):
    """A status change the transition table does not allow, or a compare-and-set that lost."""

    exit_code = 4


class StorageError(JobdeckError):
    """The database cannot be opened, read or written (locked past the bound, newer schema, ...)."""

    exit_code = 5


class StoreUnavailable(StorageError):
    """The database cannot be reached for now: the server is down or restarting, or it dropped
    the connection. Nothing was written by the call that raised it unless it had committed
    before the connection broke; trying again once the server is back may succeed."""


class WaitTimeout(JobdeckError, TimeoutError):
    """A wait for a job to finish ran past its timeout; the job itself is unchanged."""
