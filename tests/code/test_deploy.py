"""`mlops deploy`: the tag switch, the rollback, the smoke judges and bad input.

The compose calls are real subprocesses of a fake `docker` on PATH, which records its arguments
with the IMAGE_TAG it was run on and fails the way Docker does for a missing or crashing tag.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from advanced_mlops.deploy import compose, smoke
from advanced_mlops.deploy.compose import Compose, rollout
from advanced_mlops.errors import MlopsError
from tests.code.fake_docker import ENV_TEXT, calls, deploy_host
from tests.integration.cli import run


@pytest.fixture
def host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return deploy_host(tmp_path, monkeypatch)


def stack(host: Path, *services: str) -> Compose:
    return Compose(host / ".env", [host / "docker-compose.yml"], services)


def passing() -> list[str]:
    return []


def failing(*problems: str) -> Callable[[], list[str]]:
    return lambda: list(problems)


# --- the tag switch, with real subprocess calls ----------------------------------------------


def test_a_rollout_switches_the_tag_keeps_the_previous_one_and_the_rest(host: Path) -> None:
    previous = rollout(stack(host, "service", "airflow-scheduler"), "v1.1.0", passing)
    assert previous == "v1.0.0"
    assert calls(host) == [("pull", "v1.1.0"), ("up", "v1.1.0")]
    args = json.loads((host / "docker.log").read_text().splitlines()[1])["args"]
    assert args == [
        "compose",
        "--env-file",
        str(host / ".env"),
        "-f",
        str(host / "docker-compose.yml"),
        "up",
        "-d",
        "service",
        "airflow-scheduler",
    ]
    text = (host / ".env").read_text()
    assert text == (
        "# the deploy host's compose env\nMARIADB_PASSWORD='s3cret'\n"
        "IMAGE_TAG=v1.1.0\nPREVIOUS_IMAGE_TAG=v1.0.0\n"
    )


def test_a_failed_smoke_test_restores_the_previous_tag_and_restarts_it(host: Path) -> None:
    with pytest.raises(MlopsError) as error:
        rollout(stack(host), "v1.1.0", failing("prediction (POST /predict): answered 500"))
    assert str(error.value) == (
        "smoke test of v1.1.0 failed: prediction (POST /predict): answered 500; "
        "rolled back to v1.0.0"
    )
    assert calls(host) == [("pull", "v1.1.0"), ("up", "v1.1.0"), ("up", "v1.0.0")]
    assert (host / ".env").read_text() == ENV_TEXT


def test_a_tag_that_does_not_exist_changes_nothing(
    host: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_DOCKER_MISSING", "v9.9.9")
    with pytest.raises(
        MlopsError, match=re.escape("manifest for ghcr.io/o/s:v9.9.9 not found")
    ) as error:
        rollout(stack(host), "v9.9.9", passing)
    assert str(error.value).startswith("`docker compose pull` exited 1:")
    assert str(error.value).endswith("; IMAGE_TAG stays v1.0.0")
    assert calls(host) == [("pull", "v9.9.9")]
    assert (host / ".env").read_text() == ENV_TEXT


def test_containers_that_do_not_start_are_rolled_back(
    host: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_DOCKER_CRASHING", "v1.1.0")
    with pytest.raises(MlopsError, match=r"exited \(1\) on v1.1.0; rolled back to v1.0.0$"):
        rollout(stack(host), "v1.1.0", passing)
    assert calls(host) == [("pull", "v1.1.0"), ("up", "v1.1.0"), ("up", "v1.0.0")]
    assert (host / ".env").read_text() == ENV_TEXT


def test_when_the_rollback_fails_too_the_error_says_so(
    host: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_DOCKER_CRASHING", "v1.1.0,v1.0.0")
    with pytest.raises(
        MlopsError, match=r"; rolling back to v1\.0\.0 failed too: `docker compose up"
    ):
        rollout(stack(host), "v1.1.0", passing)
    assert (host / ".env").read_text() == ENV_TEXT


def test_a_first_deploy_that_fails_has_nothing_to_roll_back_to(host: Path) -> None:
    (host / ".env").write_text("MARIADB_PASSWORD=x\n")
    with pytest.raises(MlopsError, match=r"; no previous IMAGE_TAG to roll back to$"):
        rollout(stack(host), "v1.0.0", failing("service readiness: answered 503, not ready"))
    assert calls(host) == [("pull", "v1.0.0"), ("up", "v1.0.0")]
    assert (host / ".env").read_text() == "MARIADB_PASSWORD=x\n"


def test_redeploying_the_same_tag_keeps_the_tag_before_it(host: Path) -> None:
    rollout(stack(host), "v1.1.0", passing)
    assert rollout(stack(host), "v1.1.0", passing) == "v1.0.0"
    assert compose.env_value((host / ".env").read_text(), "PREVIOUS_IMAGE_TAG") == "v1.0.0"


def test_missing_files_and_a_missing_docker_are_one_clear_error(host: Path) -> None:
    with pytest.raises(MlopsError, match=r"compose.prod.yml: no such file on this host"):
        rollout(Compose(host / ".env", [host / "compose.prod.yml"]), "v1.1.0", passing)
    absent = Compose(host / ".env", [host / "docker-compose.yml"], docker=str(host / "nope"))
    with pytest.raises(MlopsError, match=r"cannot run '.*nope': No such file"):
        rollout(absent, "v1.1.0", passing)
    assert (host / ".env").read_text() == ENV_TEXT


# --- the env file and the tag, pure -----------------------------------------------------------


@pytest.mark.parametrize("tag", ["v1.2.0", "1.2.0-rc.1", "sha-0123abc", "latest", "A_b"])
def test_image_tags_are_accepted(tag: str) -> None:
    assert compose.check_tag(tag) == tag


@pytest.mark.parametrize("tag", ["", "v1 2", "-v1", ".v1", "v1;rm", "$(id)", "v1/x", "x" * 129])
def test_anything_else_is_refused_naming_the_option(tag: str) -> None:
    with pytest.raises(MlopsError, match=r"^--tag .*: not an image tag"):
        compose.check_tag(tag)


def test_env_values_are_read_as_compose_reads_them() -> None:
    text = "export IMAGE_TAG='v1'\n# IMAGE_TAG=v0\nIMAGE_TAG = \"v2\"\nOTHER=1\n"
    assert compose.env_value(text, "IMAGE_TAG") == "v2"
    assert compose.env_value(text, "MISSING") is None


def test_with_values_replaces_in_place_drops_duplicates_and_appends_new_keys() -> None:
    text = "A=1\nIMAGE_TAG=v1\n\n# keep me\nIMAGE_TAG=v1b\nB=2"
    assert compose.with_values(text, {"IMAGE_TAG": "v2", "PREVIOUS_IMAGE_TAG": "v1b"}) == (
        "A=1\nIMAGE_TAG=v2\n\n# keep me\nB=2\nPREVIOUS_IMAGE_TAG=v1b\n"
    )


def test_switched_names_the_tag_it_replaces() -> None:
    assert compose.switched("IMAGE_TAG=v1\n", "v2") == (
        "IMAGE_TAG=v2\nPREVIOUS_IMAGE_TAG=v1\n",
        "v1",
    )
    assert compose.switched("", "v1") == ("IMAGE_TAG=v1\n", None)


# --- the smoke judges, pure -------------------------------------------------------------------

PREDICTION = {
    "request_id": "0f3c2a4e-0000-4000-8000-000000000000",
    "customer_id": "CUS_0x1",
    "credit_score": "Good",
    "probabilities": {"Poor": 0.1, "Standard": 0.2, "Good": 0.7},
    "model_version": "3",
}


def test_a_prediction_is_judged_on_its_shape_and_probabilities() -> None:
    assert smoke.judge_prediction(200, PREDICTION) is None
    assert smoke.judge_prediction(500, "boom") == "answered 500: boom"
    wrong_class = {**PREDICTION, "credit_score": "Excellent"}
    assert "not a prediction (1 errors)" in str(smoke.judge_prediction(200, wrong_class))
    skewed = {**PREDICTION, "probabilities": {"Poor": 0.5, "Standard": 0.5, "Good": 0.5}}
    assert smoke.judge_prediction(200, skewed) == "probabilities add up to 1.5000, not 1"


def test_airflow_is_healthy_only_with_its_database_and_scheduler_healthy() -> None:
    healthy = {
        "metadatabase": {"status": "healthy"},
        "scheduler": {"status": "healthy", "latest_scheduler_heartbeat": "2025-01-01T00:00:00"},
        "triggerer": {"status": None, "latest_triggerer_heartbeat": None},
    }
    assert smoke.judge_airflow_health(200, healthy) is None
    stale = {**healthy, "scheduler": {"status": "unhealthy"}}
    assert smoke.judge_airflow_health(200, stale) == "scheduler is unhealthy"
    assert smoke.judge_airflow_health(200, {}) == "metadatabase is missing; scheduler is missing"
    assert smoke.judge_airflow_health(200, "<html>") == (
        "answered a body that is not Airflow's health report"
    )
    assert smoke.judge_airflow_health(404, {"detail": "Not Found"}) == "answered 404"


@pytest.mark.parametrize("url", ["localhost:3000", "ftp://host/", "http://", "http://[::1"])
def test_urls_that_are_not_http_are_refused_naming_the_option(url: str) -> None:
    with pytest.raises(MlopsError, match=r"^--service-url "):
        smoke.service_probes(url, {})


def test_run_probes_reports_an_unreachable_url_in_one_line() -> None:
    port = closed_port()
    problems = smoke.run_probes([smoke.airflow_probe(f"http://127.0.0.1:{port}/")], 0)
    assert problems == [
        f"airflow health (GET http://127.0.0.1:{port}/api/v2/monitor/health): "
        "ConnectError: [Errno 111] Connection refused"
    ]


# --- the command --------------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_command_refuses_a_bad_tag_before_touching_the_host(
    host: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(host)
    outcome = run(monkeypatch, capsys, {}, "deploy", "rollout", "--tag", "v1.1.0 && reboot")
    assert outcome.code == 2
    assert outcome.err.strip() == (
        "error: --tag 'v1.1.0 && reboot': not an image tag "
        "(letters, digits, '_', '.', '-'; at most 128)"
    )
    assert calls(host) == []


def test_the_command_rolls_back_when_nothing_answers(
    host: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(host)
    url = f"http://127.0.0.1:{closed_port()}"
    outcome = run(
        monkeypatch, capsys, {}, "deploy", "rollout", "--tag", "v1.1.0",
        "--service-url", url, "--airflow-url", url, "--wait", "0",
    )  # fmt: skip
    assert outcome.code == 2
    assert len(outcome.err.strip().splitlines()) == 1
    assert outcome.err.startswith("error: smoke test of v1.1.0 failed: service readiness (GET ")
    assert outcome.err.strip().endswith("; rolled back to v1.0.0")
    assert calls(host) == [("pull", "v1.1.0"), ("up", "v1.1.0"), ("up", "v1.0.0")]
    assert (host / ".env").read_text() == ENV_TEXT


def test_smoke_names_an_unreachable_service_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    outcome = run(
        monkeypatch, capsys, {}, "deploy", "smoke", "--service-url", url,
        "--airflow-url", url, "--wait", "0",
    )  # fmt: skip
    assert outcome.code == 2
    assert len(outcome.err.strip().splitlines()) == 1
    assert f"service readiness (GET {url}/readyz): ConnectError" in outcome.err
    assert f"airflow health (GET {url}/api/v2/monitor/health): ConnectError" in outcome.err


def test_an_interrupted_rollout_still_restores_the_previous_tag(host: Path) -> None:
    def interrupted() -> list[str]:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rollout(stack(host), "v1.1.0", interrupted)
    assert calls(host) == [("pull", "v1.1.0"), ("up", "v1.1.0"), ("up", "v1.0.0")]
    assert (host / ".env").read_text() == ENV_TEXT
