"""jobdeck's core: the job contract, gates, retry policy, and the engine over a storage interface.

from jobdeck.core import Engine, Registry, Retryable, Terminal
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

# Names resolve on first use, so `jobdeck status` does not pay for the engine, the worker and
# the demo models it never touches.
_HOME = {
    "CONTRACT_VERSION": "contract",
    "PASS": "contract",
    "Attempt": "contract",
    "Category": "contract",
    "Event": "contract",
    "Fault": "contract",
    "Job": "contract",
    "Outcome": "contract",
    "Reason": "contract",
    "Result": "contract",
    "Status": "contract",
    "transition": "contract",
    "demo_registry": "demo",
    "Engine": "engine",
    "JobDetail": "engine",
    "InvalidInput": "errors",
    "JobdeckError": "errors",
    "NotFound": "errors",
    "StorageError": "errors",
    "StoreUnavailable": "errors",
    "TransitionError": "errors",
    "Gate": "gates",
    "GateContext": "gates",
    "deny": "gates",
    "gate": "gates",
    "AnyPayload": "registry",
    "Kind": "registry",
    "Registry": "registry",
    "RerunReport": "rerun",
    "Verdict": "rerun",
    "Backoff": "retry",
    "Policy": "retry",
    "Retryable": "retry",
    "Terminal": "retry",
    "Store": "store",
    "JobContext": "worker",
    "Worker": "worker",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'jobdeck.core' has no attribute {name!r}")
    return getattr(import_module(f"jobdeck.core.{home}"), name)


if TYPE_CHECKING:
    from jobdeck.core.contract import (
        CONTRACT_VERSION,
        PASS,
        Attempt,
        Category,
        Event,
        Fault,
        Job,
        Outcome,
        Reason,
        Result,
        Status,
        transition,
    )
    from jobdeck.core.demo import demo_registry
    from jobdeck.core.engine import Engine, JobDetail
    from jobdeck.core.errors import (
        InvalidInput,
        JobdeckError,
        NotFound,
        StorageError,
        StoreUnavailable,
        TransitionError,
    )
    from jobdeck.core.gates import Gate, GateContext, deny, gate
    from jobdeck.core.registry import AnyPayload, Kind, Registry
    from jobdeck.core.rerun import RerunReport, Verdict
    from jobdeck.core.retry import Backoff, Policy, Retryable, Terminal
    from jobdeck.core.store import Store
    from jobdeck.core.worker import JobContext, Worker

__all__ = [
    "CONTRACT_VERSION",
    "PASS",
    "AnyPayload",
    "Attempt",
    "Backoff",
    "Category",
    "Engine",
    "Event",
    "Fault",
    "Gate",
    "GateContext",
    "InvalidInput",
    "Job",
    "JobContext",
    "JobDetail",
    "JobdeckError",
    "Kind",
    "NotFound",
    "Outcome",
    "Policy",
    "Reason",
    "Registry",
    "RerunReport",
    "Result",
    "Retryable",
    "Status",
    "StorageError",
    "Store",
    "StoreUnavailable",
    "Terminal",
    "TransitionError",
    "Verdict",
    "Worker",
    "demo_registry",
    "deny",
    "gate",
    "transition",
]
