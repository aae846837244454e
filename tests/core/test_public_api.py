"""`import jobdeck`: the public API in one place, and cheap to import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jobdeck
import jobdeck.core

HEAVY = ("textual", "asyncpg", "aiosqlite", "pydantic")


def _modules_after(code: str, cwd: Path) -> list[str]:
    """The top-level modules a fresh interpreter holds after running `code`."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout.splitlines()[-1]))


def test_every_public_name_resolves_and_matches_its_home() -> None:
    for name in jobdeck.__all__:
        assert getattr(jobdeck, name) is not None, name
    assert jobdeck.Engine is jobdeck.core.Engine
    assert jobdeck.Registry is jobdeck.core.Registry
    assert issubclass(jobdeck.WaitTimeout, jobdeck.JobdeckError)
    assert jobdeck.__version__.count(".") == 2
    assert set(jobdeck.__all__) <= set(dir(jobdeck))


def test_the_package_says_it_is_typed() -> None:
    assert (Path(jobdeck.__file__).parent / "py.typed").exists()


def test_import_jobdeck_loads_none_of_the_heavy_libraries(tmp_path: Path) -> None:
    loaded = _modules_after("import jobdeck", tmp_path)
    assert not [m for m in loaded if m.split(".")[0] in HEAVY]
    assert "jobdeck.core.engine" not in loaded


def test_a_sqlite_client_loads_neither_textual_nor_asyncpg(tmp_path: Path) -> None:
    code = (
        "import jobdeck\n"
        "from jobdeck.core import demo_registry\n"
        "jobdeck.connect('jobs.db', registry=demo_registry()).close()"
    )
    loaded = {m.split(".")[0] for m in _modules_after(code, tmp_path)}
    assert not loaded & {"textual", "asyncpg", "aiosqlite"}
