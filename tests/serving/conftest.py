"""A registry with a champion, a log store on MariaDB behind a cuttable proxy, and a started
service: every serving test talks HTTP to a real server."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from advanced_mlops.data.generator import Generator
from advanced_mlops.data.ingest import ingest_days
from advanced_mlops.registry.promotion import promote
from advanced_mlops.serving.sample_requests import sample_requests
from advanced_mlops.serving.service_runner import command, descendants, environment
from advanced_mlops.settings import Settings
from advanced_mlops.store.engine import upgrade
from advanced_mlops.training.job import train
from tests.conftest import fast_settings, free_port, mariadb_database
from tests.serving.tcp_proxy import TcpProxy

BASE_DATE = date(2025, 1, 30)


@dataclass
class Stack:
    settings: Settings  # direct connection, for the tests' own reads
    proxy: TcpProxy
    env: dict[str, str]  # what the service runs with: the log store through the proxy
    versions: list[str]


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    home = tmp_path_factory.mktemp("serving")
    with mariadb_database() as db_url:
        settings = fast_settings(home, db_url, data={"customers": 900})
        upgrade(db_url)
        days = [BASE_DATE - timedelta(days=i) for i in range(30)][::-1]
        ingest_days(db_url, Generator(customers=900), days, 7, lambda _: "stable", "tests")
        first = train(settings, BASE_DATE).version
        promote(settings, first, reason="tests", force=True)
        second = train(settings, BASE_DATE).version
        url = make_url(db_url)
        proxy = TcpProxy(url.port or 3306, url.host or "127.0.0.1")
        proxy.start()
        proxied = url.set(port=proxy.port).render_as_string(hide_password=False)
        env = {
            **os.environ,
            "MLOPS_HOME": str(home),
            "MLOPS_DB_URL": proxied,
            "MLFLOW_TRACKING_URI": settings.store.tracking_uri,
            "MLOPS_SWAP_POLL_SECONDS": "1",
            "MLOPS_LOG_RETRY_SECONDS": "0.5",
            "MLOPS_LOG_UNREADY_AFTER_SECONDS": "2",
            "MLOPS_LOG_FLUSH_SECONDS": "0.05",
            "MLOPS_MAX_BATCH_RECORDS": "20",
            "MLOPS_SERVE_WORKERS": "2",
        }
        yield Stack(settings, proxy, env, [first, second])
        proxy.stop()


class Server:
    """A started `mlops serve` equivalent. Each has its own MLOPS_HOME (its journal) unless told:
    two live services never share a journal (the second would refuse to start)."""

    def __init__(
        self, env: dict[str, str], log: Path, home: Path | None = None, port: int | None = None
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.home = home or log.parent / "home"
        self.log_path = log
        self._log = log.open("a")
        self.process = subprocess.Popen(
            command("127.0.0.1", self.port),
            env=environment({**env, "MLOPS_HOME": str(self.home)}, self.port),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = self.log_path.read_text()[-3000:]
                raise RuntimeError(f"service exited with {self.process.returncode}:\n{tail}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.kill_tree()
        tail = self.log_path.read_text()[-3000:]
        raise RuntimeError(f"service not ready in time; its log ends with:\n{tail}")

    def tree(self) -> list[int]:
        """The main process and every descendant (BentoML's workers run in sessions of their
        own: killing the process group would miss them)."""
        return [self.process.pid, *descendants(self.process.pid)]

    def kill_tree(self) -> None:
        """SIGKILL to the whole tree at once, as a crash or the OOM killer of a container."""
        for pid in self.tree():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._closed()

    def stop(self) -> int:
        """SIGTERM, as an orchestrator does: the graceful path."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        finally:
            self._closed()

    def _closed(self) -> None:
        """The log closed, and the BentoML home the server had for its port removed."""
        self._log.close()
        shutil.rmtree(environment({}, self.port)["BENTOML_HOME"], ignore_errors=True)


class Traffic:
    """`clients` threads posting /predict until stopped. Each keeps the ids answered 200 in the
    order they were answered; statuses are counted, connection failures too (a killed server)."""

    def __init__(self, server: Server, clients: int = 4, pause: float = 0.0) -> None:
        self.url = f"{server.url}/predict"
        self.pause = pause  # between one client's requests
        self.answered_by: list[list[str]] = [[] for _ in range(clients)]
        self.statuses: Counter[int] = Counter()
        self.failures = 0
        self._records = sample_requests(50)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,)) for i in range(clients)]

    @property
    def answered(self) -> list[str]:
        """Every id answered 200, all clients together."""
        return [rid for ids in list(self.answered_by) for rid in list(ids)]

    def __enter__(self) -> Traffic:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _run(self, index: int) -> None:
        with httpx.Client(timeout=15) as client:
            i = index
            while not self._stop.is_set():
                try:
                    response = client.post(self.url, json=self._records[i % len(self._records)])
                except httpx.HTTPError:
                    with self._lock:
                        self.failures += 1
                    time.sleep(0.01)
                    continue
                with self._lock:
                    self.statuses[response.status_code] += 1
                if response.status_code == 200:
                    self.answered_by[index].append(response.json()["request_id"])
                i += 1
                self._stop.wait(self.pause)


def listening(port: int) -> bool:
    """Whether anything still accepts connections on 127.0.0.1:`port`."""
    import socket

    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def server(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(stack.env, tmp_path_factory.mktemp("logs") / "service.log")
    yield running
    running.stop()
