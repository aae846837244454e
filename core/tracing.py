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
to the one given to `configure`. With the API installed but no SDK configured, each hook stops
at one look at the global provider: no span is made and no traceparent stored.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from types import SimpleNamespace, TracebackType
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
# OpenTelemetry's names, bound once it is imported (see `enabled`).
_otel: Any = None


def enabled() -> bool:
    """Whether `opentelemetry-api` is installed; looked for once, by finding (not importing)
    its package, and imported only then."""
    global _found
    if _found is _UNSET:
        _found = importlib.util.find_spec("opentelemetry") is not None and _bind()
    return _found is True


def _bind() -> bool:
    global _otel
    try:
        from opentelemetry import trace
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
    except ImportError:
        return False
    _otel = SimpleNamespace(trace=trace, propagator=TraceContextTextMapPropagator())
    return True


def configure(provider: TracerProvider | None) -> None:
    """Send jobdeck's spans to `provider` instead of the global tracer provider (None: back to
    the global one). For a program that keeps a provider of its own, and for tests."""
    global _provider, _tracer
    _provider, _tracer = provider, None


def _get_tracer() -> Tracer | None:
    """jobdeck's tracer, or None while nothing would record a span: no provider was given and
    the program configured none (OpenTelemetry's proxy still stands in), so a span costs no
    more than this look."""
    global _tracer
    if not enabled():
        return None
    trace = _otel.trace
    if _provider is None and isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        return None
    if _tracer is None:
        from jobdeck import __version__

        source = _provider if _provider is not None else trace.get_tracer_provider()
        _tracer = source.get_tracer(TRACER_NAME, __version__)
    return _tracer


class _Quiet:
    """What every function answers when nothing would record a span (OpenTelemetry not
    installed, or no SDK configured): a context manager and a submit handle that do nothing."""

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
        self.span = span
        self._use = _otel.trace.use_span(
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
        if isinstance(error, Exception) and self.span.is_recording():
            self.span.record_exception(error)
            _error(self.span, f"{type(error).__name__}: {error}")
        self._use.__exit__(kind, error, tb)


class Submit(_Span):
    """The span of one submit: `traceparent` is what to store with the jobs it makes."""

    def __init__(self, span: Span) -> None:
        super().__init__(span)
        self.traceparent: str | None = None

    def __enter__(self) -> Submit:
        super().__enter__()
        carrier: dict[str, str] = {}
        _otel.propagator.inject(carrier)  # nothing for a span that records nothing
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
    tracer = _get_tracer()
    if tracer is None:
        return QUIET
    span = tracer.start_span(
        f"jobdeck.submit {kind}",
        kind=_otel.trace.SpanKind.PRODUCER,
        attributes={JOB_KIND: kind},
    )
    return Submit(span)


def attempt_span(job: Job) -> _Span | _Quiet:
    """A span around one attempt of a claimed job (attempt number already counted), linked to
    the span that submitted it when the job holds its trace context."""
    tracer = _get_tracer()
    if tracer is None:
        return QUIET
    submitted = _span_context(job.trace_context)
    span = tracer.start_span(
        f"jobdeck.run {job.kind}",
        kind=_otel.trace.SpanKind.CONSUMER,
        links=[] if submitted is None else [_otel.trace.Link(submitted)],
        attributes={JOB_ID: job.id, JOB_KIND: job.kind, ATTEMPT: job.attempt},
    )
    return _Span(span)


def attempt_ended(outcome: Outcome | None, reason: Reason | None) -> None:
    """Record on the current attempt's span how it ended; a failed or retried attempt (or a
    lost lease) has the error status, with the reason's message."""
    if _otel is None:
        return
    span = _otel.trace.get_current_span()
    if not span.is_recording():
        return
    attributes: dict[str, Any] = {}
    if outcome is not None:
        attributes[OUTCOME] = outcome.value
    if reason is not None:
        attributes[REASON_CODE] = reason.code
    span.set_attributes(attributes)
    if outcome in (Outcome.FAILED, Outcome.RETRY, Outcome.LOST_LEASE):
        _error(span, reason.message if reason is not None else str(outcome))


def step_span(job: Job, name: str) -> _Span | _Quiet:
    """A span around one durable step of the current attempt (its child)."""
    tracer = _get_tracer()
    if tracer is None:
        return QUIET
    span = tracer.start_span(
        f"jobdeck.step {name}",
        attributes={JOB_ID: job.id, JOB_KIND: job.kind, ATTEMPT: job.attempt, STEP_NAME: name},
    )
    return _Span(span)


def _error(span: Span, message: str) -> None:
    status = _otel.trace.Status(_otel.trace.StatusCode.ERROR, message)
    span.set_status(status)


def _span_context(traceparent: str | None) -> Any:
    """The span context a stored traceparent names, or None for none or a malformed one."""
    if not traceparent:
        return None
    context = _otel.propagator.extract({TRACEPARENT: traceparent})
    found = _otel.trace.get_current_span(context).get_span_context()
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
