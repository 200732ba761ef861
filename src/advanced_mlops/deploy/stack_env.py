"""`mlops stack env`: the compose stack's `.env`, so that a newcomer never edits passwords by hand.

The secrets are the variables docker-compose.yml requires (`${NAME:?...}`, no default) plus
Airflow's Fernet key; each gets a fresh random value. Everything else is .env.example as it is.
An existing `.env` holds the passwords the databases were initialised with: it is never replaced
unless asked (`--force`), because new passwords would lock the stack out of its own volumes.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path

from advanced_mlops.deploy.compose import with_values
from advanced_mlops.errors import MlopsError

REQUIRED = re.compile(r"\$\{(\w+):\?[^}]*\}")
FERNET_KEY = "AIRFLOW_FERNET_KEY"


def required_variables(compose_text: str) -> list[str]:
    """The variables the compose file refuses to start without, in order of appearance."""
    return list(dict.fromkeys(REQUIRED.findall(compose_text)))


def fernet_key() -> str:
    """What `cryptography.fernet.Fernet.generate_key()` returns: 32 random bytes, base64url."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def password() -> str:
    """URL-safe (letters, digits, '-', '_'): the passwords end up inside database URLs."""
    return secrets.token_urlsafe(24)


def generated_secrets(
    names: list[str], new_password: Callable[[], str] = password
) -> dict[str, str]:
    return {**{name: new_password() for name in names}, FERNET_KEY: fernet_key()}


def env_text(example_text: str, values: dict[str, str]) -> str:
    """.env.example with `values` set in place (comments and the other settings kept)."""
    return with_values(example_text, values)


def write_env(output: Path, example: Path, compose_file: Path, force: bool = False) -> list[str]:
    """Write `output` (mode 0600) from `example` with generated secrets; returns their names."""
    if output.exists() and not force:
        raise MlopsError(
            f"{output} exists: it holds the passwords the stack's databases were created with; "
            "keep it, or pass --force to replace it (then the volumes need recreating)"
        )
    for file in (example, compose_file):
        if not file.is_file():
            raise MlopsError(f"{file}: no such file (run this from the repository's checkout)")
    values = generated_secrets(required_variables(compose_file.read_text(encoding="utf-8")))
    text = env_text(example.read_text(encoding="utf-8"), values)
    partial = output.with_name(f".{output.name}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(text)
    partial.replace(output)  # whole or not at all
    return list(values)
