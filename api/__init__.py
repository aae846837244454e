"""jobdeck: a job engine with classified failures, reasons you can read, and a live monitor.

Everything a program needs is here::

    import jobdeck

    registry = jobdeck.Registry()
    with jobdeck.connect("jobs.db", registry=registry) as client:
        job = client.submit("email.send", {"to": "ada@example.com"})

`connect` answers a synchronous `Client` (for Django, Flask and other threaded code); `Engine`
over `open_store` is the asyncio API, and `Worker` runs the handlers. The subpackages
`jobdeck.core`, `jobdeck.storage` and `jobdeck.tui` keep their own names.
"""

from __future__ import annotations

from importlib import import_module

# `typing` itself costs more to import than the rest of this module; mypy reads this flag as
# typing.TYPE_CHECKING.
TYPE_CHECKING = False
__version__ = "0.1.0"

# Each name loads its module on first use, so `import jobdeck` costs almost nothing and never
# loads Textual, aiosqlite or asyncpg; a PostgreSQL driver loads only for a postgresql:// URL.
_HOME = {
    "Category": "jobdeck.core.contract",
    "Job": "jobdeck.core.contract",
    "PASS": "jobdeck.core.contract",
    "Reason": "jobdeck.core.contract",
    "Result": "jobdeck.core.contract",
    "Status": "jobdeck.core.contract",
    "Client": "jobdeck.core.client",
    "Engine": "jobdeck.core.engine",
    "InvalidInput": "jobdeck.core.errors",
    "JobdeckError": "jobdeck.core.errors",
    "NotFound": "jobdeck.core.errors",
    "StorageError": "jobdeck.core.errors",
    "StoreUnavailable": "jobdeck.core.errors",
    "TransitionError": "jobdeck.core.errors",
    "WaitTimeout": "jobdeck.core.errors",
    "GateContext": "jobdeck.core.gates",
    "deny": "jobdeck.core.gates",
    "gate": "jobdeck.core.gates",
    "Registry": "jobdeck.core.registry",
    "Backoff": "jobdeck.core.retry",
    "Policy": "jobdeck.core.retry",
    "Retryable": "jobdeck.core.retry",
    "Terminal": "jobdeck.core.retry",
    "JobContext": "jobdeck.core.worker",
    "Worker": "jobdeck.core.worker",
    "open_store": "jobdeck.storage",
    "connect": "jobdeck.connecting",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'jobdeck' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOME])


if TYPE_CHECKING:
    from typing import Any

    from jobdeck.connecting import connect
    from jobdeck.core.client import Client
    from jobdeck.core.contract import PASS, Category, Job, Reason, Result, Status
    from jobdeck.core.engine import Engine
    from jobdeck.core.errors import (
        InvalidInput,
        JobdeckError,
        NotFound,
        StorageError,
        StoreUnavailable,
        TransitionError,
        WaitTimeout,
    )
    from jobdeck.core.gates import GateContext, deny, gate
    from jobdeck.core.registry import Registry
    from jobdeck.core.retry import Backoff, Policy, Retryable, Terminal
    from jobdeck.core.worker import JobContext, Worker
    from jobdeck.storage import open_store

__all__ = [
    "PASS",
    "Backoff",
    "Category",
    "Client",
    "Engine",
    "GateContext",
    "InvalidInput",
    "Job",
    "JobContext",
    "JobdeckError",
    "NotFound",
    "Policy",
    "Reason",
    "Registry",
    "Result",
    "Retryable",
    "Status",
    "StorageError",
    "StoreUnavailable",
    "Terminal",
    "TransitionError",
    "WaitTimeout",
    "Worker",
    "__version__",
    "connect",
    "deny",
    "gate",
    "open_store",
]
