"""A service worker dies with the `mlops serve` process that started it.

BentoML's arbiter starts each worker in a session of its own, so when the main process is killed
(SIGKILL, the OOM killer) its workers would live on, holding the port. Each worker watches its
parent instead: once it has gone (the worker was handed to another process), the worker exits at
once. The prediction journal makes that abrupt exit safe: nothing answered is lost.

Why not the kernel's `PR_SET_PDEATHSIG`: it fires when the parent *thread* that started the
worker ends, which an arbiter free to spawn from short-lived threads would turn into random
worker deaths.
"""

from __future__ import annotations

import os
import threading
import time


def die_with_parent(interval_seconds: float = 0.5) -> threading.Thread:
    """Start the watch (a daemon thread); exits the process within `interval_seconds` of the
    parent's death."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval_seconds)
        os._exit(1)

    watcher = threading.Thread(target=watch, name="parent-watch", daemon=True)
    watcher.start()
    return watcher
