"""jobdeck in a FastAPI app: the async Engine, opened once in the lifespan.

    uvicorn examples.fastapi_app:app            # the web app (JOBDECK_DB, default jobs.db)
    jobdeck --db jobs.db --handlers examples.shop:registry worker    # runs the jobs

POST /orders submits a `shop.reserve` job and answers it (202; an `Idempotency-Key` header
already used answers the job it made); GET /jobs/{id} shows the job with its status and, once it
failed, its one reason. A bad order is answered 422 with jobdeck's one sentence; an unknown job 404.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

import jobdeck
from examples.shop import registry

STATUS = {jobdeck.InvalidInput: 422, jobdeck.NotFound: 404, jobdeck.StorageError: 503}


def job_view(job: jobdeck.Job) -> dict[str, Any]:
    """What a client of the app sees of a job: its status, result and reason, as JSON."""
    return job.model_dump(
        mode="json", include={"id", "kind", "status", "attempt", "result", "reason", "payload"}
    )


def create_app(db: str | None = None) -> FastAPI:
    """The app on the database `db` (default: $JOBDECK_DB, else jobs.db)."""
    where = db or os.environ.get("JOBDECK_DB", "jobs.db")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = await jobdeck.open_store(where)
        app.state.engine = jobdeck.Engine(store, registry)
        try:
            yield
        finally:
            await store.close()

    app = FastAPI(title="shop", lifespan=lifespan)

    @app.exception_handler(jobdeck.JobdeckError)
    async def refused(request: Request, err: Exception) -> JSONResponse:
        code = next((c for kind, c in STATUS.items() if isinstance(err, kind)), 400)
        return JSONResponse({"error": str(err)}, status_code=code)

    @app.post("/orders", status_code=202)
    async def order(body: dict[str, Any], request: Request) -> dict[str, Any]:
        engine: jobdeck.Engine = request.app.state.engine
        key = request.headers.get("Idempotency-Key")
        return job_view(await engine.submit("shop.reserve", body, key=key))

    @app.get("/jobs/{job_id}")
    async def show(job_id: str, request: Request) -> dict[str, Any]:
        engine: jobdeck.Engine = request.app.state.engine
        return job_view(await engine.get(job_id))

    return app


app = create_app()
