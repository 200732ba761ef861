"""Contract tests of every endpoint and every kind of bad input, over real HTTP."""

from __future__ import annotations

import importlib.metadata
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from advanced_mlops import schema
from advanced_mlops.serving.sample_requests import sample_requests as records
from tests.serving.conftest import Server, Stack
from tests.serving.test_resilience import metric as labelled
from tests.serving.test_resilience import wait_for

RECORD = records(1)[0]


def post(server: Server, path: str, body: Any) -> httpx.Response:
    return httpx.post(f"{server.url}{path}", json=body, timeout=10)


def test_predict_answers_class_probabilities_version_and_request_id(
    server: Server, stack: Stack
) -> None:
    response = post(server, "/predict", RECORD)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "request_id",
        "customer_id",
        "credit_score",
        "probabilities",
        "model_version",
    }
    assert body["customer_id"] == RECORD["customer_id"]
    assert body["credit_score"] in schema.CLASSES
    assert set(body["probabilities"]) == set(schema.CLASSES)
    assert sum(body["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)
    assert max(body["probabilities"], key=body["probabilities"].get) == body["credit_score"]
    assert body["model_version"] == stack.versions[0]
    assert len(body["request_id"]) == 36


def test_predict_batch_answers_each_record_in_order(server: Server) -> None:
    batch = records(20)
    response = post(server, "/predict_batch", {"records": batch})
    assert response.status_code == 200
    predictions = response.json()["predictions"]
    assert [p["customer_id"] for p in predictions] == [r["customer_id"] for r in batch]
    assert len({p["request_id"] for p in predictions}) == 20
    single = post(server, "/predict", batch[3]).json()
    assert predictions[3]["probabilities"] == single["probabilities"]


def test_metadata_describes_the_served_model(server: Server, stack: Stack) -> None:
    body = httpx.get(f"{server.url}/metadata", timeout=10).json()
    assert body["model_name"] == "credit_score_classifier"
    assert body["version"] == stack.versions[0]
    # The release serving it, beside the model: what the installed distribution says.
    assert body["service_version"] == importlib.metadata.version("advanced-mlops")
    assert len(body["run_id"]) == 32
    assert body["trained_at"].startswith("20")
    assert isinstance(body["gate"], dict)


def test_health_and_metrics(server: Server) -> None:
    assert httpx.get(f"{server.url}/livez").status_code == 200
    assert httpx.get(f"{server.url}/readyz").status_code == 200
    post(server, "/predict", RECORD)
    # The answer is journalled at once; its row reaches the database (and the counter) just after.
    deadline = time.monotonic() + 15
    while "prediction_log_rows_total" not in (metrics := httpx.get(f"{server.url}/metrics").text):
        assert time.monotonic() < deadline, metrics[-2000:]
        time.sleep(0.2)
    assert "prediction_journal_fsyncs_total" in metrics
    assert "champion_swaps_total" in metrics


def test_another_service_starting_leaves_this_ones_metrics(
    server: Server, stack: Stack, tmp_path: Path
) -> None:
    # BentoML empties its metrics folder when a server starts: a second service sharing it made
    # the first one's counters read 0 (the refusal counter of the disk-full test, in CI).
    post(server, "/predict", RECORD)
    rows = "prediction_log_rows_total"
    assert wait_for(lambda: labelled(server, rows) > 0, timeout=15)
    before = labelled(server, rows)
    other = Server(stack.env, tmp_path / "other.log")
    try:
        assert labelled(other, rows) == 0
        assert labelled(server, rows) >= before
    finally:
        other.stop()


def with_field(**changes: Any) -> dict[str, Any]:
    return {**RECORD, **changes}


def without(field: str) -> dict[str, Any]:
    return {k: v for k, v in RECORD.items() if k != field}


BAD_INPUTS = {
    "missing field": ("/predict", without("credit_mix"), "credit_mix"),
    "wrong type": ("/predict", with_field(age="thirty"), "age"),
    "negative number": ("/predict", with_field(num_bank_accounts=-3), "num_bank_accounts"),
    "absurd number": ("/predict", with_field(age=8698), "age"),
    "unknown category": ("/predict", with_field(credit_mix="Excellent"), "credit_mix"),
    "extra field": ("/predict", with_field(favourite_colour="blue"), "favourite_colour"),
    "huge string": ("/predict", with_field(type_of_loan="x" * 100_000), "type_of_loan"),
    "bad customer id": ("/predict", with_field(customer_id="'; DROP TABLE--"), "customer_id"),
    "batch over the limit": ("/predict_batch", {"records": [RECORD] * 21}, "records"),
    "empty batch": ("/predict_batch", {"records": []}, "records"),
    "bad record in a batch": (
        "/predict_batch", {"records": [RECORD, with_field(age=-1)]}, "age"
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_gets_a_400_naming_the_field(server: Server, case: str) -> None:
    path, body, field = BAD_INPUTS[case]
    response = post(server, path, body)
    assert response.status_code == 400, response.text
    named = {str(part) for error in response.json()["detail"] for part in error["loc"]}
    assert field in named
    assert post(server, "/predict", RECORD).status_code == 200  # still serving


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(b"", "application/json"), (b'{"customer_id": ', "application/json"),
     (b"[]", "application/json"), (b"hello", "text/plain"), (b"null", "application/json")],
)  # fmt: skip
def test_unparseable_bodies_get_a_400(server: Server, content: bytes, content_type: str) -> None:
    response = httpx.post(
        f"{server.url}/predict", content=content, headers={"Content-Type": content_type}
    )
    assert response.status_code == 400
    assert json.loads(response.text)["error"]
    assert post(server, "/predict", RECORD).status_code == 200


def test_loadtest_runs_headless_and_writes_reports(
    server: Server,
    stack: Stack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.integration.cli import run

    outcome = run(
        monkeypatch, capsys, stack.env,
        "loadtest", "--users", "4", "--duration", "8", "--host", server.url, "--wait", "0-0.2",
    )  # fmt: skip
    assert outcome.code == 0, outcome.err
    report_dir = Path(outcome.out.split("reports:")[1].split()[0])
    assert (report_dir / "report.html").stat().st_size > 1000
    stats = (report_dir / "stats_stats.csv").read_text()
    assert "/predict" in stats
    assert "Aggregated" in stats


def metric(server: Server, name: str) -> float:
    text = httpx.get(f"{server.url}/metrics").text
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " "))


def test_concurrent_requests_share_model_calls(server: Server) -> None:
    from concurrent.futures import ThreadPoolExecutor

    calls, scored = (
        metric(server, "model_call_records_count"),
        metric(server, "model_call_records_sum"),
    )
    bodies = records(50)
    with ThreadPoolExecutor(32) as pool:
        statuses = list(pool.map(lambda b: post(server, "/predict", b).status_code, bodies * 8))
    assert statuses == [200] * 400
    new_calls = metric(server, "model_call_records_count") - calls
    assert metric(server, "model_call_records_sum") - scored == 400
    assert new_calls < 400  # some requests were answered by the same model call
