"""A service worker dies with the `mlops serve` process that started it.

BentoML's arbiter starts each worker in a session of its own, so when the main process is killed
(SIGKILL, the OOM killer) its workers would live on, holding the port. On Linux the kernel can
send a signal to a process when its parent dies (`PR_SET_PDEATHSIG`); the prediction journal
makes a SIGKILL safe (nothing answered is lost).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent() -> bool:
    """Ask for SIGKILL when the parent dies; exit now if it already has. False off Linux."""
    if not sys.platform.startswith("linux"):
        return False
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        return False
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)
    return True
