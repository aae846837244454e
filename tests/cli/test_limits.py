"""submit --priority, show/list --json priority, `jobdeck limits`, and the bad input of all of
them: one sentence, exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.harness import assert_one_error, job_count, jobdeck, query

HANDLERS = """
from jobdeck.core import Registry

registry = Registry()


@registry.kind("shop.mail", concurrency=2, rate="100/m", priority=5)
async def mail(ctx, payload):
    return None


@registry.kind("shop.plain")
async def plain(ctx, payload):
    return None
"""


def handlers(tmp_path: Path, name: str, text: str) -> str:
    (tmp_path / f"{name}.py").write_text(text)
    return f"{name}:registry"


def test_submit_priority_is_stored_and_shown_in_show_and_list_json(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    ran = jobdeck(db, "submit", "demo.echo", '{"a": 1}', "--priority", "-7", "--json")
    assert ran.code == 0, ran.err
    doc = ran.json()
    assert doc["priority"] == -7
    assert query(db, "SELECT priority FROM jobs WHERE id = ?", (doc["id"],))[0][0] == -7
    assert jobdeck(db, "show", doc["id"], "--json").json()["priority"] == -7
    assert "priority  -7" in jobdeck(db, "show", doc["id"]).out
    (listed,) = jobdeck(db, "list", "--json").json()
    assert listed["priority"] == -7


def test_submit_takes_the_kind_default_priority(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    spec = handlers(tmp_path, "shop_default", HANDLERS)
    ran = jobdeck(db, "--handlers", spec, "submit", "shop.mail", "{}", "--json")
    assert ran.code == 0, ran.err
    assert ran.json()["priority"] == 5


@pytest.mark.parametrize("bad", ["1e9", "x", "101", "-101", "1.5", "", "99999999999999"])
def test_a_bad_priority_is_one_sentence_exit_2_and_nothing_is_written(
    tmp_path: Path, bad: str
) -> None:
    db = tmp_path / "jobs.db"
    assert jobdeck(db, "submit", "demo.echo", "{}").code == 0
    ran = jobdeck(db, "submit", "demo.echo", '{"b": 2}', f"--priority={bad}")
    line = assert_one_error(ran, 2)
    assert "--priority" in line
    assert job_count(db) == 1


def test_limits_shows_what_a_worker_declared_and_what_is_in_use(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    spec = handlers(tmp_path, "shop_limits", HANDLERS)
    for n in range(3):
        assert jobdeck(db, "--handlers", spec, "submit", "shop.mail", f'{{"n": {n}}}').code == 0
    assert jobdeck(db, "limits").out.startswith("no kind has a limit")
    assert jobdeck(db, "limits", "--json").json() == []
    ran = jobdeck(db, "--handlers", spec, "worker", "--burst", "--kind", "shop.mail")
    assert ran.code == 0, ran.err
    (doc,) = jobdeck(db, "limits", "--json").json()
    assert doc["kind"] == "shop.mail"
    assert (doc["concurrency"], doc["running"], doc["rate"]) == (2, 0, "100/m")
    assert (doc["rate_count"], doc["rate_seconds"], doc["tokens"]) == (100, 60.0, 97)
    assert doc["full"] is False and doc["next_token_at"].endswith("Z")
    text = jobdeck(db, "limits").out
    assert "shop.mail  0/2 running · 97/100 per minute left" in text


@pytest.mark.parametrize(
    ("option", "words"),
    [
        ('rate="0/m"', "between 1 and"),
        ('rate="10/fortnight"', "unknown window 'fortnight'"),
        ('rate="abc"', "not a count per window"),
        ("concurrency=0", "concurrency limit between 1"),
        ("concurrency=-3", "concurrency limit between 1"),
        ("priority=101", "priority must be between"),
    ],
)
def test_a_bad_limit_in_a_registry_is_refused_when_it_is_declared(
    tmp_path: Path, option: str, words: str
) -> None:
    db = tmp_path / "jobs.db"
    text = HANDLERS.replace('concurrency=2, rate="100/m", priority=5', option)
    spec = handlers(tmp_path, "shop_bad", text)
    ran = jobdeck(db, "--handlers", spec, "submit", "shop.mail", "{}")
    line = assert_one_error(ran, 2)
    assert "'shop.mail'" in line and words in line, line
    assert not db.exists() or job_count(db) == 0
