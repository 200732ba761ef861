"""The log store going down under traffic, a promotion under traffic, a graceful stop:
no failed request, no lost or duplicated log row."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from sqlalchemy import func, select

from advanced_mlops.registry.promotion import promote, rollback
from advanced_mlops.serving.sample_requests import sample_requests as records
from advanced_mlops.store.engine import connect
from advanced_mlops.store.tables import prediction_log
from tests.serving.conftest import Server, Stack

RECORDS = records(50)


def send(server: Server, count: int, workers: int = 8) -> list[dict]:
    """`count` predictions from `workers` concurrent clients; every answer, in any order."""

    def one(i: int) -> dict:
        response = httpx.post(f"{server.url}/predict", json=RECORDS[i % len(RECORDS)], timeout=30)
        return {"status": response.status_code, **(response.json() if response.is_success else {})}

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, range(count)))


def logged(stack: Stack, request_ids: list[str]) -> dict[str, int]:
    """How many log rows each request id has."""
    with connect(stack.settings.store.url) as conn:
        rows = conn.execute(
            select(prediction_log.c.request_id, func.count())
            .where(prediction_log.c.request_id.in_(request_ids))
            .group_by(prediction_log.c.request_id)
        ).all()
    return dict(rows)


def wait_for(condition: Callable[[], bool], timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def journal_files(server: Server) -> list[Path]:
    return list((server.home / "journal").glob("worker-*/*.wal"))


def ready(server: Server) -> bool:
    """Both workers ready (each /readyz reaches one of them)."""
    return all(httpx.get(f"{server.url}/readyz").status_code == 200 for _ in range(6))


def metric(server: Server, name: str) -> float:
    text = httpx.get(f"{server.url}/metrics").text
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name))


def test_database_down_under_traffic_journals_then_logs_exactly_once(
    server: Server, stack: Stack
) -> None:
    before = send(server, 40)
    stack.proxy.stop()  # the log store is gone
    try:
        during = send(server, 200)
        assert all(r["status"] == 200 for r in during)  # the API keeps answering
        assert wait_for(lambda: metric(server, "prediction_journal_records") > 0, timeout=10)
        assert journal_files(server)
        # Failing for MLOPS_LOG_UNREADY_AFTER_SECONDS: not ready (the journal still records)
        assert wait_for(lambda: not ready(server), timeout=15)
    finally:
        stack.proxy.start()  # and back
    assert wait_for(lambda: ready(server), timeout=30)  # by itself
    after = send(server, 40)

    answered = [r["request_id"] for r in before + during + after]
    assert wait_for(lambda: len(logged(stack, answered)) == len(answered), timeout=60)
    assert wait_for(lambda: not journal_files(server), timeout=10)
    counts = logged(stack, answered)
    assert set(counts.values()) == {1}  # no loss, no duplicate
    assert wait_for(lambda: metric(server, "prediction_journal_records") == 0, timeout=5)
    failures = server.log_path.read_text().count("cannot write to the database")
    assert 1 <= failures <= 2  # once per worker that saw the outage, not once per attempt


def test_promotion_during_traffic_switches_without_a_failed_request(
    server: Server, stack: Stack
) -> None:
    first, second = stack.versions
    answers: list[dict] = []
    stop = threading.Event()

    def traffic() -> None:
        while not stop.is_set():
            answers.extend(send(server, 16, workers=4))

    thread = threading.Thread(target=traffic)
    thread.start()
    try:
        time.sleep(1)
        promote(stack.settings, second, reason="tests: hot swap", force=True)
        switched = wait_for(lambda: any(a.get("model_version") == second for a in answers[-8:]),
                            timeout=20)  # fmt: skip
        time.sleep(1)
    finally:
        stop.set()
        thread.join()
        rollback(stack.settings, reason="tests: restore")
    assert switched
    assert all(a["status"] == 200 for a in answers)
    versions = [a["model_version"] for a in answers]
    assert versions[0] == first
    assert versions[-1] == second
    ids = {a["request_id"]: a["model_version"] for a in answers}
    assert wait_for(lambda: len(logged(stack, list(ids))) == len(ids))
    with connect(stack.settings.store.url) as conn:
        stored = dict(
            conn.execute(
                select(prediction_log.c.request_id, prediction_log.c.model_version).where(
                    prediction_log.c.request_id.in_(list(ids))
                )
            ).all()
        )
    assert stored == ids  # each row carries the version that answered it
    # The rollback moves the service back too.
    assert wait_for(lambda: send(server, 1)[0]["model_version"] == first, timeout=20)


def test_graceful_stop_flushes_every_answered_prediction(stack: Stack, tmp_path: Path) -> None:
    own = Server({**stack.env, "MLOPS_LOG_FLUSH_SECONDS": "5"}, tmp_path / "service.log")
    answered = [r["request_id"] for r in send(own, 120)]
    assert own.stop() == 0
    counts = logged(stack, answered)
    assert len(counts) == len(answered)
    assert set(counts.values()) == {1}
