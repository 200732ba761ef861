"""Starting the BentoML server for `mlops serve`."""

from __future__ import annotations

import os
import subprocess
import sys

SERVICE = "advanced_mlops.serving.service:CreditScoreService"


def command(host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "bentoml", "serve", SERVICE, "--host", host, "--port", str(port)]


def exec_service(host: str, port: int) -> None:
    """Replace this process with the server, so signals (Ctrl+C, SIGTERM) reach it directly and
    its graceful shutdown flushes the prediction log."""
    argv = command(host, port)
    os.execv(argv[0], argv)


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
