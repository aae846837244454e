"""Job ids: 26 characters, the ULID layout, in creation order from one source."""

from __future__ import annotations

from jobdeck.core.ids import ID_LENGTH, IdSource, _encode


def test_each_id_is_its_milliseconds_and_counter_in_crockford_base32() -> None:
    source = IdSource()
    for _ in range(500):
        made = source()
        assert len(made) == ID_LENGTH
        assert made == _encode((source._last_ms << 80) | source._last_rand)


def test_ids_of_one_source_sort_in_creation_order_across_a_carry() -> None:
    source = IdSource()
    source()
    source._last_ms += 10**9  # the clock is far behind: the counter goes on counting
    source._last_rand = (1 << 20) - 3  # about to carry out of the last four characters
    made = [source() for _ in range(6)]
    assert made == sorted(made) and len(set(made)) == 6
    assert made[-1] == _encode((source._last_ms << 80) | source._last_rand)
