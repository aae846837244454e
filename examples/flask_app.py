"""jobdeck in a Flask app: the synchronous Client, one per process, shared by every request thread.

    flask --app examples.flask_app run           # the web app (JOBDECK_DB, default jobs.db)
    jobdeck --db jobs.db --handlers examples.shop:registry worker    # runs the jobs

POST /orders submits a `shop.reserve` job and answers it (202; an `Idempotency-Key` header
already used answers the job it made); GET /jobs/<id> shows the job with its status and, once it
failed, its one reason; GET /jobs/<id>?wait=5 waits up to five seconds for it to finish. A bad
order is answered 422 with jobdeck's one sentence; an unknown job 404.
"""

from __future__ import annotations

import atexit
import os
from typing import Any

from flask import Flask, current_app, request

import jobdeck
from examples.shop import registry

STATUS = {jobdeck.InvalidInput: 422, jobdeck.NotFound: 404, jobdeck.StorageError: 503}


def job_view(job: jobdeck.Job) -> dict[str, Any]:
    """What a client of the app sees of a job: its status, result and reason, as JSON."""
    return job.model_dump(
        mode="json", include={"id", "kind", "status", "attempt", "result", "reason", "payload"}
    )


def jobs() -> jobdeck.Client:
    client: jobdeck.Client = current_app.extensions["jobdeck"]
    return client


def create_app(db: str | None = None) -> Flask:
    """The app on the database `db` (default: $JOBDECK_DB, else jobs.db)."""
    db = db or os.environ.get("JOBDECK_DB", "jobs.db")
    app = Flask(__name__)
    # One Client for the whole process: it is safe to share between request threads, and
    # concurrent submits share commits. It opens (and migrates) the database here, once.
    client = jobdeck.connect(db, registry=registry)
    app.extensions["jobdeck"] = client
    atexit.register(client.close)

    @app.errorhandler(jobdeck.JobdeckError)
    def refused(err: jobdeck.JobdeckError) -> tuple[dict[str, str], int]:
        code = next((c for kind, c in STATUS.items() if isinstance(err, kind)), 400)
        return {"error": str(err)}, code

    @app.post("/orders")
    def order() -> tuple[dict[str, Any], int]:
        body = request.get_json(silent=True)
        key = request.headers.get("Idempotency-Key")
        return job_view(jobs().submit("shop.reserve", body, key=key)), 202

    @app.get("/jobs/<job_id>")
    def show(job_id: str) -> dict[str, Any]:
        wait = request.args.get("wait", type=float)
        if wait is None:
            return job_view(jobs().get(job_id))
        try:
            return job_view(jobs().wait(job_id, timeout=wait))
        except jobdeck.WaitTimeout:
            return job_view(jobs().get(job_id))

    return app


if __name__ == "__main__":
    create_app().run(threaded=True)
