"""Gates are pure, ordered, and the first failing one is the only reason."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from jobdeck.core.contract import PASS, Category
from jobdeck.core.demo import demo_registry
from jobdeck.core.gates import GateContext, deny, first_failure, gate

CTX = GateContext(kind="demo.charge", now=0.0)
CHARGE = demo_registry().get("demo.charge")


def test_a_valid_charge_passes_every_gate() -> None:
    assert first_failure(CHARGE.gates, {"id": "c1", "amount": 5, "currency": "EUR"}, CTX).ok


def test_schema_gate_names_the_field_and_runs_first() -> None:
    result = first_failure(CHARGE.gates, {"amount": "lots", "currency": "EUR"}, CTX)
    assert result.reason is not None
    assert (result.reason.code, result.reason.gate) == ("invalid_payload", "schema")
    assert result.reason.evidence["field"] == "amount"
    assert result.reason.category is Category.DENIED


def test_missing_id_is_denied_by_its_policy_gate() -> None:
    result = first_failure(CHARGE.gates, {"amount": 5, "currency": "EUR"}, CTX)
    assert result.reason is not None and result.reason.code == "missing_id"
    assert result.reason.gate == "missing_id" and not result.reason.retryable


def test_the_first_failing_gate_wins_when_several_would_fail() -> None:
    # no id AND over the limit: missing_id comes first in the kind's gate list
    result = first_failure(CHARGE.gates, {"amount": 10**9, "currency": "EUR"}, CTX)
    assert result.reason is not None and result.reason.code == "missing_id"


def test_amount_limit_reports_the_limit_as_evidence() -> None:
    result = first_failure(CHARGE.gates, {"id": "x", "amount": 10**6, "currency": "EUR"}, CTX)
    assert result.reason is not None and result.reason.code == "amount_over_limit"
    assert result.reason.evidence["limit"] == 10_000


def test_gates_after_the_first_failure_do_not_run() -> None:
    ran: list[str] = []

    @gate("a")
    def a(payload: Any, ctx: GateContext) -> Any:
        ran.append("a")
        return deny("a", "nope", "No.")

    @gate("b")
    def b(payload: Any, ctx: GateContext) -> Any:
        ran.append("b")
        return PASS

    assert first_failure([a, b], {}, CTX).reason.code == "nope"  # type: ignore[union-attr]
    assert ran == ["a"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)


@given(st.dictionaries(st.sampled_from(["id", "amount", "currency", "x"]), json_values))
def test_gates_are_pure_same_input_same_answer(payload: dict[str, Any]) -> None:
    before = repr(payload)
    first = first_failure(CHARGE.gates, payload, CTX)
    second = first_failure(CHARGE.gates, payload, CTX)
    assert first == second
    assert repr(payload) == before  # no gate mutated the payload
    if not first.ok:
        assert first.reason is not None and first.reason.category is Category.DENIED
