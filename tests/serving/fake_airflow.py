"""A stand-in for Airflow's API server that answers only `GET /api/v2/monitor/health`, with
Airflow's own response model, over real HTTP (uvicorn in a thread)."""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from typing import Any

import uvicorn
from fastapi import FastAPI


class FakeAirflow:
    """Reports the metadatabase and the scheduler with the statuses in `self.status`."""

    def __init__(self) -> None:
        # Importing Airflow reads its configuration: keep it out of the user's ~/airflow.
        os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="fake-airflow-"))
        from airflow.api_fastapi.core_api.datamodels.monitor import HealthInfoResponse

        self.status = {"metadatabase": "healthy", "scheduler": "healthy"}
        app = FastAPI()

        @app.get(
            "/api/v2/monitor/health",
            response_model=HealthInfoResponse,
            response_model_exclude_unset=True,
        )
        def health() -> Any:
            return HealthInfoResponse.model_validate(self._health())

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def _health(self) -> dict[str, Any]:
        heartbeat = "2025-01-30T12:00:00+00:00"
        return {
            "metadatabase": {"status": self.status["metadatabase"]},
            "scheduler": {
                "status": self.status["scheduler"],
                "latest_scheduler_heartbeat": heartbeat,
            },
            "triggerer": {"status": None, "latest_triggerer_heartbeat": None},
            "dag_processor": {"status": "healthy", "latest_dag_processor_heartbeat": heartbeat},
        }

    def __enter__(self) -> FakeAirflow:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake Airflow did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
