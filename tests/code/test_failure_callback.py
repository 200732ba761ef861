"""The DAGs' failure callback: one line in the log, and a JSON POST to the webhook when set."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import SimpleNamespace
from typing import Any

import pytest

from advanced_mlops.orchestration.defaults import on_failure


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A real HTTP server on localhost that keeps the JSON bodies it receives."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()
    server.server_close()


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
