"""`mlops stack ...`: the compose stack's files (docker-compose.yml, docker/README.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from advanced_mlops.cli import render

stack_app = typer.Typer(help="The docker compose stack.", no_args_is_help=True)


@stack_app.command("env")
def write_env(
    output: Annotated[Path, typer.Option("--output", help="The env file to write.")] = Path(".env"),
    example: Annotated[
        Path, typer.Option("--example", help="The template: every setting, secrets empty.")
    ] = Path(".env.example"),
    compose_file: Annotated[
        Path, typer.Option("--compose-file", help="Whose required variables are the secrets.")
    ] = Path("docker-compose.yml"),
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing env file (new passwords).")
    ] = False,
) -> None:
    """Write the compose `.env`: .env.example with every required secret generated."""
    from advanced_mlops.deploy.stack_env import write_env as write

    names = write(output, example, compose_file, force)
    render.console.print(
        f"wrote {output} (mode 0600) with generated {', '.join(names)}; the values are only in "
        "that file",
        highlight=False,
    )
