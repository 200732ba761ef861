"""A fake `docker` executable for the deploy tests: real subprocess calls, recorded with the
IMAGE_TAG they ran on (the shell's, else the env file's, as Compose reads it), behaving the way
Compose does for a tag (comma-separated lists of tags):

- FAKE_DOCKER_MISSING: `pull` fails;
- FAKE_DOCKER_UNPULLABLE: `pull` only warns and exits 0, as Compose does for a service that also
  has a `build:` section; `up` then builds the tag from the checkout (recorded as a `build`
  call) unless given `--no-build`, which fails for want of the image;
- FAKE_DOCKER_CRASHING: `up` fails, a container of the tag exiting; `TAG@SERVICE` only when
  `up` names that service (a replica whose new tag never gets healthy).

`config --services` lists the compose file's services (not recorded: it changes nothing)."""

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
tag = os.environ.get("IMAGE_TAG") or (tags[-1] if tags else None)
compose = open(args[args.index("-f") + 1]).read()
if "config" in args:
    import yaml
    print("\\n".join(yaml.safe_load(compose)["services"]))
    sys.exit(0)
verb = "pull" if "pull" in args else "up"
named = [a for a in args[args.index(verb) + 1:] if not a.startswith("-") and not a.isdigit()]
entries = lambda name: os.environ.get(name, "").split(",")
listed = lambda name: tag in entries(name) or any(f"{{tag}}@{{s}}" in entries(name) for s in named)
def record(verb):
    with open(os.environ["FAKE_DOCKER_LOG"], "a") as log:
        log.write(json.dumps(
            {{"verb": verb, "tag": tag, "args": args, "compose": compose, "services": named}}
        ))
        log.write("\\n")
record(verb)
if verb == "pull" and listed("FAKE_DOCKER_MISSING"):
    sys.exit(f"Error response from daemon: manifest for ghcr.io/o/s:{{tag}} not found")
if verb == "pull" and listed("FAKE_DOCKER_UNPULLABLE"):
    print(f"WARNING: pull access denied for ghcr.io/o/s:{{tag}}; it can be built", file=sys.stderr)
if verb == "up" and listed("FAKE_DOCKER_UNPULLABLE"):
    if "--no-build" in args:
        sys.exit(f"Error response from daemon: No such image: ghcr.io/o/s:{{tag}}")
    record("build")
if verb == "up" and listed("FAKE_DOCKER_CRASHING"):
    print("Container service  Started", file=sys.stderr)
    container = " ".join(named) or "service"
    sys.exit(f"dependency failed to start: container {{container}} exited (1) on {{tag}}")
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
    for key in ("IMAGE_TAG", "BIND_ADDRESS", "SERVICE_PORT", "AIRFLOW_PORT"):  # as Compose
        monkeypatch.delenv(key, raising=False)  # would, the shell's would win over the env file
    (tmp_path / ".env").write_text(ENV_TEXT)
    (tmp_path / "docker-compose.yml").write_text("services: {}\n")
    return tmp_path


def calls(host: Path) -> list[tuple[str, str | None]]:
    log = host / "docker.log"
    lines = log.read_text().splitlines() if log.exists() else []
    return [(c["verb"], c["tag"]) for c in map(json.loads, lines)]


def steps(host: Path) -> list[tuple[str, str | None, str]]:
    """Each docker call: its verb, tag and the services it named (space-separated)."""
    log = host / "docker.log"
    lines = log.read_text().splitlines() if log.exists() else []
    return [(c["verb"], c["tag"], " ".join(c["services"])) for c in map(json.loads, lines)]


def compose_files_used(host: Path) -> list[str]:
    """The compose file's text each docker call ran on."""
    lines = (host / "docker.log").read_text().splitlines()
    return [c["compose"] for c in map(json.loads, lines)]
