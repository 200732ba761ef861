"""A fake `docker` executable for the deploy tests: real subprocess calls, recorded with the
IMAGE_TAG of the env file they ran on, failing the way Docker does for a missing or crashing tag
(FAKE_DOCKER_MISSING, FAKE_DOCKER_CRASHING: comma-separated tags)."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

FAKE_DOCKER = f"""#!{sys.executable}
import json, os, sys
args = sys.argv[1:]
env_file = args[args.index("--env-file") + 1]
tags = [line.split("=", 1)[1] for line in open(env_file).read().splitlines()
        if line.startswith("IMAGE_TAG=")]
tag = tags[-1] if tags else None
verb = "pull" if "pull" in args else "up"
with open(os.environ["FAKE_DOCKER_LOG"], "a") as log:
    log.write(json.dumps({{"verb": verb, "tag": tag, "args": args}}) + "\\n")
if verb == "pull" and tag in os.environ.get("FAKE_DOCKER_MISSING", "").split(","):
    sys.exit(f"Error response from daemon: manifest for ghcr.io/o/s:{{tag}} not found")
if verb == "up" and tag in os.environ.get("FAKE_DOCKER_CRASHING", "").split(","):
    print("Container service  Started", file=sys.stderr)
    sys.exit(f"dependency failed to start: container service exited (1) on {{tag}}")
"""

ENV_TEXT = "# the deploy host's compose env\nMARIADB_PASSWORD='s3cret'\nIMAGE_TAG=v1.0.0\n"


def deploy_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A deploy folder with an env file and a compose file, and the fake docker first on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(FAKE_DOCKER)
    docker.chmod(docker.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_DOCKER_LOG", str(tmp_path / "docker.log"))
    (tmp_path / ".env").write_text(ENV_TEXT)
    (tmp_path / "docker-compose.yml").write_text("services: {}\n")
    return tmp_path


def calls(host: Path) -> list[tuple[str, str | None]]:
    log = host / "docker.log"
    lines = log.read_text().splitlines() if log.exists() else []
    return [(c["verb"], c["tag"]) for c in map(json.loads, lines)]
