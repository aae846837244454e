"""Shared test settings: hypothesis without wall-clock deadlines (these machines are shared), and
a PostgreSQL for the tests that need one.

`pg_server` finds or starts PostgreSQL once per session: $JOBDECK_TEST_PG_URL when set (a URL of
a role that may CREATE DATABASE), else a throwaway cluster (tests/pg_cluster.py). When neither
works, every test that asks for it is skipped with the one reason. `pg_url` is a fresh database
per test, copied from a template that is already migrated.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import pytest
from hypothesis import HealthCheck, settings

from jobdeck.storage.postgres.schema import latest
from tests import pg_cluster

# A shell that starts the suite in the background (`pytest &`) ignores SIGINT in it, and every
# command a test starts would inherit that and never see a test's ctrl-c: give them the default.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

settings.register_profile(
    "jobdeck", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=100
)
settings.load_profile("jobdeck")

TEMPLATE = "jobdeck_test_template"


# Empty every jobdeck table of a used test database so the next test can have it (CREATE
# DATABASE from a template takes ~0.4 s here; this takes a few milliseconds).
RESET = """
SET lock_timeout = '2s';
TRUNCATE jobdeck.jobs, jobdeck.attempts, jobdeck.events, jobdeck.faults, jobdeck.workers,
         jobdeck.steps, jobdeck.schedules, jobdeck.schedule_runs, jobdeck.prunes, jobdeck.leases,
         jobdeck.paused_kinds, jobdeck.cancels, jobdeck.actions,
         jobdeck.kind_limits, jobdeck.rate_spent, jobdeck.kind_counts, jobdeck.rollup
         RESTART IDENTITY;
UPDATE jobdeck.counts SET n = 0;
UPDATE jobdeck.schema_version SET version = {version:d};
"""


@dataclass
class PgServer:
    """A PostgreSQL server tests may create databases on."""

    base: str  # a URL whose database is one to connect to for CREATE DATABASE
    prefix: str
    counter: itertools.count[int]
    free: list[str] = field(default_factory=list)

    def url(self, database: str) -> str:
        parts = urlsplit(self.base)
        return urlunsplit(parts._replace(path=f"/{database}"))

    def execute(self, *statements: str) -> None:
        asyncio.run(_execute(self.base, statements))

    def new_database(self, *, template: str = TEMPLATE) -> str:
        name = f"{self.prefix}_{next(self.counter)}"
        self.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.url(name)

    def lend(self) -> str:
        """A migrated, empty database: a returned one when there is one, else a new copy."""
        return self.free.pop() if self.free else self.new_database()

    def give_back(self, url: str) -> None:
        """Empty a lent database for the next test; one that cannot be emptied is dropped from
        the pool (its schema may have been changed on purpose)."""
        try:
            asyncio.run(_execute(url, (RESET.format(version=latest()),)))
        except Exception:  # noqa: BLE001 - any failure just retires this database
            return
        self.free.append(url)


async def _execute(url: str, statements: tuple[str, ...]) -> None:
    import asyncpg

    conn = await asyncpg.connect(url, timeout=10)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def _migrate(url: str) -> None:
    from jobdeck.storage import open_store

    store = await open_store(url)
    await store.close()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    external = os.environ.get("JOBDECK_TEST_PG_URL")
    cluster = None
    if external:
        base = external
    else:
        try:
            cluster = pg_cluster.start()
        except pg_cluster.Unavailable as exc:
            pytest.skip(f"PostgreSQL tests skipped: {exc}.")
        base = cluster.url()
    server = PgServer(base, f"jobdeck_test_{os.getpid()}", itertools.count(1))
    try:
        server.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}"', f'CREATE DATABASE "{TEMPLATE}"')
        asyncio.run(_migrate(server.url(TEMPLATE)))
        yield server
    finally:
        if cluster is not None:
            cluster.stop()
        elif external:
            _drop_all(server)


def _drop_all(server: PgServer) -> None:
    names = [f"{server.prefix}_{n}" for n in range(1, next(server.counter))]
    drops = [f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in names]
    server.execute(*drops, f'DROP DATABASE IF EXISTS "{TEMPLATE}"')


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """The URL of a migrated, empty database this test has to itself."""
    url = pg_server.lend()
    yield url
    pg_server.give_back(url)


@pytest.fixture
def pg_empty_url(pg_server: PgServer) -> str:
    """The URL of a new database jobdeck has never opened (no jobdeck schema)."""
    return pg_server.new_database(template="template1")
