"""`mlops airflow ...`: run Airflow 3 on this machine with this project's DAGs and stores."""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Annotated

import typer

from advanced_mlops.cli import render
from advanced_mlops.settings import load_settings, masked_url

airflow_app = typer.Typer(help="Airflow 3 with this project's DAGs.", no_args_is_help=True)

PortOption = Annotated[int, typer.Option("--port", help="Port of Airflow's API server and UI.")]
DagsOption = Annotated[
    Path | None, typer.Option("--dags", help="DAG folder (default: ./dags).", show_default=False)
]


def _environment(port: int, dags: Path | None) -> dict[str, str]:
    from advanced_mlops.orchestration.local import airflow_environment, dags_folder

    return airflow_environment(load_settings(), dags_folder(dags), port, dict(os.environ))


@airflow_app.command()
def standalone(port: PortOption = 8080, dags: DagsOption = None) -> None:
    """Migrate Airflow's metadata, then run all its processes (Ctrl+C stops them)."""
    from advanced_mlops.orchestration.local import airflow_executable

    env = _environment(port, dags)
    airflow = airflow_executable(env)
    render.console.print(
        f"Airflow on http://127.0.0.1:{port} (metadata "
        f"{masked_url(env['AIRFLOW__DATABASE__SQL_ALCHEMY_CONN'])}, DAGs "
        f"{env['AIRFLOW__CORE__DAGS_FOLDER']}); the admin password is printed below and kept in "
        f"{env['AIRFLOW_HOME']}/simple_auth_manager_passwords.json.generated"
    )
    os.execvpe(airflow, [airflow, "standalone"], env)


@airflow_app.command("env")
def show_env(
    port: PortOption = 8080,
    dags: DagsOption = None,
    show_secrets: Annotated[
        bool,
        typer.Option(
            "--show-secrets",
            help="Print the store and metadata URLs with their passwords (needed for eval).",
        ),
    ] = False,
) -> None:
    """Print the variables as `export` lines: `eval "$(mlops airflow env --show-secrets)"` then
    any `airflow`. Without --show-secrets, passwords are masked (safe for a terminal or a log)."""
    env = _environment(port, dags)
    for key in sorted(k for k, v in env.items() if os.environ.get(k) != v or k == "PATH"):
        value = env[key] if show_secrets else masked_url(env[key])
        typer.echo(f"export {key}={shlex.quote(value)}")
    if not show_secrets:
        typer.echo("# passwords masked: add --show-secrets to print them (this prints secrets)")


@airflow_app.command()
def worker(
    name: Annotated[str, typer.Option("--name", help="The worker's Celery name.")] = "worker",
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, help="Tasks this worker runs at once.")
    ] = 2,
    port: PortOption = 8080,
    dags: DagsOption = None,
) -> None:
    """A Celery worker (MLOPS_AIRFLOW_CELERY_BROKER_URL) running this project's tasks; --port is
    the API server's, whose Execution API the tasks report to."""
    from advanced_mlops.errors import MlopsError
    from advanced_mlops.orchestration.local import airflow_executable

    env = _environment(port, dags)
    if env.get("AIRFLOW__CORE__EXECUTOR") != "CeleryExecutor":
        raise MlopsError("set MLOPS_AIRFLOW_CELERY_BROKER_URL: a worker needs the Celery broker")
    airflow = airflow_executable(env)
    hostname = ["--celery-hostname", f"{name}@%h"]
    args = [airflow, "celery", "worker", *hostname, "--concurrency", str(concurrency)]
    os.execvpe(airflow, args, env)
