"""Sortable unique job ids: 26 Crockford base32 characters, 48 bits of milliseconds then 80 bits
that are random for the first id of a millisecond and count up after it, so ids made by one
process sort in creation order (the ULID layout)."""

from __future__ import annotations

import os
import threading
import time

ID_LENGTH = 26  # characters in an id
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_BITS = 80
_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]  # every 10-bit value as two characters
_SHIFTS = tuple(range(120, -10, -10))


def _encode(value: int) -> str:
    """130 bits as 26 characters, 10 bits at a time, most significant first."""
    return "".join([_PAIRS[(value >> shift) & 1023] for shift in _SHIFTS])


class IdSource:
    """A callable making monotonic ids; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = -1
        self._last_rand = 0

    def __call__(self) -> str:
        with self._lock:
            ms = time.time_ns() // 1_000_000
            if ms <= self._last_ms:
                ms = self._last_ms
                self._last_rand += 1
            else:
                self._last_ms = ms
                self._last_rand = int.from_bytes(os.urandom(10)) >> 1
            return _encode((ms << _RANDOM_BITS) | self._last_rand)


new_id = IdSource()
