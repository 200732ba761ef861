"""A process that called `die_with_parent` does not outlive its parent, however the parent dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

CHILD = """
import subprocess, sys, time
grandchild = subprocess.Popen([sys.executable, "-c", sys.argv[1]], start_new_session=True)
print(grandchild.pid, flush=True)
time.sleep(60)
"""
GRANDCHILD = """
import time
from advanced_mlops.serving.lifeline import die_with_parent
die_with_parent(0.1)
time.sleep(60)
"""


def test_a_worker_exits_when_its_parent_is_killed() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, GRANDCHILD], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    grandchild = int(child.stdout.readline())
    time.sleep(1)  # the watch has started
    assert _alive(grandchild)
    os.kill(child.pid, signal.SIGKILL)  # its own session: a group kill would not reach it
    child.wait()
    deadline = time.monotonic() + 10
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False
