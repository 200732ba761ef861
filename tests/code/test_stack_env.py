"""`mlops stack env`: a compose .env a newcomer can start the stack with, never replacing the
one whose passwords the databases were created with, never printing a secret."""

from __future__ import annotations

import importlib.metadata
import io
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from dotenv import dotenv_values

from advanced_mlops.deploy.stack_env import FERNET_KEY, required_variables

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
EXAMPLE = ROOT / ".env.example"


def mlops(*args: str) -> tuple[int, str]:
    """The installed `mlops`, as a user runs it: exit code, and stdout with stderr."""
    done = subprocess.run(
        [str(Path(sys.executable).parent / "mlops"), *args],
        capture_output=True, text=True, check=False, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    return done.returncode, done.stdout + done.stderr


def stack_env(output: Path, *extra: str, example: Path = EXAMPLE) -> tuple[int, str]:
    args = ["--output", str(output), "--example", str(example), "--compose-file", str(COMPOSE)]
    return mlops("stack", "env", *args, *extra)


def values(path: Path) -> dict[str, str | None]:
    return dotenv_values(stream=io.StringIO(path.read_text()))


def test_it_writes_every_required_secret_and_keeps_the_rest(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    code, output = stack_env(env)
    assert code == 0, output
    written, example = values(env), values(EXAMPLE)
    required = required_variables(COMPOSE.read_text())
    assert len(required) >= 6
    secrets = [written[name] for name in [*required, FERNET_KEY]]
    assert all(secrets)
    assert len(set(secrets)) == len(secrets)
    for name in required:  # they go into database URLs unescaped
        assert re.fullmatch(r"[A-Za-z0-9_-]{32}", written[name] or ""), name
    assert {k: v for k, v in written.items() if k not in required and k != FERNET_KEY} == {
        k: v for k, v in example.items() if k not in required and k != FERNET_KEY
    }
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    for secret in secrets:
        assert secret not in output
    assert not list(tmp_path.glob(".*.partial"))


def test_the_fernet_key_is_one_airflow_accepts(tmp_path: Path) -> None:
    fernet = pytest.importorskip("cryptography.fernet")
    stack_env(tmp_path / ".env")
    key = values(tmp_path / ".env")[FERNET_KEY]
    assert key is not None
    token = fernet.Fernet(key.encode()).encrypt(b"connection")
    assert fernet.Fernet(key.encode()).decrypt(token) == b"connection"


def test_an_existing_env_is_kept_unless_forced(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("MARIADB_PASSWORD=the-one-the-volume-was-made-with\n")
    code, output = stack_env(env)
    assert code == 2
    assert "exists" in output
    assert "--force" in output
    assert env.read_text() == "MARIADB_PASSWORD=the-one-the-volume-was-made-with\n"
    code, _ = stack_env(env, "--force")
    assert code == 0
    assert values(env)["MARIADB_PASSWORD"] not in ("the-one-the-volume-was-made-with", None)


def test_a_missing_template_is_named(tmp_path: Path) -> None:
    code, output = stack_env(tmp_path / ".env", example=tmp_path / "nope.example")
    assert code == 2
    assert "nope.example: no such file" in output
    assert not (tmp_path / ".env").exists()


def test_compose_names_the_command_for_each_missing_secret() -> None:
    messages = re.findall(r"\$\{(\w+):\?([^}]*)\}", COMPOSE.read_text())
    assert messages
    for name, message in messages:
        assert "make stack-env" in message, name


def test_mlops_version_is_the_installed_distributions() -> None:
    code, output = mlops("--version")
    assert code == 0
    assert output.strip() == f"advanced-mlops {importlib.metadata.version('advanced-mlops')}"
