"""docker-compose.yml: properties of the stack, read with PyYAML (no Docker needed)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from advanced_mlops.deploy.compose import REPLICAS

ROOT = Path(__file__).resolve().parents[2]
VARIABLE = re.compile(r"\$\{(\w+)(?::?[-?]([^}]*))?\}")
ONLY_VARIABLES = re.compile(r"^(\$\{\w+(:?[-?][^}]*)?\})+$")
SECRET_NAME = re.compile(r"(PASSWORD|SECRET|SECRET_KEY|FERNET_KEY)$")
URL_PASSWORD = re.compile(r"://[^:/@\s]+:([^@\s]+)@")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def environment(service: dict[str, Any]) -> dict[str, str]:
    return {key: str(value) for key, value in (service.get("environment") or {}).items()}


def strings(service: dict[str, Any]) -> list[str]:
    """Every value a service passes on: its environment and its command."""
    command = service.get("command") or []
    return [*environment(service).values(), *([command] if isinstance(command, str) else command)]


def test_every_service_is_health_checked_or_a_one_shot(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        check = service.get("healthcheck") or {}
        if service.get("restart") == "no":  # a one-shot: it runs, exits, and others wait for that
            continue
        assert check.get("test"), f"{name} has no healthcheck"
        assert not check.get("disable"), f"{name} has no healthcheck"
        assert service.get("restart") == "unless-stopped", f"{name} is not restarted"


def test_no_password_is_written_in_the_file(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for key, value in environment(service).items():
            if SECRET_NAME.search(key):
                assert ONLY_VARIABLES.match(value), f"{name}: {key} is not from .env"
        for value in strings(service):
            for password in URL_PASSWORD.findall(value):
                assert ONLY_VARIABLES.match(password), f"{name}: a URL holds a password"


def test_secrets_are_required_and_left_empty_in_env_example() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    required = {name for name, default in re.findall(r"\$\{(\w+):\?([^}]*)\}", text)}
    assert required == {
        "MARIADB_ROOT_PASSWORD",
        "MARIADB_PASSWORD",
        "POSTGRES_PASSWORD",
        "AIRFLOW_ADMIN_PASSWORD",
        "AIRFLOW_JWT_SECRET",
        "AIRFLOW_API_SECRET_KEY",
    }
    example = (ROOT / ".env.example").read_text()
    lint_env = (ROOT / "docker" / "compose.lint.env").read_text()
    for name in required:
        assert re.search(rf"^{name}=$", example, re.M), f".env.example gives {name} a value"
        assert re.search(rf"^{name}=\S", lint_env, re.M), f"compose.lint.env lacks {name}"


def test_every_variable_is_documented_in_env_example() -> None:
    text = (ROOT / "docker-compose.yml").read_text().replace("$$", "")
    example = (ROOT / ".env.example").read_text()
    for name in {match[0] for match in VARIABLE.findall(text)}:
        assert re.search(rf"^#? ?{name}=", example, re.M), f"{name} is not in .env.example"


def test_images_are_built_from_the_two_dockerfiles(services: dict[str, dict[str, Any]]) -> None:
    dockerfiles = {
        "docker/service.Dockerfile": "${SERVICE_IMAGE:-",
        "docker/airflow.Dockerfile": "${AIRFLOW_IMAGE:-",
    }
    built = {name: s for name, s in services.items() if "build" in s}
    for name, service in built.items():
        dockerfile = service["build"]["dockerfile"]
        assert dockerfile in dockerfiles, f"{name} builds {dockerfile}"
        assert (ROOT / dockerfile).is_file()
        assert service["image"].startswith(dockerfiles[dockerfile]), name
        assert service["image"].endswith(":${IMAGE_TAG:-latest}"), name
    assert {s["build"]["dockerfile"] for s in built.values()} == set(dockerfiles)
    assert all(
        built[n]["build"]["dockerfile"] == "docker/airflow.Dockerfile"
        for n in built
        if n.startswith("airflow-")
    )
    others = [s["image"] for name, s in services.items() if name not in built]
    assert all(VARIABLE.search(image) for image in others), "stock image tags come from .env"


def test_profiles(services: dict[str, dict[str, Any]]) -> None:
    def profile(name: str) -> set[str]:
        return {n for n, s in services.items() if name in s.get("profiles", [])}

    assert profile("celery") == {"redis", "airflow-worker-1", "airflow-worker-2"}
    assert profile("loadtest") == {"loadtest"}
    loadtest = services["loadtest"]["command"]
    assert loadtest[:2] == ["mlops", "loadtest"]
    assert "--host=http://proxy:3000" in loadtest
    assert services["loadtest"]["depends_on"] == {"proxy": {"condition": "service_healthy"}}
    for worker in ("airflow-worker-1", "airflow-worker-2"):
        assert services[worker]["command"] == ["airflow", "celery", "worker"]
        assert "redis" in services[worker]["depends_on"]
    executor = environment(services["airflow-scheduler"])["AIRFLOW__CORE__EXECUTOR"]
    assert executor == "${AIRFLOW_EXECUTOR:-LocalExecutor}"
    # Services without a profile never depend on one that has one (Compose v2 refuses that).
    for name, service in services.items():
        if not service.get("profiles"):
            assert not set(service.get("depends_on", {})) & profile("celery"), name


def test_published_ports_are_variables(services: dict[str, dict[str, Any]]) -> None:
    published = {name: s["ports"] for name, s in services.items() if "ports" in s}
    assert set(published) == {
        "mariadb", "mlflow", "proxy", "service-blue", "service-green", "airflow-api-server"
    }  # fmt: skip
    for name, ports in published.items():
        for port in ports:
            host_part = str(port).rsplit(":", 1)[0]
            assert ONLY_VARIABLES.match(host_part.replace(":", "")), f"{name}: {port}"


def test_airflow_gets_what_the_dags_need(services: dict[str, dict[str, Any]]) -> None:
    airflow = {n: s for n, s in services.items() if n.startswith("airflow-")}
    assert {
        "airflow-init",
        "airflow-api-server",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
    } <= set(airflow)
    for name, service in airflow.items():
        env = environment(service)
        assert env["MLOPS_AIRFLOW_CONN_ID"] == "mlops_store", name
        assert env["AIRFLOW_CONN_MLOPS_STORE"].startswith("mysql+pymysql://"), name
        assert env["GX_ANALYTICS_ENABLED"] == "false", name
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"].startswith(
            "http://airflow-api-server:8080/"
        ), name
    assert services["airflow-init"]["restart"] == "no"
    assert "airflow db migrate" in services["airflow-init"]["command"][-1]
    for replica in REPLICAS:
        assert services[replica.service]["depends_on"]["mlops-init"] == {
            "condition": "service_completed_successfully"
        }


# --- the service's replicas behind the proxy (mlops deploy rollout replaces one at a time) -------


def test_the_service_runs_as_the_replicas_the_rollout_knows(
    services: dict[str, dict[str, Any]],
) -> None:
    serving = {n for n, s in services.items() if s.get("command") is None and "build" in s}
    assert serving == {replica.service for replica in REPLICAS}, "mlops serve runs elsewhere"
    assert "service" not in services  # one container for port 3000 meant an outage per rollout
    for replica in REPLICAS:
        service = services[replica.service]
        key, default = replica.port  # where the rollout smoke-tests it alone
        assert service["ports"] == [f"${{BIND_ADDRESS:-127.0.0.1}}:${{{key}:-{default}}}:3000"]
        assert "/readyz" in service["healthcheck"]["test"][-1]
        assert service["restart"] == "unless-stopped"
        assert service["image"] == services["mlflow"]["image"]  # released with the same tag


def test_each_replica_has_a_journal_of_its_own(services: dict[str, dict[str, Any]]) -> None:
    """The journal at /var/lib/mlops is written by one process: never a volume shared."""
    journals = [
        volume.split(":")[0]
        for replica in REPLICAS
        for volume in services[replica.service]["volumes"]
        if volume.split(":")[1] == "/var/lib/mlops"
    ]
    assert len(journals) == len(REPLICAS) == len(set(journals))
    for name, service in services.items():
        if name not in {replica.service for replica in REPLICAS}:
            mounted = {str(volume).split(":")[0] for volume in service.get("volumes", [])}
            assert not mounted & set(journals), f"{name} mounts a replica's journal"


def test_the_proxy_publishes_the_service_and_is_healthy_through_a_replica(
    services: dict[str, dict[str, Any]],
) -> None:
    proxy = services["proxy"]
    assert proxy["ports"] == ["${BIND_ADDRESS:-127.0.0.1}:${SERVICE_PORT:-3000}:3000"]
    assert proxy["image"].startswith("haproxy:${HAPROXY_VERSION:-")
    assert proxy["healthcheck"]["test"][-1] == "http://127.0.0.1:3000/readyz"
    assert proxy["restart"] == "unless-stopped"
    config = "./docker/proxy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro"
    assert proxy["volumes"] == [config]
    # The rollout starts every other service before the replicas: none may pull them in (it
    # would recreate both at once), nor may the proxy wait for them (a fresh stack has no
    # champion yet).
    for name, service in services.items():
        if not service.get("profiles"):
            needs = set(service.get("depends_on", {}))
            assert not needs & {replica.service for replica in REPLICAS}, name


def test_the_proxy_sends_to_each_replica_only_when_ready() -> None:
    config = (ROOT / "docker" / "proxy" / "haproxy.cfg").read_text()
    lines = [line.split("#")[0].strip() for line in config.splitlines()]
    servers = [line.split()[2] for line in lines if line.startswith("server ")]
    assert servers == [f"{replica.service}:3000" for replica in REPLICAS]
    assert "bind :3000" in lines
    assert "http-check send meth GET uri /readyz" in lines
    assert "http-check expect status 200" in lines
    defaults = next(line for line in lines if line.startswith("default-server "))
    # health-checked, addresses asked again of Docker's DNS (a replaced replica has a new one),
    # started even while a replica is not running
    assert {"check", "resolvers", "docker", "init-addr"} <= set(defaults.split())
    assert "option redispatch 1" in lines
    assert any(line.startswith("retry-on conn-failure empty-response") for line in lines)
