"""Reason codes over real HTTP: present when asked for, consistent with the model's own raw scores,
stored with the log row, and a 400 naming the field when `explain` is not a boolean."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import numpy as np
import pytest
from sqlalchemy import select

from advanced_mlops import mlflow_io, schema
from advanced_mlops.inference import model_pool, model_rows, predict_records, shap_values
from advanced_mlops.serving.sample_requests import sample_requests as records
from advanced_mlops.store.engine import connect
from advanced_mlops.store.tables import prediction_log
from tests.serving.conftest import Server, Stack
from tests.serving.test_resilience import wait_for

RECORDS = records(12)


def post(server: Server, path: str, body: Any) -> httpx.Response:
    return httpx.post(f"{server.url}{path}", json=body, timeout=30)


def check_reasons(stack: Stack, record: dict[str, Any], answer: dict[str, Any]) -> None:
    """The reasons are the three largest SHAP contributions toward the answered class, and all
    contributions plus the expected value give the model's raw score for that class."""
    model = mlflow_io.load_model(stack.settings, answer["model_version"])
    rows = model_rows([record])
    classes = [str(c) for c in model.classes_]
    predicted = classes.index(answer["credit_score"])
    values = shap_values(model, model_pool([record]))[0, predicted]
    raw = np.asarray(model.predict(rows, prediction_type="RawFormulaVal"))[0, predicted]
    assert values.sum() == pytest.approx(raw, abs=1e-6)  # contributions + expected value

    reasons = answer["reasons"]
    assert len(reasons) == 3
    contributions = values[:-1]
    top = np.sort(contributions)[::-1][:3]
    assert [r["contribution"] for r in reasons] == pytest.approx(top, abs=1e-5)
    for reason in reasons:
        index = schema.FEATURES.index(reason["feature"])
        assert contributions[index] == pytest.approx(reason["contribution"], abs=1e-5)
        assert reason["value"] == record[reason["feature"]]


def test_predict_explains_when_asked(server: Server, stack: Stack) -> None:
    for record in RECORDS[:4]:
        response = post(server, "/predict", {**record, "explain": True})
        assert response.status_code == 200, response.text
        check_reasons(stack, record, response.json())
    plain = post(server, "/predict", RECORDS[0]).json()
    assert "reasons" not in plain
    assert "reasons" not in post(server, "/predict", {**RECORDS[0], "explain": False}).json()


def test_predict_batch_explains_every_record(server: Server, stack: Stack) -> None:
    response = post(server, "/predict_batch", {"records": RECORDS, "explain": True})
    assert response.status_code == 200, response.text
    answers = response.json()["predictions"]
    for record, answer in zip(RECORDS, answers, strict=True):
        check_reasons(stack, record, answer)
    plain = post(server, "/predict_batch", {"records": RECORDS[:3]}).json()["predictions"]
    assert all("reasons" not in answer for answer in plain)


def test_reasons_are_stored_with_the_log_row_when_asked_for(server: Server, stack: Stack) -> None:
    explained = post(server, "/predict", {**RECORDS[5], "explain": True}).json()
    plain = post(server, "/predict", RECORDS[5]).json()
    ids = [explained["request_id"], plain["request_id"]]

    def stored() -> dict[str, Any]:
        with connect(stack.settings.store.url) as conn:
            rows = conn.execute(
                select(prediction_log.c.request_id, prediction_log.c.reasons).where(
                    prediction_log.c.request_id.in_(ids)
                )
            ).all()
        return dict(rows)

    assert wait_for(lambda: len(stored()) == 2)
    rows = stored()
    assert rows[explained["request_id"]] == explained["reasons"]
    assert rows[plain["request_id"]] is None


@pytest.mark.parametrize("value", ["yes", "true", 1, None, [True]])
@pytest.mark.parametrize("path", ["/predict", "/predict_batch"])
def test_explain_of_wrong_type_is_a_400_naming_it(server: Server, path: str, value: Any) -> None:
    body = (
        {**RECORDS[0], "explain": value}
        if path == "/predict"
        else {"records": RECORDS[:2], "explain": value}
    )
    response = post(server, path, body)
    assert response.status_code == 400, response.text
    named = {str(part) for error in response.json()["detail"] for part in error["loc"]}
    assert "explain" in named


def test_a_shared_model_call_explains_only_the_records_that_asked(stack: Stack) -> None:
    """Concurrent requests share model calls (batching.py): in one call, the flagged records get
    the reasons they get when every record asks, the others none, and all the same answers."""
    version = mlflow_io.alias_version(stack.settings, mlflow_io.CHAMPION)
    model = mlflow_io.load_model(stack.settings, str(version))
    flags = [True, False, False, True, False]
    mixed = predict_records(model, RECORDS[:5], explain=flags)
    every = predict_records(model, RECORDS[:5], explain=[True] * 5)
    assert [r["reasons"] for r in mixed] == [
        e["reasons"] if flag else None for flag, e in zip(flags, every, strict=True)
    ]
    assert [(r["credit_score"], r["probabilities"]) for r in mixed] == [
        (e["credit_score"], e["probabilities"]) for e in every
    ]


def test_concurrent_requests_get_reasons_only_when_they_asked(server: Server, stack: Stack) -> None:
    async def ask(client: httpx.AsyncClient, i: int) -> tuple[dict[str, Any], dict[str, Any]]:
        record = RECORDS[i % len(RECORDS)]
        response = await client.post(
            f"{server.url}/predict", json={**record, "explain": i % 3 == 0}
        )
        assert response.status_code == 200, response.text
        return record, response.json()

    async def burst() -> list[tuple[dict[str, Any], dict[str, Any]]]:
        async with httpx.AsyncClient(timeout=30) as client:
            return await asyncio.gather(*(ask(client, i) for i in range(24)))

    for i, (record, answer) in enumerate(asyncio.run(burst())):
        if i % 3 == 0:
            check_reasons(stack, record, answer)
        else:
            assert "reasons" not in answer
