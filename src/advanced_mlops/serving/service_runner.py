"""Starting the BentoML server for `mlops serve`."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

SERVICE = "advanced_mlops.serving.service:CreditScoreService"


def command(host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "bentoml", "serve", SERVICE, "--host", host, "--port", str(port)]


def environment(env: Mapping[str, str], port: int) -> dict[str, str]:
    """`env` with a BentoML home of this server's own (one per port: two live servers never
    share one). BentoML empties `$BENTOML_HOME/prometheus_multiproc_dir` when a server starts,
    and that folder holds every worker's metrics: a second server sharing the home wiped the
    first one's counters (read 0 ever after). Its files are sparse memory maps, so the folder is
    kept off MLOPS_HOME too: touching a new page of one on a full disk is a SIGBUS, not an error.
    """
    return {**env, "BENTOML_HOME": str(Path(tempfile.gettempdir()) / f"mlops-serve-{port}")}


def exec_service(host: str, port: int) -> None:
    """Replace this process with the server, so signals (Ctrl+C, SIGTERM) reach it directly and
    its graceful shutdown flushes the prediction log."""
    argv = command(host, port)
    os.execve(argv[0], argv, environment(os.environ, port))


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (from `ps -eo pid,ppid`): BentoML starts its workers in
    sessions of their own, so killing the process group of `mlops serve` misses them."""
    table = subprocess.run(
        ["ps", "-eo", "pid=,ppid="], capture_output=True, text=True, check=True
    ).stdout
    children: dict[int, list[int]] = {}
    for line in table.splitlines():
        child, parent = map(int, line.split())
        children.setdefault(parent, []).append(child)
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found
