"""Drive the real `jobdeck` entry point in-process (fast enough for hypothesis), and the oracle
for which payloads the documented limits accept.

`cli()` calls `jobdeck.tui.cli.main` with its own stdin, stdout and stderr and turns a usage
error's SystemExit into its exit code, exactly as the process would end. A few subprocess tests
beside these prove the same contract holds for the real process (tests/cli, tests/reliability).
"""

from __future__ import annotations

import io
import json
import math
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

from jobdeck.core.engine import MAX_PAYLOAD_BYTES, MAX_PAYLOAD_DEPTH
from jobdeck.tui.cli import main
from tests.cli.harness import Ran, assert_one_error, snapshot

__all__ = ["Ran", "accepted", "assert_one_error", "cli", "refused_cleanly", "snapshot"]


def cli(db: Path | str, *argv: str, stdin: bytes = b"") -> Ran:
    out, err = io.StringIO(), io.StringIO()
    real_stdin = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main(["--db", str(db), *argv])
            except SystemExit as exit_:  # argparse's usage errors
                code = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        sys.stdin = real_stdin
    return Ran(code, out.getvalue(), err.getvalue())


def refused_cleanly(ran: Ran, before: tuple[object, ...], db: Path | str, code: int = 2) -> str:
    """The bad-input contract: the exit code, one line, no traceback, nothing written."""
    line = assert_one_error(ran, code)
    assert ran.out == "", ran.out
    assert snapshot(db) == before
    return line


# -- the oracle: what the README's payload limits accept ---------------------------------------
def _strict(text: str) -> Any:
    def constant(name: str) -> Any:
        raise ValueError(name)

    def integer(digits: str) -> int:
        if len(digits) > 4000:
            raise ValueError("too long")
        return int(digits)

    def finite(digits: str) -> float:
        value = float(digits)
        if math.isinf(value):
            raise ValueError("too large")
        return value

    return json.loads(text, parse_constant=constant, parse_int=integer, parse_float=finite)


def _depth(value: Any) -> int:
    """Levels of containers holding the deepest value (a scalar alone is 0)."""
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _texts(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [*value, *(t for v in value.values() for t in _texts(v))]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    return [value] if isinstance(value, str) else []


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def within_limits(value: Any) -> bool:
    """A JSON object, at most 1 MiB canonical, nested at most 32 deep, every text NUL-free UTF-8."""
    if not isinstance(value, dict) or _depth(value) > MAX_PAYLOAD_DEPTH:
        return False
    if not all("\x00" not in t and _utf8(t) for t in _texts(value)):
        return False
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return len(canonical.encode("utf-8", "surrogatepass")) <= MAX_PAYLOAD_BYTES


def accepted(text: str) -> dict[str, Any] | None:
    """The payload `text` stands for if jobdeck must accept it, else None."""
    try:
        value = _strict(text)
    except (ValueError, RecursionError):
        return None
    return value if within_limits(value) else None
