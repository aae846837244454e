"""Reading what a user types or pipes in: payloads, JSON Lines files, and the text checks every
argument passes. The bad-input rules of the command line live here, once."""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from jobdeck.core.retention import Retention

MAX_INT_DIGITS = 4000  # below Python's own int-parsing limit (4300 digits)


def check_text(args: argparse.Namespace) -> None:
    """Refuse arguments holding bytes that are not UTF-8 (Python hands them over as lone
    surrogates, which SQLite cannot store); the database path is the one exception, since a file
    name is bytes to the operating system."""
    from jobdeck.core.errors import InvalidInput

    for name, value in vars(args).items():
        if name in _PATHS:
            continue
        for text in value if isinstance(value, list) else [value]:
            if not isinstance(text, str):
                continue
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                positional = (args.command, name) in _POSITIONAL
                flag = _OPTIONS.get(name, f"--{name.replace('_', '-')}")
                shown = name.upper() if positional else flag
                raise InvalidInput(f"the {shown} argument is not valid UTF-8 text.") from None


_PATHS = frozenset({"db", "source"})
_POSITIONAL = frozenset(
    {
        ("submit", "kind"),
        ("submit", "payload"),
        ("show", "id"),
        ("rerun", "id"),
        ("fail", "id"),
        ("cancel", "id"),
        ("pause", "kind"),
        ("resume", "kind"),
        ("schedules", "name"),
        ("backup", "file"),
    }
)
_OPTIONS = {
    "fault_kind": "--kind",
    "cancel_kind": "--kind",
    "cancel_status": "--status",
    "worker_handlers": "--handlers",
    "from_step": "--from-step",
    "at_step": "--at-step",
}


def read_payload(text: str | None) -> Any:
    from jobdeck.core.errors import InvalidInput

    if text is None:
        return {}
    if text == "-":
        text = _read_stdin()
    try:
        return loads(text)
    except json.JSONDecodeError as err:
        raise InvalidInput(
            f"the payload is not valid JSON: {err.msg} at column {err.colno}."
        ) from None
    except ValueError as err:
        raise InvalidInput(f"the payload is not valid JSON: {err}.") from None


def loads(text: str) -> Any:
    """json.loads for strict JSON: NaN, Infinity and numbers no float or int holds are refused
    (ValueError), so nothing stored can make a later `--json` output invalid."""
    from jobdeck.core.engine import MAX_PAYLOAD_DEPTH

    # Measured before parsing: thousands of nested brackets would drive the parser into a
    # RecursionError, which Python may also report from finalizers on stderr.
    if _nesting(text) > MAX_PAYLOAD_DEPTH + 1:
        raise ValueError(f"it nests deeper than {MAX_PAYLOAD_DEPTH} levels")
    try:
        return json.loads(
            text, parse_constant=_not_a_number, parse_float=_finite, parse_int=_integer
        )
    except RecursionError:
        raise ValueError(f"it nests deeper than {MAX_PAYLOAD_DEPTH} levels") from None


_JSON_STRING = re.compile(r'"(?:\\.|[^"\\])*"')
_BRACKETS = re.compile(r"[\[\]{}]")


def _nesting(text: str) -> int:
    """The deepest bracket nesting of a JSON text, strings aside (cheap: two C-level scans)."""
    if text.count("[") + text.count("{") <= 32:
        return 0
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_JSON_STRING.sub("", text)):
        if bracket in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _not_a_number(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


def _integer(text: str) -> int:
    if len(text) > MAX_INT_DIGITS:
        raise ValueError(f"a number of {len(text):,} digits is too long")
    return int(text)


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"the number {text[:20]} is too large")
    return value


def _read_stdin() -> str:
    from jobdeck.core.errors import InvalidInput

    try:
        return sys.stdin.buffer.read().decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("standard input is not valid UTF-8.") from None


def read_lines(source: str) -> list[Any]:
    """Parse and check a whole JSON Lines input before anything is stored."""
    from jobdeck.core.engine import check_payload
    from jobdeck.core.errors import InvalidInput, NotFound

    if source == "-":
        text = _read_stdin()
    else:
        try:
            with open(source, "rb") as file:
                text = file.read().decode("utf-8")
        except FileNotFoundError:
            raise NotFound(f"no such file: {source}.") from None
        except IsADirectoryError:
            raise InvalidInput(f"{source} is a directory, not a JSON Lines file.") from None
        except UnicodeDecodeError:
            raise InvalidInput(f"{source} is not valid UTF-8.") from None
        except OSError as err:
            raise InvalidInput(f"cannot read {source}: {err.strerror}.") from None
    payloads = []
    # split("\n"), not splitlines(): JSON strings may hold U+2028 and other line breaks raw.
    for n, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            payload = loads(line)
        except json.JSONDecodeError as err:
            raise InvalidInput(
                f"line {n} is not valid JSON: {err.msg}; nothing was submitted."
            ) from None
        except ValueError as err:
            raise InvalidInput(
                f"line {n} is not valid JSON: {err}; nothing was submitted."
            ) from None
        # Checked here, not per stored batch: a bad line must stop every batch, not only its own.
        try:
            payloads.append(check_payload(payload))
        except InvalidInput as err:
            reason = str(err).rstrip(".")
            raise InvalidInput(f"line {n}: {reason}; nothing was submitted.") from None
    return payloads


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_DELAY = 100 * 365 * 86400  # a century; anything longer is a typo


def priority(text: str | None) -> int | None:
    """`--priority N`: a whole number from -100 to 100 (higher runs first), or None when not
    given. Raises InvalidInput for anything else: `x`, `1e9`, `1.5`, `101`."""
    from jobdeck.core.contract import MAX_PRIORITY, MIN_PRIORITY
    from jobdeck.core.errors import InvalidInput

    if text is None:
        return None
    if not re.fullmatch(r"[+-]?[0-9]{1,12}", text.strip()):
        raise InvalidInput(
            f"--priority must be a whole number from {MIN_PRIORITY} to {MAX_PRIORITY}, "
            f"not {text[:40]!r}."
        )
    value = int(text)
    if not MIN_PRIORITY <= value <= MAX_PRIORITY:
        raise InvalidInput(
            f"--priority must be between {MIN_PRIORITY} and {MAX_PRIORITY}, not {value}."
        )
    return value


def duration(text: str, flag: str) -> float:
    """Seconds from `90s`, `15m`, `2h`, `1d`, `1w` (or several run together: `1h30m`); raises
    InvalidInput naming `flag` for anything else: negative, unitless, or longer than a century."""
    from jobdeck.core.errors import InvalidInput

    spoken = text.strip().lower()
    total, rest = 0.0, spoken
    for match in _DURATION_PART.finditer(spoken):
        total += float(match[1]) * _UNIT_SECONDS[match[2]]
        rest = rest.replace(match[0], "", 1)
    if not spoken or rest.strip() or not math.isfinite(total):
        raise InvalidInput(
            f"{flag} wants a duration such as 90s, 15m, 2h, 1d or 1h30m, not {text!r}."
        )
    if total > MAX_DELAY:
        raise InvalidInput(f"{flag} is longer than a century: {text!r}.")
    return total


def stats_window(text: str) -> float:
    """The seconds of `stats --since`: a duration above 0 and at most 24h (the rollup keeps
    per-minute detail for a day); raises InvalidInput for anything else."""
    from jobdeck.core.errors import InvalidInput
    from jobdeck.core.system import KEEP_FOR

    seconds = duration(text, "--since")
    if seconds <= 0:
        raise InvalidInput(f"--since wants a window longer than 0, not {text!r}.")
    if seconds > KEEP_FOR:
        raise InvalidInput(
            f"--since is at most 24h: the rollup keeps per-minute detail for a day and folds "
            f"older jobs into one total per kind, not {text!r}."
        )
    return seconds


def instant(text: str, flag: str) -> float:
    """Epoch seconds from ISO 8601 with `Z` or an offset (`2026-12-01T09:00:00Z`,
    `2026-12-01T10:00+01:00`); raises InvalidInput naming `flag` for a time without a zone or
    one that is not a time."""
    from datetime import datetime

    from jobdeck.core.errors import InvalidInput

    spoken = text.strip()
    try:
        moment = datetime.fromisoformat(spoken[:-1] + "+00:00" if spoken[-1:] in "zZ" else spoken)
    except ValueError:
        raise InvalidInput(
            f"{flag} wants an ISO 8601 time with Z or an offset, such as "
            f"2026-12-01T09:00:00Z, not {text!r}."
        ) from None
    if moment.tzinfo is None:
        raise InvalidInput(
            f"{flag} {text!r} has no time zone; add Z for UTC or an offset such as +01:00."
        )
    try:
        return moment.timestamp()
    except (OverflowError, ValueError):
        raise InvalidInput(f"{flag} {text!r} is out of range.") from None


def when(args: argparse.Namespace) -> tuple[float | None, float | None]:
    """The (run_at, delay) of a submit from `--at` / `--in`; (None, None) when neither is given."""
    run_at = instant(args.run_at, "--at") if args.run_at is not None else None
    delay = duration(args.delay, "--in") if args.delay is not None else None
    return run_at, delay


def ages(args: argparse.Namespace) -> tuple[float | None, float | None]:
    """The (done, failed) ages of `prune` from `--done-older-than` / `--failed-older-than`;
    raises InvalidInput when neither is given or one is not a duration."""
    from jobdeck.core.errors import InvalidInput

    done = _age(args.done_older_than, "--done-older-than")
    failed = _age(args.failed_older_than, "--failed-older-than")
    if done is None and failed is None:
        raise InvalidInput(
            "say which jobs to prune: --done-older-than AGE, --failed-older-than AGE, or both."
        )
    return done, failed


def _age(text: str | None, flag: str) -> float | None:
    return None if text is None else duration(text, flag)


def retention(text: str) -> Retention:
    """The `worker --retention` value: `off`, or `done=AGE,failed=AGE` where AGE is a duration
    or `off` and a status left out keeps its default; raises InvalidInput for anything else."""
    from dataclasses import replace

    from jobdeck.core.errors import InvalidInput
    from jobdeck.core.retention import DEFAULT, OFF

    spoken = text.strip().lower()
    if spoken == "off":
        return OFF
    given: dict[str, float | None] = {}
    for part in spoken.split(","):
        name, equals, value = (p.strip() for p in part.partition("="))
        if name not in ("done", "failed") or not equals:
            raise InvalidInput(
                "--retention wants off, or done=AGE,failed=AGE (AGE such as 7d, or off), "
                f"not {text!r}."
            )
        if name in given:
            raise InvalidInput(f"--retention names {name} twice: {text!r}.")
        given[name] = None if value == "off" else duration(value, f"--retention {name}")
    return replace(
        DEFAULT, done=given.get("done", DEFAULT.done), failed=given.get("failed", DEFAULT.failed)
    )


def listen_address(text: str, flag: str) -> tuple[str, int]:
    """(host, port) from `HOST:PORT`, `[IPv6]:PORT` or `:PORT` (every interface); port 0 asks
    for any free one. Raises InvalidInput naming `flag` for anything else. Whether the host
    resolves and the port is free is learnt when listening (`jobdeck.core.metrics`)."""
    from jobdeck.core.errors import InvalidInput

    spoken = text.strip()
    host, colon, port = spoken.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        colon = ""  # a bare IPv6 address: its port is ambiguous
    if not colon or not port.isascii() or not port.isdigit() or "[" in host or "]" in host:
        raise InvalidInput(
            f"{flag} wants HOST:PORT, such as 127.0.0.1:9108, [::1]:9108 or :9108, not {text!r}."
        )
    if len(port.lstrip("0")) > 5 or int(port) > 65535:
        raise InvalidInput(f"{flag} names port {port}; a port is 0 to 65535.")
    return host or "0.0.0.0", int(port)
