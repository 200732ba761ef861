"""`mlops deploy`: the tag switch, the checkout, the rollback, the smoke judges and bad input.

The compose calls are real subprocesses of a fake `docker` on PATH, which records its arguments
with the IMAGE_TAG it was run on and fails the way Compose does for a missing, unpullable or
crashing tag; the checkouts are real git repositories.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from advanced_mlops.deploy import compose, smoke
from advanced_mlops.deploy.compose import Checkout, Compose, Replica, rollout
from advanced_mlops.errors import MlopsError
from tests.code.fake_docker import ENV_TEXT, calls, compose_files_used, deploy_host, steps
from tests.conftest import free_port
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


def failing_on(host: Path, tag: str, problem: str) -> Callable[[], list[str]]:
    """A smoke test that fails while the env file is on `tag`, and passes on any other."""
    return lambda: [problem] if f"IMAGE_TAG={tag}\n" in (host / ".env").read_text() else []


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
        "--no-build",  # never built from the checkout: see the unpullable tag below
        "--wait",  # healthy, or a failure in that time: a bad release fails fast
        "--wait-timeout",
        "180",
        "service",
        "airflow-scheduler",
    ]
    text = (host / ".env").read_text()
    assert text == (
        "# the deploy host's compose env\nMARIADB_PASSWORD='s3cret'\n"
        "IMAGE_TAG=v1.1.0\nPREVIOUS_IMAGE_TAG=v1.0.0\n"
    )


def test_a_failed_smoke_test_restores_the_previous_tag_and_says_it_is_healthy(host: Path) -> None:
    smoke = failing_on(host, "v1.1.0", "prediction (POST /predict): answered 500")
    with pytest.raises(MlopsError) as error:
        rollout(stack(host), "v1.1.0", smoke)
    assert str(error.value) == (
        "smoke test of v1.1.0 failed: prediction (POST /predict): answered 500; "
        "rolled back to v1.0.0, which passes the smoke test"
    )
    assert calls(host) == [("pull", "v1.1.0"), ("up", "v1.1.0"), ("up", "v1.0.0")]
    assert (host / ".env").read_text() == ENV_TEXT


def test_a_rollback_onto_an_unhealthy_previous_tag_says_so(host: Path) -> None:
    smoke = failing("service readiness (GET /readyz): answered 503, not ready")
    with pytest.raises(MlopsError) as error:
        rollout(stack(host), "v1.1.0", smoke)
    assert str(error.value) == (
        "smoke test of v1.1.0 failed: service readiness (GET /readyz): answered 503, not ready; "
        "rolled back to v1.0.0, which fails the smoke test too: "
        "service readiness (GET /readyz): answered 503, not ready"
    )
    assert calls(host) == [("pull", "v1.1.0"), ("up", "v1.1.0"), ("up", "v1.0.0")]


def test_a_tag_that_pulls_with_a_mere_warning_is_never_built_from_the_checkout(
    host: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Compose only warns when it cannot pull a service that has a `build:` section; `up -d`
    would then build the release from whatever is checked out."""
    monkeypatch.setenv("FAKE_DOCKER_UNPULLABLE", "v1.1.0")
    with pytest.raises(MlopsError) as error:
        rollout(stack(host), "v1.1.0", passing)
    assert str(error.value) == (
        "`docker compose up -d --no-build --wait --wait-timeout 180` exited 1: Error response "
        "from daemon: No such image: "
        "ghcr.io/o/s:v1.1.0; rolled back to v1.0.0, which passes the smoke test"
    )
    assert calls(host) == [("pull", "v1.1.0"), ("up", "v1.1.0"), ("up", "v1.0.0")]
    assert (host / ".env").read_text() == ENV_TEXT


def test_images_loaded_on_the_host_are_not_pulled(host: Path) -> None:
    rollout(stack(host), "v1.1.0", passing, pull=False)
    assert calls(host) == [("up", "v1.1.0")]
    with pytest.raises(MlopsError, match=r"rolled back to v1\.1\.0, which passes"):
        rollout(stack(host), "v1.2.0", failing_on(host, "v1.2.0", "down"), pull=False)
    assert calls(host)[1:] == [("up", "v1.2.0"), ("up", "v1.1.0")]


def test_an_image_tag_in_the_shell_does_not_defeat_the_switch(
    host: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAGE_TAG", "v0.9.0")  # Compose prefers it to the env file's
    rollout(stack(host), "v1.1.0", passing)
    assert calls(host) == [("pull", "v1.1.0"), ("up", "v1.1.0")]


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
    with pytest.raises(
        MlopsError, match=r"exited \(1\) on v1.1.0; rolled back to v1.0.0, which passes the smoke"
    ):
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
    with pytest.raises(
        MlopsError, match=r"; no previous IMAGE_TAG to roll back to: the host runs the failed tag$"
    ):
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


# --- the service's replicas: replaced one at a time, the other answering ------------------------

REPLICATED = "services: {mariadb: {}, mlflow: {}, proxy: {}, service-blue: {}, service-green: {}}\n"
OTHERS = "mariadb mlflow proxy"


@pytest.fixture
def replicated(host: Path) -> Path:
    """The deploy host with a compose file whose service runs as the two replicas."""
    (host / "docker-compose.yml").write_text(REPLICATED)
    return host


class ReplicaSmokes:
    """Smoke tests of single replicas: records which replica was tested on which tag after how
    many docker calls; fails for the (replica, tag) pairs given."""

    def __init__(self, host: Path, *failing: tuple[str, str]) -> None:
        self.host, self.failing = host, set(failing)
        self.seen: list[tuple[str, str | None, int]] = []

    def __call__(self, replica: Replica) -> list[str]:
        tag = compose.env_value((self.host / ".env").read_text(), "IMAGE_TAG")
        self.seen.append((replica.service, tag, len(steps(self.host))))
        failed = (replica.service, tag) in self.failing
        return ["prediction (POST /predict): answered 500"] if failed else []


def test_the_replicas_are_replaced_one_at_a_time_each_smoke_tested_before_the_next(
    replicated: Path,
) -> None:
    smokes = ReplicaSmokes(replicated)
    assert rollout(stack(replicated), "v1.1.0", passing, replica_smoke=smokes, wait=30) == "v1.0.0"
    assert steps(replicated) == [
        ("pull", "v1.1.0", ""),
        ("up", "v1.1.0", OTHERS),  # MLflow, migrations... first: the replicas need them
        ("up", "v1.1.0", "service-blue"),
        ("up", "v1.1.0", "service-green"),
    ]
    # blue was smoke-tested alone after its own start and before green was touched
    assert smokes.seen == [("service-blue", "v1.1.0", 3), ("service-green", "v1.1.0", 4)]
    replica_args = json.loads((replicated / "docker.log").read_text().splitlines()[2])["args"]
    up = ["up", "-d", "--no-build", "--no-deps", "--wait", "--wait-timeout", "30"]
    assert replica_args[-8:-1] == up
    assert replica_args[-1] == "service-blue"  # alone: its dependencies are not recreated


def test_a_replica_that_fails_is_put_back_alone_while_the_other_serves(replicated: Path) -> None:
    smokes = ReplicaSmokes(replicated, ("service-blue", "v1.1.0"))
    with pytest.raises(MlopsError) as error:
        rollout(stack(replicated), "v1.1.0", passing, replica_smoke=smokes, wait=30)
    assert str(error.value) == (
        "smoke test of v1.1.0 failed: service-blue: prediction (POST /predict): answered 500; "
        "rolled back to v1.0.0, which passes the smoke test"
    )
    assert steps(replicated) == [
        ("pull", "v1.1.0", ""),
        ("up", "v1.1.0", OTHERS),
        ("up", "v1.1.0", "service-blue"),
        ("up", "v1.0.0", OTHERS),
        ("up", "v1.0.0", "service-blue"),  # green was never touched: it served throughout
    ]
    assert smokes.seen[-1] == ("service-blue", "v1.0.0", 5)  # the old tag smoke-tested again
    assert (replicated / ".env").read_text() == ENV_TEXT


def test_a_replica_that_never_gets_healthy_puts_both_back_the_last_one_first(
    replicated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_DOCKER_CRASHING", "v1.1.0@service-green")
    smokes = ReplicaSmokes(replicated)
    with pytest.raises(MlopsError) as error:
        rollout(stack(replicated), "v1.1.0", passing, replica_smoke=smokes, wait=12.5)
    assert str(error.value) == (
        "`docker compose up -d --no-build --no-deps --wait --wait-timeout 13 service-green` "
        "exited 1: dependency failed to start: container service-green exited (1) on v1.1.0; "
        "rolled back to v1.0.0, which passes the smoke test"
    )
    assert steps(replicated)[3:] == [
        ("up", "v1.1.0", "service-green"),
        ("up", "v1.0.0", OTHERS),
        ("up", "v1.0.0", "service-green"),
        ("up", "v1.0.0", "service-blue"),
    ]
    assert [(name, tag) for name, tag, _ in smokes.seen] == [
        ("service-blue", "v1.1.0"),
        ("service-green", "v1.0.0"),
        ("service-blue", "v1.0.0"),
    ]


def test_a_replica_failing_on_the_old_tag_too_is_reported(replicated: Path) -> None:
    smokes = ReplicaSmokes(replicated, ("service-blue", "v1.1.0"), ("service-blue", "v1.0.0"))
    expected = r"v1\.0\.0, which fails the smoke test too: service-blue: prediction \(POST /predict"
    with pytest.raises(MlopsError, match=expected):
        rollout(stack(replicated), "v1.1.0", passing, replica_smoke=smokes, wait=30)


def test_a_stack_that_fails_after_both_replicas_puts_both_back(replicated: Path) -> None:
    smoke = failing_on(replicated, "v1.1.0", "airflow health: scheduler is unhealthy")
    with pytest.raises(MlopsError, match=r"unhealthy; rolled back to v1\.0\.0, which passes"):
        rollout(stack(replicated), "v1.1.0", smoke, replica_smoke=ReplicaSmokes(replicated))
    assert steps(replicated)[4:] == [
        ("up", "v1.0.0", OTHERS),
        ("up", "v1.0.0", "service-green"),
        ("up", "v1.0.0", "service-blue"),
    ]


def test_services_named_keep_the_replicas_apart(replicated: Path) -> None:
    rollout(stack(replicated, "service-green", "mlflow"), "v1.1.0", passing, pull=False)
    assert steps(replicated) == [("up", "v1.1.0", "mlflow"), ("up", "v1.1.0", "service-green")]


def test_an_interrupted_replica_is_put_back_without_a_smoke_test(replicated: Path) -> None:
    def interrupted(replica: Replica) -> list[str]:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rollout(stack(replicated), "v1.1.0", passing, pull=False, replica_smoke=interrupted)
    assert steps(replicated) == [
        ("up", "v1.1.0", OTHERS),
        ("up", "v1.1.0", "service-blue"),
        ("up", "v1.0.0", OTHERS),
        ("up", "v1.0.0", "service-blue"),
    ]
    assert (replicated / ".env").read_text() == ENV_TEXT


# --- the deploy folder as a git checkout ------------------------------------------------------


def git(folder: Path, *args: str) -> str:
    command = ["git", "-C", str(folder), "-c", "user.name=ci", "-c", "user.email=ci@example.org"]
    return subprocess.run([*command, *args], capture_output=True, text=True, check=True).stdout


def release(folder: Path, tag: str) -> None:
    """A commit whose compose file names `tag`, tagged `tag`."""
    (folder / "docker-compose.yml").write_text(f"services: {{}}  # {tag}\n")
    git(folder, "add", "docker-compose.yml")
    git(folder, "commit", "--quiet", "-m", f"release {tag}")
    git(folder, "tag", tag)


@pytest.fixture
def checkout(host: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The deploy folder as a checkout on branch main at v1.0.0; v1.1.0 exists only on origin."""
    git(host, "init", "--quiet", "--initial-branch=main")
    release(host, "v1.0.0")
    origin = tmp_path_factory.mktemp("origin")
    git(origin, "clone", "--quiet", str(host), ".")
    release(origin, "v1.1.0")
    git(host, "remote", "add", "origin", str(origin))
    return host


def test_a_checkout_is_moved_to_the_released_tag_before_compose_runs(checkout: Path) -> None:
    rollout(stack(checkout), "v1.1.0", passing, Checkout(checkout))  # fetched from origin
    assert git(checkout, "describe", "--tags", "--exact-match").strip() == "v1.1.0"
    assert compose_files_used(checkout) == ["services: {}  # v1.1.0\n"] * 2
    assert calls(checkout) == [("pull", "v1.1.0"), ("up", "v1.1.0")]


def test_a_failed_release_puts_the_checkout_back_on_its_branch(checkout: Path) -> None:
    smoke = failing_on(checkout, "v1.1.0", "airflow health: scheduler is unhealthy")
    with pytest.raises(MlopsError) as error:
        rollout(stack(checkout), "v1.1.0", smoke, Checkout(checkout))
    assert str(error.value) == (
        "smoke test of v1.1.0 failed: airflow health: scheduler is unhealthy; "
        "checkout back on main; rolled back to v1.0.0, which passes the smoke test"
    )
    assert git(checkout, "branch", "--show-current").strip() == "main"
    assert compose_files_used(checkout) == [
        "services: {}  # v1.1.0\n",
        "services: {}  # v1.1.0\n",
        "services: {}  # v1.0.0\n",  # the old tag restarted with its own compose file
    ]
    assert (checkout / ".env").read_text() == ENV_TEXT


def test_a_tag_already_in_the_checkout_needs_no_fetch(checkout: Path) -> None:
    release(checkout, "v1.0.1")
    git(checkout, "checkout", "--quiet", "v1.0.0")  # detached, as after an earlier rollout
    git(checkout, "remote", "set-url", "origin", str(checkout / "unreachable"))
    with pytest.raises(MlopsError, match=r"; checkout back on [0-9a-f]{40}; rolled back to v1"):
        rollout(
            stack(checkout), "v1.0.1", failing_on(checkout, "v1.0.1", "down"), Checkout(checkout)
        )
    assert git(checkout, "describe", "--tags", "--exact-match").strip() == "v1.0.0"


def test_local_changes_or_an_unknown_tag_change_nothing(checkout: Path) -> None:
    (checkout / "docker-compose.yml").write_text("services: {}  # edited on the host\n")
    with pytest.raises(MlopsError) as error:
        rollout(stack(checkout), "v1.1.0", passing, Checkout(checkout))
    assert str(error.value) == (
        f"{checkout} has local changes to docker-compose.yml: commit or discard them"
    )
    git(checkout, "checkout", "--quiet", "--", "docker-compose.yml")
    with pytest.raises(MlopsError, match=r"^`git fetch --quiet --no-tags origin tag v9.9.9` exi"):
        rollout(stack(checkout), "v9.9.9", passing, Checkout(checkout))
    assert git(checkout, "branch", "--show-current").strip() == "main"
    assert calls(checkout) == []
    assert (checkout / ".env").read_text() == ENV_TEXT


def test_a_plain_folder_is_no_checkout(host: Path, checkout: Path) -> None:
    assert Checkout.of(host / "bin") is None
    assert Checkout.of(checkout) == Checkout(checkout)


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
    port = free_port()
    problems = smoke.run_probes([smoke.airflow_probe(f"http://127.0.0.1:{port}/")], 0)
    assert problems == [
        f"airflow health (GET http://127.0.0.1:{port}/api/v2/monitor/health): "
        "ConnectError: [Errno 111] Connection refused"
    ]


@pytest.mark.parametrize(
    ("text", "environ", "service", "airflow"),
    [
        ("", {}, "http://127.0.0.1:3000", "http://127.0.0.1:8080"),  # compose's defaults
        ("SERVICE_PORT=3100\nAIRFLOW_PORT=\n", {}, "http://127.0.0.1:3100", "http://127.0.0.1:8080"),
        ("BIND_ADDRESS=0.0.0.0\n", {}, "http://127.0.0.1:3000", "http://127.0.0.1:8080"),
        ("BIND_ADDRESS=10.1.2.3\n", {"AIRFLOW_PORT": "18080"}, "http://10.1.2.3:3000",
         "http://10.1.2.3:18080"),  # the shell wins over the env file, as in Compose
        ("BIND_ADDRESS=::\nSERVICE_PORT=1\n", {}, "http://[::1]:1", "http://[::1]:8080"),
    ],
)  # fmt: skip
def test_smoke_urls_are_where_the_compose_file_publishes(
    text: str, environ: dict[str, str], service: str, airflow: str
) -> None:
    env_file = Path(".env")
    assert compose.published_url(text, compose.SERVICE_PORT, env_file, environ) == service
    assert compose.published_url(text, compose.AIRFLOW_PORT, env_file, environ) == airflow


@pytest.mark.parametrize("port", ["30x0", "0", "70000", "-1"])
def test_a_port_that_is_not_one_is_refused_naming_it(port: str) -> None:
    with pytest.raises(MlopsError, match=rf"^SERVICE_PORT='{port}' \(.env or the environment\)"):
        compose.published_url(f"SERVICE_PORT={port}\n", compose.SERVICE_PORT, Path(".env"), {})


# --- the command --------------------------------------------------------------------------------


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
    url = f"http://127.0.0.1:{free_port()}"
    outcome = run(
        monkeypatch, capsys, {}, "deploy", "rollout", "--tag", "v1.1.0",
        "--service-url", url, "--airflow-url", url, "--wait", "0",
    )  # fmt: skip
    assert outcome.code == 2
    assert len(outcome.err.strip().splitlines()) == 1
    assert outcome.err.startswith("error: smoke test of v1.1.0 failed: service readiness (GET ")
    assert "; rolled back to v1.0.0, which fails the smoke test too: service readiness (GET " in (
        outcome.err
    )
    assert calls(host) == [("pull", "v1.1.0"), ("up", "v1.1.0"), ("up", "v1.0.0")]
    assert (host / ".env").read_text() == ENV_TEXT


def test_smoke_names_an_unreachable_service_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
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
        rollout(stack(host), "v1.1.0", interrupted)  # not smoke-tested again: it was interrupted
    assert calls(host) == [("pull", "v1.1.0"), ("up", "v1.1.0"), ("up", "v1.0.0")]
    assert (host / ".env").read_text() == ENV_TEXT


def test_smoke_targets_the_env_files_ports_unless_told_otherwise(
    host: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    service, airflow, given = free_port(), free_port(), free_port()
    env_file = host / "deploy.env"
    env_file.write_text(f"BIND_ADDRESS=0.0.0.0\nSERVICE_PORT={service}\nAIRFLOW_PORT={airflow}\n")
    args = ("deploy", "smoke", "--env-file", str(env_file), "--wait", "0")
    outcome = run(monkeypatch, capsys, {}, *args)
    assert outcome.code == 2
    assert f"(GET http://127.0.0.1:{service}/readyz)" in outcome.err
    assert f"(GET http://127.0.0.1:{airflow}/api/v2/monitor/health)" in outcome.err
    flagged = run(monkeypatch, capsys, {}, *args, "--service-url", f"http://127.0.0.1:{given}")
    assert f"(GET http://127.0.0.1:{given}/readyz)" in flagged.err
    assert f"(GET http://127.0.0.1:{airflow}/api/v2/monitor/health)" in flagged.err
    env_file.write_text("SERVICE_PORT=web\n")
    refused = run(monkeypatch, capsys, {}, *args)
    assert refused.code == 2
    assert refused.err.strip() == (
        f"error: SERVICE_PORT='web' ({env_file} or the environment): not a port number"
    )


def test_the_command_moves_a_git_checkout_and_puts_it_back(
    checkout: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(checkout)
    (checkout / ".env").write_text(f"{ENV_TEXT}SERVICE_PORT={free_port()}\n")
    outcome = run(monkeypatch, capsys, {}, "deploy", "rollout", "--tag", "v1.1.0", "--wait", "0")
    assert outcome.code == 2
    assert "; checkout back on main; rolled back to v1.0.0, which fails the smoke test too" in (
        outcome.err
    )
    assert compose_files_used(checkout)[0] == "services: {}  # v1.1.0\n"
    assert git(checkout, "branch", "--show-current").strip() == "main"


def test_the_command_smoke_tests_each_replica_on_its_own_port(
    replicated: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(replicated)
    blue = free_port()
    (replicated / ".env").write_text(f"{ENV_TEXT}SERVICE_BLUE_PORT={blue}\n")
    outcome = run(monkeypatch, capsys, {}, "deploy", "rollout", "--tag", "v1.1.0", "--wait", "0")
    assert outcome.code == 2
    assert outcome.err.startswith(
        f"error: smoke test of v1.1.0 failed: service-blue: service readiness "
        f"(GET http://127.0.0.1:{blue}/readyz): ConnectError"
    )
    assert "; rolled back to v1.0.0, which fails the smoke test too: service-blue: " in outcome.err
    assert [name for _, _, name in steps(replicated)] == [
        "", OTHERS, "service-blue", OTHERS, "service-blue"
    ]  # fmt: skip
