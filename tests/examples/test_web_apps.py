"""The web recipes run: the FastAPI app (async Engine) and the Flask app (sync Client), each through
its own test client on a real SQLite file, with a worker draining the jobs between requests."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from flask.testing import FlaskClient

from examples import fastapi_app, flask_app
from examples.shop import registry
from jobdeck.core import Engine, Worker
from jobdeck.storage import open_store


def run_worker(db: str) -> None:
    """What `jobdeck --handlers examples.shop:registry worker --burst` does, in this process."""

    async def burst() -> None:
        store = await open_store(db)
        try:
            await Worker(Engine(store, registry), burst=True, poll=0.01).run()
        finally:
            await store.close()

    asyncio.run(burst())


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "shop.db")


@pytest.fixture
def fastapi_http(db: str) -> Iterator[TestClient]:
    with TestClient(fastapi_app.create_app(db)) as http:  # runs the lifespan
        yield http


@pytest.fixture
def flask_http(db: str) -> Iterator[FlaskClient]:
    app = flask_app.create_app(db)
    yield app.test_client()
    app.extensions["jobdeck"].close()


def test_fastapi_submits_an_order_and_shows_the_finished_job(
    fastapi_http: TestClient, db: str
) -> None:
    posted = fastapi_http.post("/orders", json={"order_id": "A1", "item": "apple", "quantity": 2})
    assert posted.status_code == 202 and posted.json()["status"] == "queued"
    run_worker(db)
    shown = fastapi_http.get(f"/jobs/{posted.json()['id']}").json()
    assert shown["status"] == "done" and shown["result"]["reserved"] == 2


def test_fastapi_shows_a_denied_order_with_its_one_reason(fastapi_http: TestClient) -> None:
    posted = fastapi_http.post("/orders", json={"order_id": "A2", "item": "kiwi", "quantity": 1})
    job = fastapi_http.get(f"/jobs/{posted.json()['id']}").json()
    assert job["status"] == "failed" and job["reason"]["code"] == "unknown_item"
    assert job["reason"]["message"] == "The shop does not sell 'kiwi'."


def test_fastapi_answers_bad_input_and_unknown_jobs_with_one_sentence(
    fastapi_http: TestClient,
) -> None:
    bad = fastapi_http.post(
        "/orders", json={"order_id": "A3", "item": "apple", "quantity": 1},
        headers={"Idempotency-Key": "k" * 300},
    )  # fmt: skip
    assert bad.status_code == 422
    assert bad.json() == {"error": "an idempotency key must be 1 to 200 characters long."}
    missing = fastapi_http.get("/jobs/01ZZZZZZZZZZZZZZZZZZZZZZZZ")
    assert missing.status_code == 404 and missing.json()["error"].endswith(".")


def test_flask_submits_an_order_waits_and_shows_the_finished_job(
    flask_http: FlaskClient, db: str
) -> None:
    posted = flask_http.post("/orders", json={"order_id": "B1", "item": "plum", "quantity": 1})
    assert posted.status_code == 202 and posted.get_json()["status"] == "queued"
    again = flask_http.post(
        "/orders", json={"order_id": "B1", "item": "plum", "quantity": 1}
    ).get_json()
    assert again["id"] == posted.get_json()["id"]  # the same order is the same job
    run_worker(db)
    shown = flask_http.get(f"/jobs/{posted.get_json()['id']}?wait=30").get_json()
    assert shown["status"] == "done" and shown["result"]["item"] == "plum"


def test_flask_shows_a_terminal_failure_with_its_one_reason(
    flask_http: FlaskClient, db: str
) -> None:
    posted = flask_http.post("/orders", json={"order_id": "B2", "item": "pear", "quantity": 1})
    run_worker(db)
    job = flask_http.get(f"/jobs/{posted.get_json()['id']}").get_json()
    assert job["status"] == "failed" and job["reason"]["code"] == "out_of_stock"


def test_flask_answers_bad_input_and_unknown_jobs_with_one_sentence(
    flask_http: FlaskClient,
) -> None:
    bad = flask_http.post("/orders", data="not json", content_type="text/plain")
    assert bad.status_code == 422 and "payload must be a JSON object" in bad.get_json()["error"]
    missing = flask_http.get("/jobs/01ZZZZZZZZZZZZZZZZZZZZZZZZ")
    assert missing.status_code == 404 and missing.get_json()["error"].endswith(".")
