"""OpenTelemetry spans for submits, attempts and durable steps, when `opentelemetry-api` is
installed (`pip install jobdeck[otel]`); without it nothing of OpenTelemetry is imported and
every function here hands back one shared do-nothing object.

- A submit is a span `jobdeck.submit <kind>` (kind PRODUCER). Its W3C traceparent is stored
  with each job it makes (`Job.trace_context`), so it crosses processes and hosts with the row.
- Each attempt is a span `jobdeck.run <kind>` (kind CONSUMER) with a *link* to the submit's
  span, not a parent: an attempt runs later than its request, perhaps more than once. It holds
  the job's id, kind and attempt number, and how the attempt ended (outcome, reason code); a
  failed or retried attempt has the error status.
- Each durable step is a span `jobdeck.step <name>`, a child of its attempt's.

The spans go to the global tracer provider (whatever the program configured with the SDK), or
to the one given to `configure`. With the API installed but no SDK configured, the spans are
OpenTelemetry's non-recording ones: no traceparent is stored and little is spent.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

from jobdeck.core.contract import Job, Outcome, Reason

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer, TracerProvider

TRACER_NAME: Final = "jobdeck"
# The attribute names every span of jobdeck uses.
JOB_ID: Final = "jobdeck.job.id"
JOB_KIND: Final = "jobdeck.job.kind"
JOB_COUNT: Final = "jobdeck.job.count"
ATTEMPT: Final = "jobdeck.attempt"
OUTCOME: Final = "jobdeck.outcome"
REASON_CODE: Final = "jobdeck.reason.code"
STEP_NAME: Final = "jobdeck.step.name"
TRACEPARENT: Final = "traceparent"

_UNSET: Final = object()
_found: object = _UNSET  # True or False once looked for
_provider: TracerProvider | None = None
_tracer: Tracer | None = None


def enabled() -> bool:
    """Whether `opentelemetry-api` is installed; looked for once, by finding (not importing)
    its package, and imported only then."""
    global _found
    if _found is _UNSET:
        _found = importlib.util.find_spec("opentelemetry") is not None and _importable()
    return _found is True


def _importable() -> bool:
    try:
        import opentelemetry.trace  # noqa: F401
        from opentelemetry.trace.propagation.tracecontext import (  # noqa: F401
            TraceContextTextMapPropagator,
        )
    except ImportError:
        return False
    return True


def configure(provider: TracerProvider | None) -> None:
    """Send jobdeck's spans to `provider` instead of the global tracer provider (None: back to
    the global one). For a program that keeps a provider of its own, and for tests."""
    global _provider, _tracer
    _provider, _tracer = provider, None


def _get_tracer() -> Tracer:
    global _tracer
    if _tracer is None:
        from opentelemetry import trace

        from jobdeck import __version__

        source = _provider if _provider is not None else trace.get_tracer_provider()
        _tracer = source.get_tracer(TRACER_NAME, __version__)
    return _tracer


class _Quiet:
    """What every function answers when OpenTelemetry is not installed: a context manager and
    a submit handle that do nothing."""

    traceparent: str | None = None

    def __enter__(self) -> _Quiet:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: object
    ) -> None:
        return None

    def stored(self, jobs: Sequence[Job]) -> None:
        return None


QUIET: Final = _Quiet()


class _Span:
    """A span made current for a `with` block and ended when it closes. An exception (other
    than a cancellation, which is how a worker stops an attempt) is recorded and sets the error
    status."""

    def __init__(self, span: Span) -> None:
        from opentelemetry import trace

        self.span = span
        self._use = trace.use_span(
            span, end_on_exit=True, record_exception=False, set_status_on_exception=False
        )

    def __enter__(self) -> _Span:
        self._use.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if error is not None and isinstance(error, Exception) and self.span.is_recording():
            from opentelemetry.trace import Status, StatusCode

            self.span.record_exception(error)
            self.span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
        self._use.__exit__(kind, error, tb)


class Submit(_Span):
    """The span of one submit: `traceparent` is what to store with the jobs it makes."""

    def __init__(self, span: Span) -> None:
        super().__init__(span)
        self.traceparent: str | None = None

    def __enter__(self) -> Submit:
        super().__enter__()
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        carrier: dict[str, str] = {}
        TraceContextTextMapPropagator().inject(carrier)  # nothing for a non-recording span
        self.traceparent = carrier.get(TRACEPARENT)
        return self

    def stored(self, jobs: Sequence[Job]) -> None:
        """Name the stored jobs on the span: the id of a single one, the count of a batch."""
        if not self.span.is_recording():
            return
        self.span.set_attribute(JOB_COUNT, len(jobs))
        if len(jobs) == 1:
            self.span.set_attribute(JOB_ID, jobs[0].id)


def submit_span(kind: str) -> Submit | _Quiet:
    """A span around one submit (of one job or a batch) of `kind`; use it as a context manager
    and pass its `traceparent` to the jobs it makes, then `stored(jobs)`."""
    if not enabled():
        return QUIET
    from opentelemetry.trace import SpanKind

    span = _get_tracer().start_span(
        f"jobdeck.submit {kind}", kind=SpanKind.PRODUCER, attributes={JOB_KIND: kind}
    )
    return Submit(span)


def attempt_span(job: Job) -> _Span | _Quiet:
    """A span around one attempt of a claimed job (attempt number already counted), linked to
    the span that submitted it when the job holds its trace context."""
    if not enabled():
        return QUIET
    from opentelemetry.trace import Link, SpanKind

    links = []
    submitted = _span_context(job.trace_context)
    if submitted is not None:
        links.append(Link(submitted))
    span = _get_tracer().start_span(
        f"jobdeck.run {job.kind}",
        kind=SpanKind.CONSUMER,
        links=links,
        attributes={JOB_ID: job.id, JOB_KIND: job.kind, ATTEMPT: job.attempt},
    )
    return _Span(span)


def attempt_ended(outcome: Outcome | None, reason: Reason | None) -> None:
    """Record on the current attempt's span how it ended; a failed or retried attempt (or a
    lost lease) has the error status, with the reason's message."""
    if not enabled():
        return
    from opentelemetry import trace
    from opentelemetry.trace import Status, StatusCode

    span = trace.get_current_span()
    if not span.is_recording():
        return
    attributes: dict[str, Any] = {}
    if outcome is not None:
        attributes[OUTCOME] = outcome.value
    if reason is not None:
        attributes[REASON_CODE] = reason.code
    span.set_attributes(attributes)
    if outcome in (Outcome.FAILED, Outcome.RETRY, Outcome.LOST_LEASE):
        message = reason.message if reason is not None else outcome.value if outcome else ""
        span.set_status(Status(StatusCode.ERROR, message))


def step_span(job: Job, name: str) -> _Span | _Quiet:
    """A span around one durable step of the current attempt (its child)."""
    if not enabled():
        return QUIET
    span = _get_tracer().start_span(
        f"jobdeck.step {name}",
        attributes={JOB_ID: job.id, JOB_KIND: job.kind, ATTEMPT: job.attempt, STEP_NAME: name},
    )
    return _Span(span)


def _span_context(traceparent: str | None) -> Any:
    """The span context a stored traceparent names, or None for none or a malformed one."""
    if not traceparent:
        return None
    from opentelemetry import trace
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    context = TraceContextTextMapPropagator().extract({TRACEPARENT: traceparent})
    found = trace.get_current_span(context).get_span_context()
    return found if found.is_valid else None


__all__ = [
    "QUIET",
    "Submit",
    "attempt_ended",
    "attempt_span",
    "configure",
    "enabled",
    "step_span",
    "submit_span",
]
