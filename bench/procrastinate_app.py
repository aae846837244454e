"""The procrastinate side: an App on the database the environment names, a no-op task and a
task that records when it started. Its worker loads this module by name
(`python -m procrastinate --app bench.procrastinate_app.app worker`)."""

from __future__ import annotations

import os

from procrastinate import App, PsycopgConnector

from bench.stamps import record_start

URL_ENV = "JOBDECK_BENCH_PROCRASTINATE_URL"
POOL_ENV = "JOBDECK_BENCH_PROCRASTINATE_POOL"


def make_app(url: str, pool: int = 4) -> App:
    """An App on `url` whose connector pool holds up to `pool` connections (psycopg's default is
    4; a worker gets one per concurrent job and one for LISTEN, so no job waits for a
    connection)."""
    connector = PsycopgConnector(conninfo=url, min_size=min(4, pool), max_size=pool)
    return App(connector=connector, import_paths=[__name__])


app = make_app(os.environ.get(URL_ENV, ""), int(os.environ.get(POOL_ENV, "4")))


@app.task(name="noop")
async def noop(n: int) -> None:
    return None


@app.task(name="stamp")
async def stamp(n: int) -> None:
    record_start(n)
