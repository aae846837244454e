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
# Ids of one millisecond count up in their last 20 bits (4 characters) and rarely change the 22
# characters before them: those are encoded once, and an id adds only its last four.
_STEM_SHIFTS = _SHIFTS[:11]
_LOW_BITS = 20


def _encode(value: int) -> str:
    """130 bits as 26 characters, 10 bits at a time, most significant first."""
    return "".join([_PAIRS[(value >> shift) & 1023] for shift in _SHIFTS])


class IdSource:
    """A callable making monotonic ids; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = -1
        self._last_rand = 0
        self._stem = ""  # the 22 characters above the low 20 bits of the last id
        self._stem_of = -1  # the bits above the low 20 that the stem encodes

    def __call__(self) -> str:
        with self._lock:
            ms = time.time_ns() // 1_000_000
            if ms <= self._last_ms:
                ms = self._last_ms
                self._last_rand += 1
            else:
                self._last_ms = ms
                self._last_rand = int.from_bytes(os.urandom(10)) >> 1
            value = (ms << _RANDOM_BITS) | self._last_rand
            if value >> _LOW_BITS != self._stem_of:
                self._stem_of = value >> _LOW_BITS
                self._stem = "".join([_PAIRS[(value >> s) & 1023] for s in _STEM_SHIFTS])
            stem = self._stem
        return stem + _PAIRS[(value >> 10) & 1023] + _PAIRS[value & 1023]


new_id = IdSource()
