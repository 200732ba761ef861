"""Starting the BentoML server for `mlops serve`."""

from __future__ import annotations

import os
import sys

SERVICE = "advanced_mlops.serving.service:CreditScoreService"


def command(host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "bentoml", "serve", SERVICE, "--host", host, "--port", str(port)]


def exec_service(host: str, port: int) -> None:
    """Replace this process with the server, so signals (Ctrl+C, SIGTERM) reach it directly and
    its graceful shutdown flushes the prediction log."""
    argv = command(host, port)
    os.execv(argv[0], argv)
