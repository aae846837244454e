"""Payloads, property-based, through the real entry point (in-process): a PAYLOAD argument,
standard input and `submit --from` files. Whatever arrives is stored exactly as the JSON object it
is, or refused with one line, exit 2, and nothing written. The oracle is the README's limits
(tests/fuzz/driver.py `accepted`), not the code under test."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.cli.harness import query
from tests.fuzz.driver import accepted, cli, refused_cleanly, snapshot

# Every code point, lone surrogates (what undecodable bytes become) and controls included.
ANY_CHAR = st.characters(exclude_categories=())
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats()  # NaN and the infinities too: JSON has neither
    | st.text(ANY_CHAR, max_size=12)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(ANY_CHAR, max_size=6), inner, max_size=4)
    ),
    max_leaves=16,
)
OBJECTS_FIRST = st.dictionaries(st.text(ANY_CHAR, max_size=6), VALUES, max_size=4) | VALUES
FUZZ = settings(max_examples=120, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("payloads") / "jobs.db"
    assert cli(path, "submit", "demo.echo", '{"first": true}').code == 0
    return path


def stored_payload(db: Path, job_id: str) -> Any:
    (row,) = query(db, "SELECT payload FROM jobs WHERE id = ?", (job_id,))
    return json.loads(row[0])


def check_submit(db: Path, text: str, ran_for: Any) -> None:
    """Submit `text` one way or another and hold the result to the oracle."""
    expected = accepted(text)
    before = snapshot(db)
    ran = ran_for()
    if expected is None:
        refused_cleanly(ran, before, db)
        return
    assert ran.code == 0 and ran.err == "", (text, ran)
    assert stored_payload(db, ran.out.strip()) == expected


@FUZZ
@given(value=OBJECTS_FIRST, ascii_only=st.booleans(), stdin=st.booleans())
def test_any_json_value_is_stored_exactly_or_refused_in_one_line(
    db: Path, value: Any, ascii_only: bool, stdin: bool
) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)  # NaN and Infinity as JavaScript spells them
    if stdin or "\x00" in text:  # an argument cannot hold NUL; standard input can
        data = text.encode("utf-8", "surrogatepass")  # a lone surrogate becomes invalid UTF-8
        check_submit(db, text, lambda: cli(db, "submit", "demo.echo", "-", stdin=data))
    else:
        check_submit(db, text, lambda: cli(db, "submit", "demo.echo", text))


@FUZZ
@given(text=st.text(ANY_CHAR.filter(lambda c: c != "\x00"), max_size=40))
def test_any_argument_text_is_a_payload_or_one_line(db: Path, text: str) -> None:
    assume(text != "--")  # the end of the options, as in every command (the test below)
    check_submit(db, text, lambda: cli(db, "submit", "demo.echo", text))


def test_a_double_dash_ends_the_options_and_a_payload_may_follow_it(db: Path) -> None:
    ran = cli(db, "submit", "demo.echo", "--", '{"after": "--"}')
    assert ran.code == 0 and stored_payload(db, ran.out.strip()) == {"after": "--"}
    ran = cli(db, "submit", "demo.echo", "--")
    assert ran.code == 0 and stored_payload(db, ran.out.strip()) == {}  # no payload: {}


@FUZZ
@given(
    data=st.binary(max_size=60) | st.sampled_from([b"\xff{}", b'{"a": "\xc3("}', b"\xef\xbb\xbf{}"])
)
def test_any_bytes_on_standard_input_are_a_payload_or_one_line(db: Path, data: bytes) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        before = snapshot(db)
        line = refused_cleanly(cli(db, "submit", "demo.echo", "-", stdin=data), before, db)
        assert "UTF-8" in line
        return
    check_submit(db, text, lambda: cli(db, "submit", "demo.echo", "-", stdin=data))


LINES = st.one_of(
    st.dictionaries(st.text(max_size=5), SCALARS, max_size=3).map(json.dumps),
    VALUES.map(json.dumps),
    st.text(ANY_CHAR.filter(lambda c: c != "\n"), max_size=12),
    st.sampled_from(["", "   ", "{}", "[]", "{bad", '{"a": NaN}', '{"a": "\\u0000"}', "\r"]),
)


@settings(max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(LINES, max_size=6))
def test_a_json_lines_file_is_stored_whole_or_not_at_all(db: Path, lines: list[str]) -> None:
    raw = "\n".join(lines).encode("utf-8", "surrogatepass")
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "payloads.jsonl"
        source.write_bytes(raw)
        before = snapshot(db)
        ran = cli(db, "submit", "demo.echo", "--from", str(source))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        assert "not valid UTF-8" in refused_cleanly(ran, before, db)
        return
    expected = []
    for n, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        payload = accepted(line)
        if payload is None:
            assert f"line {n}" in refused_cleanly(ran, before, db)
            return
        expected.append(payload)
    assert ran.code == 0 and ran.err == "", ran
    ids = ran.lines
    assert [stored_payload(db, i) for i in ids] == expected


# -- the limits, at and past their edges ----------------------------------------------------------
def nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        ("10 MB", json.dumps({"blob": "x" * 10_000_000}), "the limit is 1,048,576 bytes"),
        ("33 deep", nested(33), "nests deeper than 32"),
        ("100000 brackets", "[" * 100_000, "nests deeper than 32"),
        ("100000 objects", nested(100_000), "nests deeper than 32"),
        ("raw control character", '{"a": "x\x01y"}', "not valid JSON"),
        ("NUL escaped", '{"a": "x\\u0000y"}', "NUL"),
        ("lone surrogate", '{"\\udc80": 1}', "UTF-8"),
        ("SQL", "'); DROP TABLE jobs; --", "not valid JSON"),
    ],
)
def test_a_payload_past_a_limit_is_refused_in_one_line(
    db: Path, name: str, text: str, words: str
) -> None:
    for argv, stdin in [(["-"], text.encode("utf-8", "surrogatepass")), (["--from", "-"], None)]:
        data = stdin if stdin is not None else (text + "\n").encode("utf-8", "surrogatepass")
        before = snapshot(db)
        line = refused_cleanly(cli(db, "submit", "demo.echo", *argv, stdin=data), before, db)
        assert words in line, (name, line)


def test_a_payload_at_the_limits_is_stored_exactly(db: Path) -> None:
    edge = json.loads(nested(32))
    big = {"blob": "é" * ((1_048_576 - 12) // 2)}  # just under 1 MiB of canonical UTF-8
    controls = {"text": "".join(chr(c) for c in range(1, 32)) + "\u2028\x7f"}
    for payload in (edge, big, controls):
        ran = cli(db, "submit", "demo.echo", "-", stdin=json.dumps(payload).encode())
        assert ran.code == 0, ran.err
        assert stored_payload(db, ran.out.strip()) == payload
