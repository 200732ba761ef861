"""Shadow scoring over real HTTP: the champion alone answers; with a challenger in shadow each log
row also gets the challenger's class, probabilities and version (the ones the challenger's model
gives that record); a challenger that raises fails no request; the alias moved under traffic (the
challenger set, cleared, promoted) fails none either, and the promoted version answers after."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import mlflow
import mlflow.catboost
import pytest
from catboost import CatBoostClassifier
from mlflow import MlflowClient
from sqlalchemy import select

from advanced_mlops import mlflow_io, schema
from advanced_mlops.inference import predict_records, to_model_frame
from advanced_mlops.registry import shadow
from advanced_mlops.registry.promotion import promote, rollback
from advanced_mlops.serving.sample_requests import sample_requests as records
from advanced_mlops.store.engine import connect
from advanced_mlops.store.tables import prediction_log, shadow_predictions
from tests.serving.conftest import Server, Stack, Traffic
from tests.serving.test_resilience import logged, metric, send, wait_for

RECORDS = records(50)
SHADOW = ["shadow_version", "shadow_prediction", "shadow_prob_poor", "shadow_prob_standard",
          "shadow_prob_good"]  # fmt: skip


def rows_of(stack: Stack, request_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Each request's log row with the challenger's answer beside it (`shadow_*`: None when the
    challenger did not score it)."""
    shadow = shadow_predictions
    columns = [prediction_log.c.request_id, prediction_log.c.model_version,
               *(shadow.c[c.removeprefix("shadow_")].label(c) for c in SHADOW)]  # fmt: skip
    beside = prediction_log.outerjoin(shadow, shadow.c.request_id == prediction_log.c.request_id)
    with connect(stack.settings.store.url) as conn:
        found = conn.execute(
            select(*columns).select_from(beside).where(prediction_log.c.request_id.in_(request_ids))
        ).all()
    return {row.request_id: dict(row._mapping) for row in found}


def shadowed(stack: Stack, request_ids: list[str]) -> bool:
    rows = rows_of(stack, request_ids)
    return len(rows) == len(request_ids) and all(r["shadow_version"] for r in rows.values())


def probe(server: Server, stack: Stack, expected: str | None, timeout: float = 60) -> bool:
    """Whether fresh requests soon all get shadow results from `expected` (None: none at all),
    i.e. every worker follows the alias: asked again with new requests until `timeout`."""

    def settled(ids: list[str]) -> bool:
        rows = rows_of(stack, ids)
        if len(rows) < len(ids):
            return False
        versions = {r["shadow_version"] for r in rows.values()}
        return versions == {expected} if expected else True

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ids = [a["request_id"] for a in send(server, 8)]
        if wait_for(lambda ids=ids: settled(ids), timeout=10) and {
            r["shadow_version"] for r in rows_of(stack, ids).values()
        } == {expected}:
            return True
    return False


@pytest.fixture
def no_challenger(server: Server, stack: Stack) -> Iterator[None]:
    """The session's registry without a challenger before and after the test, and every worker
    past it (a worker checks the alias every 5 s: an earlier test's challenger may linger)."""
    mlflow_io.set_alias(stack.settings, mlflow_io.CHALLENGER, None)
    assert probe(server, stack, None)
    yield
    mlflow_io.set_alias(stack.settings, mlflow_io.CHALLENGER, None)


def test_challenger_scores_each_answered_record_in_shadow(
    server: Server, stack: Stack, no_challenger: None
) -> None:
    champion, challenger = stack.versions
    alone = send(server, 20)
    assert {a["status"] for a in alone} == {200}
    ids = [a["request_id"] for a in alone]
    assert wait_for(lambda: len(rows_of(stack, ids)) == len(ids))
    assert all(r["shadow_version"] is None for r in rows_of(stack, ids).values())

    shadow.shadow(stack.settings, challenger, force=True, reason="tests")
    assert probe(server, stack, challenger)
    body = RECORDS[0]
    answer = httpx_post(server, body)
    assert answer["model_version"] == champion  # the champion alone answers
    assert set(answer) == {"request_id", "customer_id", "credit_score", "probabilities",
                           "model_version"}  # fmt: skip
    batch = httpx_post(server, {"records": RECORDS[1:6]}, "/predict_batch")["predictions"]
    answers = [answer, *batch]
    ids = [a["request_id"] for a in answers]
    assert wait_for(lambda: shadowed(stack, ids))
    stored = rows_of(stack, ids)
    expected = predict_records(mlflow_io.load_model(stack.settings, challenger), RECORDS[:6])
    for a, mine in zip(answers, expected, strict=True):
        row = stored[a["request_id"]]
        assert row["model_version"] == champion
        assert row["shadow_version"] == challenger
        assert row["shadow_prediction"] == mine["credit_score"]
        for name in schema.CLASSES:
            assert row[f"shadow_prob_{name.lower()}"] == pytest.approx(mine["probabilities"][name])
    assert metric(server, 'shadow_records_total{outcome="scored"}') >= 6


def httpx_post(server: Server, body: Any, path: str = "/predict") -> dict[str, Any]:
    import httpx

    response = httpx.post(f"{server.url}{path}", json=body, timeout=30)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_a_challenger_that_raises_fails_no_request(
    server: Server, stack: Stack, no_challenger: None
) -> None:
    """A version registered around `mlops shadow` (it sees 5 of the 22 features): every shadow
    call raises inside CatBoost. Answers and log rows are as without a challenger."""
    tracking = stack.settings.store.tracking_uri
    frame = to_model_frame(__import__("pandas").DataFrame(RECORDS))[
        list(schema.NUMERIC_FEATURES[:5])
    ]
    labels = [schema.CLASSES[i % 3] for i in range(len(frame))]
    narrow = CatBoostClassifier(iterations=5, verbose=False, allow_writing_files=False)
    narrow.fit(frame, labels)
    mlflow.set_tracking_uri(tracking)
    with mlflow.start_run(experiment_id=mlflow_io.experiment_id(stack.settings)) as run:
        info = mlflow.catboost.log_model(narrow, name="model")
    client = MlflowClient(tracking, tracking)
    name = stack.settings.store.model_name
    broken = client.create_model_version(
        name, source=info.model_uri, run_id=run.info.run_id, model_id=info.model_id
    ).version
    failed = metric(server, 'shadow_records_total{outcome="failed"}')
    client.set_registered_model_alias(name, mlflow_io.CHALLENGER, broken)
    deadline = time.monotonic() + 30
    answers: list[dict[str, Any]] = []
    while metric(server, 'shadow_records_total{outcome="failed"}') == failed:
        assert time.monotonic() < deadline, "no shadow call was attempted"
        answers += send(server, 8)
    answers += send(server, 60)
    assert {a["status"] for a in answers} == {200}
    assert {a["model_version"] for a in answers} == {stack.versions[0]}
    ids = [a["request_id"] for a in answers]
    assert wait_for(lambda: len(rows_of(stack, ids)) == len(ids))
    assert all(r["shadow_version"] is None for r in rows_of(stack, ids).values())
    # Logged once per worker and failure, not once per call.
    assert 1 <= server.log_path.read_text().count(f"shadow scoring with v{broken} failed") <= 2


def test_the_alias_moved_under_traffic_fails_no_request(
    server: Server, stack: Stack, no_challenger: None
) -> None:
    """Four clients post while the challenger is set, cleared, set again and then
    promoted through the registry's promote path: every request is answered 200 and logged once;
    shadow results come from the challenger while it is set and stop once it is cleared or
    promoted; once every worker answers with the promoted version, every row logged carries it."""
    champion, challenger = stack.versions
    try:
        # Paced (at most ~80 requests/s): faster clients outran the log drain on a loaded
        # 2-core machine (a fresh-clone CI run at 0.02 s: the last probe's rows lagged past its
        # minute), and the probes would wait for rows, not for the alias.
        with Traffic(server, clients=4, pause=0.05) as traffic:
            time.sleep(1)
            shadow.shadow(stack.settings, challenger, force=True, reason="tests: under traffic")
            seen = probe(server, stack, challenger)
            shadow.clear(stack.settings, reason="tests: under traffic")
            cleared = probe(server, stack, None)
            shadow.shadow(stack.settings, challenger, force=True, reason="tests: under traffic")
            seen_again = probe(server, stack, challenger)
            promote(stack.settings, challenger, reason="tests: promoted under traffic", force=True)
            switched = wait_for(lambda: answered_by(server, 16) == {challenger}, timeout=30)
            after_switch = [len(ids) for ids in traffic.answered_by]
            retired = probe(server, stack, None)  # promoted: it answers, nothing in shadow
            time.sleep(1)
    finally:
        rollback(stack.settings, reason="tests: restore")
    assert (seen, cleared, seen_again, switched, retired) == (True, True, True, True, True)
    assert traffic.failures == 0
    assert set(traffic.statuses) == {200}
    ids = traffic.answered
    assert len(ids) > 100
    assert wait_for(lambda: len(rows_of(stack, ids)) == len(ids), timeout=60)
    rows = rows_of(stack, ids)
    assert {r["model_version"] for r in rows.values()} == {champion, challenger}
    assert {r["shadow_version"] for r in rows.values()} == {None, challenger}
    later = [
        rid for n, mine in zip(after_switch, traffic.answered_by, strict=True) for rid in mine[n:]
    ]
    assert later
    assert {rows[rid]["model_version"] for rid in later} == {challenger}
    assert logged(stack, ids) == dict.fromkeys(ids, 1)


def answered_by(server: Server, count: int) -> set[str]:
    """The versions that answered `count` concurrent requests (both workers, in practice)."""
    return {a.get("model_version", "") for a in send(server, count, workers=8)}
