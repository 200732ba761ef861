"""The deploy smoke test against the real service (started by the serving fixtures) and an
Airflow health endpoint, over real HTTP: alone, after a rollout, and after a rollback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from advanced_mlops.deploy.smoke import default_probes, run_probes
from tests.code.fake_docker import ENV_TEXT, calls, deploy_host
from tests.integration.cli import run
from tests.serving.conftest import Server
from tests.serving.fake_airflow import FakeAirflow


@pytest.fixture(scope="module")
def airflow() -> Iterator[FakeAirflow]:
    with FakeAirflow() as fake:
        yield fake


@pytest.fixture(autouse=True)
def healthy_airflow(airflow: FakeAirflow) -> None:
    airflow.status.update(metadatabase="healthy", scheduler="healthy")


def test_a_ready_service_that_predicts_and_a_healthy_airflow_pass(
    server: Server, airflow: FakeAirflow
) -> None:
    assert run_probes(default_probes(server.url, airflow.url), wait_seconds=5) == []


def test_an_unhealthy_scheduler_fails_the_smoke_test_naming_it(
    server: Server, airflow: FakeAirflow
) -> None:
    airflow.status["scheduler"] = "unhealthy"
    problems = run_probes(default_probes(server.url, airflow.url), wait_seconds=1)
    assert problems == [
        f"airflow health (GET {airflow.url}/api/v2/monitor/health): scheduler is unhealthy"
    ]


def test_a_prediction_the_service_refuses_fails_the_smoke_test(
    server: Server, airflow: FakeAirflow
) -> None:
    from advanced_mlops.deploy import smoke

    probes = smoke.service_probes(server.url, {"customer_id": "CUS_0x1"})  # features missing
    problems = run_probes(probes, wait_seconds=0)
    assert len(problems) == 1
    assert problems[0].startswith(f"prediction (POST {server.url}/predict): answered 400")


def test_the_smoke_command_passes_on_the_running_stack(
    server: Server,
    airflow: FakeAirflow,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    outcome = run(
        monkeypatch, capsys, {}, "deploy", "smoke", "--service-url", server.url,
        "--airflow-url", airflow.url, "--wait", "5",
    )  # fmt: skip
    assert outcome.code == 0, outcome.err
    assert "smoke test passed" in outcome.out


def test_a_rollout_onto_a_healthy_stack_keeps_the_new_tag(
    server: Server,
    airflow: FakeAirflow,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    host = deploy_host(tmp_path, monkeypatch)
    monkeypatch.chdir(host)
    outcome = run(
        monkeypatch, capsys, {}, "deploy", "rollout", "--tag", "v1.1.0", "--service", "service",
        "--service-url", server.url, "--airflow-url", airflow.url, "--wait", "5",
    )  # fmt: skip
    assert outcome.code == 0, outcome.err
    assert "deployed v1.1.0, smoke test passed; previous tag v1.0.0 kept in .env" in outcome.out
    assert calls(host) == [("pull", "v1.1.0"), ("up", "v1.1.0")]
    assert "IMAGE_TAG=v1.1.0\nPREVIOUS_IMAGE_TAG=v1.0.0\n" in (host / ".env").read_text()


def test_a_release_that_does_not_start_is_rolled_back_onto_a_stack_that_passes(
    server: Server,
    airflow: FakeAirflow,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """No URL given: the smoke test finds both where the env file says the stack publishes them."""
    host = deploy_host(tmp_path, monkeypatch)
    monkeypatch.chdir(host)
    monkeypatch.setenv("FAKE_DOCKER_CRASHING", "v1.1.0")
    airflow_port = airflow.url.rsplit(":", 1)[1]
    (host / ".env").write_text(
        f"{ENV_TEXT}SERVICE_PORT={server.port}\nAIRFLOW_PORT={airflow_port}\n"
    )
    outcome = run(monkeypatch, capsys, {}, "deploy", "rollout", "--tag", "v1.1.0", "--wait", "5")
    assert outcome.code == 2
    assert outcome.err.startswith("error: `docker compose up -d --no-build --wait --wait-timeout ")
    assert "` exited 1: " in outcome.err
    assert outcome.err.strip().endswith("; rolled back to v1.0.0, which passes the smoke test")
    assert calls(host) == [("pull", "v1.1.0"), ("up", "v1.1.0"), ("up", "v1.0.0")]
    assert "IMAGE_TAG=v1.0.0\n" in (host / ".env").read_text()
