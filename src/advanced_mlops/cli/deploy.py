"""`mlops deploy ...`: what the release workflow runs on the deploy host (`make deploy TAG=...`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from advanced_mlops.cli import render
from advanced_mlops.errors import MlopsError

deploy_app = typer.Typer(
    help="Roll a released image tag out with docker compose; smoke-test; roll back on failure.",
    no_args_is_help=True,
)

ServiceUrlOption = Annotated[
    str | None,
    typer.Option(
        "--service-url",
        help="Base URL of the service; default: BIND_ADDRESS:SERVICE_PORT of the env file.",
        show_default=False,
    ),
]
AirflowUrlOption = Annotated[
    str | None,
    typer.Option(
        "--airflow-url",
        help="Base URL of Airflow's API; default: BIND_ADDRESS:AIRFLOW_PORT of the env file.",
        show_default=False,
    ),
]
WaitOption = Annotated[
    float,
    typer.Option(
        "--wait", min=0, help="Seconds the stack (in a rollout: each step) may take to be healthy."
    ),
]
EnvFileOption = Annotated[
    Path, typer.Option("--env-file", help="The compose env file (IMAGE_TAG, ports, BIND_ADDRESS).")
]


def smoke_urls(env_file: Path, service_url: str | None, airflow_url: str | None) -> tuple[str, str]:
    """The URLs given, else where the compose file publishes the service and Airflow, read from
    the env file (or the environment) as Compose reads them; without the file, its defaults."""
    from advanced_mlops.deploy.compose import AIRFLOW_PORT, SERVICE_PORT, published_url

    text = _env_text(env_file)
    return (
        service_url or published_url(text, SERVICE_PORT, env_file),
        airflow_url or published_url(text, AIRFLOW_PORT, env_file),
    )


def _env_text(env_file: Path) -> str:
    return env_file.read_text(encoding="utf-8") if env_file.is_file() else ""


@deploy_app.command()
def smoke(
    service_url: ServiceUrlOption = None,
    airflow_url: AirflowUrlOption = None,
    env_file: EnvFileOption = Path(".env"),
    wait: WaitOption = 60,
) -> None:
    """Service ready and predicting, Airflow's scheduler healthy; exit 2 naming what is not."""
    from advanced_mlops.deploy.smoke import default_probes, run_probes

    service_url, airflow_url = smoke_urls(env_file, service_url, airflow_url)
    problems = run_probes(default_probes(service_url, airflow_url), wait)
    if problems:
        raise MlopsError(f"smoke test failed: {'; '.join(problems)}")
    render.console.print(f"smoke test passed: {service_url} predicts, {airflow_url} is healthy")


@deploy_app.command()
def rollout(
    tag: Annotated[str, typer.Option("--tag", help="Image tag to deploy, e.g. v1.2.0.")],
    env_file: EnvFileOption = Path(".env"),
    compose_files: Annotated[
        list[Path] | None,
        typer.Option("--compose-file", help="Compose file (repeatable).", show_default=False),
    ] = None,
    services: Annotated[
        list[str] | None,
        typer.Option("--service", help="Compose service to update (repeatable; default all)."),
    ] = None,
    service_url: ServiceUrlOption = None,
    airflow_url: AirflowUrlOption = None,
    wait: WaitOption = 180,
    pull: Annotated[
        bool,
        typer.Option(
            "--pull/--no-pull",
            help="Pull the tag's images first; --no-pull: they are on the host already "
            "(docker load, an air-gapped host).",
        ),
    ] = True,
) -> None:
    """Check out the tag (in a git checkout), write IMAGE_TAG, pull, `up -d --no-build` every
    service but the service's replicas, then each replica alone (healthy and smoke-tested on its
    own port before the next), smoke-test the stack; on failure put everything back and
    smoke-test the previous tag."""
    from advanced_mlops.deploy.compose import (
        REPLICAS,
        Checkout,
        Compose,
        Replica,
        check_tag,
        published_url,
    )
    from advanced_mlops.deploy.compose import rollout as run_rollout
    from advanced_mlops.deploy.smoke import (
        default_probes,
        run_probes,
        sample_record,
        service_probes,
    )

    check_tag(tag)  # bad input is refused before anything on the host changes
    record, text = sample_record(), _env_text(env_file)
    probes = default_probes(*smoke_urls(env_file, service_url, airflow_url), record)
    alone = {r: service_probes(published_url(text, r.port, env_file), record) for r in REPLICAS}

    def replica_smoke(replica: Replica) -> list[str]:
        return run_probes(alone[replica], wait)

    files = compose_files or [Path("docker-compose.yml")]
    compose = Compose(env_file, files, services or [])
    checkout = Checkout.of(files[0].resolve().parent)
    previous = run_rollout(
        compose, tag, lambda: run_probes(probes, wait), checkout, pull, replica_smoke, wait
    )
    moved = f", {checkout.path} on {tag}" if checkout else ""
    render.console.print(
        f"deployed {tag}{moved}, smoke test passed; previous tag {previous or 'none'} kept in "
        f"{env_file}"
    )
