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
    str, typer.Option("--service-url", help="Base URL of the prediction service.")
]
AirflowUrlOption = Annotated[str, typer.Option("--airflow-url", help="Base URL of Airflow's API.")]
WaitOption = Annotated[
    float, typer.Option("--wait", min=0, help="Seconds the stack may take to become healthy.")
]


@deploy_app.command()
def smoke(
    service_url: ServiceUrlOption = "http://127.0.0.1:3000",
    airflow_url: AirflowUrlOption = "http://127.0.0.1:8080",
    wait: WaitOption = 60,
) -> None:
    """Service ready and predicting, Airflow's scheduler healthy; exit 2 naming what is not."""
    from advanced_mlops.deploy.smoke import default_probes, run_probes

    problems = run_probes(default_probes(service_url, airflow_url), wait)
    if problems:
        raise MlopsError(f"smoke test failed: {'; '.join(problems)}")
    render.console.print(f"smoke test passed: {service_url} predicts, {airflow_url} is healthy")


@deploy_app.command()
def rollout(
    tag: Annotated[str, typer.Option("--tag", help="Image tag to deploy, e.g. v1.2.0.")],
    env_file: Annotated[
        Path, typer.Option("--env-file", help="Compose env file holding IMAGE_TAG.")
    ] = Path(".env"),
    compose_files: Annotated[
        list[Path] | None,
        typer.Option("--compose-file", help="Compose file (repeatable).", show_default=False),
    ] = None,
    services: Annotated[
        list[str] | None,
        typer.Option("--service", help="Compose service to update (repeatable; default all)."),
    ] = None,
    service_url: ServiceUrlOption = "http://127.0.0.1:3000",
    airflow_url: AirflowUrlOption = "http://127.0.0.1:8080",
    wait: WaitOption = 180,
) -> None:
    """Write IMAGE_TAG, pull, `up -d`, smoke-test; on failure restore the previous tag."""
    from advanced_mlops.deploy.compose import Compose, check_tag
    from advanced_mlops.deploy.compose import rollout as run_rollout
    from advanced_mlops.deploy.smoke import default_probes, run_probes

    check_tag(tag)  # bad input is refused before anything on the host changes
    probes = default_probes(service_url, airflow_url)
    compose = Compose(env_file, compose_files or [Path("docker-compose.yml")], services or [])
    previous = run_rollout(compose, tag, lambda: run_probes(probes, wait))
    render.console.print(
        f"deployed {tag}, smoke test passed; previous tag {previous or 'none'} kept in {env_file}"
    )
