"""`make services` (.ci/services): says what answers, and says how to get what is missing."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(ROOT / ".ci" / "services")], env=env, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip


def test_servers_that_answer_are_left_alone() -> None:
    done = run(dict(os.environ))
    assert done.returncode == 0, done.stderr
    for name in ("MariaDB", "PostgreSQL", "Redis"):
        assert f"{name} is answering" in done.stdout


def test_a_missing_server_without_docker_or_its_package_says_how_to_get_it(
    tmp_path: Path,
) -> None:
    """Only the shell's own tools on PATH: no docker, no mariadbd, no pg_ctlcluster."""
    tools = tmp_path / "bin"
    tools.mkdir()
    for name in ("bash", "seq", "sleep", "ls", "dirname"):
        found = shutil.which(name)
        assert found is not None
        (tools / name).symlink_to(found)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    done = run({"PATH": str(tools), "MARIADB_PORT": str(free)})
    assert done.returncode == 1
    assert f"MariaDB is not answering on 127.0.0.1:{free}" in done.stderr
    assert "apt-get install mariadb-server" in done.stderr
