"""The DAGs' failure callback: one line in the log, and a JSON POST to the webhook when set."""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

import pytest

from advanced_mlops.orchestration.defaults import on_failure

CONTEXT = {
    "task_instance": SimpleNamespace(dag_id="feature_ingestion", task_id="check_contract"),
    "logical_date": "2025-01-20T00:00:00+00:00",
    "exception": ValueError("raw batch of 2025-01-20 breaks its contract:\n  column missing"),
}


def test_the_failure_is_one_line_and_reaches_the_webhook(
    webhook: tuple[str, list[dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url, received = webhook
    monkeypatch.setenv("MLOPS_ALERT_WEBHOOK", url)
    with caplog.at_level(logging.ERROR, logger="advanced_mlops.dags"):
        on_failure(CONTEXT)
    [line] = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert line.startswith("FAILED feature_ingestion.check_contract for 2025-01-20")
    assert "breaks its contract" in line
    assert "\n" not in line
    assert received == [{"text": line}]


def test_an_unreachable_webhook_is_a_warning_not_a_second_failure(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("MLOPS_ALERT_WEBHOOK", "http://127.0.0.1:9/nowhere")
    with caplog.at_level(logging.WARNING, logger="advanced_mlops.dags"):
        on_failure(CONTEXT)
    assert any("alert webhook failed" in r.getMessage() for r in caplog.records)


def test_a_run_without_logical_date_is_named_by_its_run_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Asset-triggered runs have no logical date: the line names the run instead of `None`."""
    ti = SimpleNamespace(
        dag_id="continuous_training", task_id="train", run_id="asset_triggered__2025-02-11"
    )
    with caplog.at_level(logging.ERROR, logger="advanced_mlops.dags"):
        on_failure({"task_instance": ti, "logical_date": None, "exception": OSError("disk full")})
    [line] = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert line == "FAILED continuous_training.train for asset_triggered__2025-02-11: disk full"
