"""Faults the world brings, on a real service: its log database really stopped and started again
(a private mariadbd), its journal's disk full (a small tmpfs filled, or a file-size limit on the
service's processes). Nothing answered goes unrecorded."""

from __future__ import annotations

import contextlib
import os
import resource
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from advanced_mlops.serving.sample_requests import sample_requests as records
from advanced_mlops.store.engine import connect, upgrade
from advanced_mlops.store.tables import prediction_log
from tests.serving.conftest import Server, Stack, Traffic
from tests.serving.private_mariadb import PrivateMariaDB
from tests.serving.test_resilience import metric, ready, wait_for

RECORDS = records(50)


@pytest.fixture(scope="module")
def private_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PrivateMariaDB, str]]:
    server = PrivateMariaDB(tmp_path_factory.mktemp("mariadbd"))
    server.start()
    url = server.create_database("log")
    upgrade(url)
    yield server, url
    server.stop()


@pytest.fixture(scope="module")
def small_disk_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """MLOPS_HOME whose journal folder is a 4 MiB tmpfs where one can be mounted (root, as in
    CI); elsewhere a plain folder, which only the file-size limit can fill."""
    home = tmp_path_factory.mktemp("faults-home")
    journal = home / "journal"
    journal.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(journal)], capture_output=True
    )
    yield home
    if mounted.returncode == 0:
        subprocess.run(["umount", "-l", str(journal)], check=False)


@pytest.fixture(scope="module")
def faulty(
    stack: Stack,
    private_db: tuple[PrivateMariaDB, str],
    small_disk_home: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Server]:
    env = {
        **stack.env,
        "MLOPS_DB_URL": private_db[1],
        "MLOPS_LOG_FLUSH_SECONDS": "0.2",
        "MLOPS_LOG_RETRY_SECONDS": "0.5",
    }
    log = tmp_path_factory.mktemp("faults-logs") / "service.log"
    server = Server(env, log, home=small_disk_home)
    yield server
    server.kill_tree()


def logged_in_order(db_url: str, ids: list[str]) -> list[str]:
    """The ids found in the log, in the order they were answered (the rows' created_at)."""
    with connect(db_url) as conn:
        rows = conn.execute(
            select(prediction_log.c.request_id)
            .where(prediction_log.c.request_id.in_(ids))
            .order_by(prediction_log.c.created_at, prediction_log.c.id)
        ).all()
    return [row[0] for row in rows]


def test_log_database_stopped_and_restarted_under_traffic(
    faulty: Server, private_db: tuple[PrivateMariaDB, str]
) -> None:
    mariadbd, db_url = private_db
    with Traffic(faulty, clients=4, pause=0.01) as clients:
        time.sleep(1.5)
        mariadbd.stop()  # really down
        try:
            time.sleep(3)
            assert metric(faulty, "prediction_journal_records") > 0
        finally:
            mariadbd.start()
        time.sleep(1.5)
    assert set(clients.statuses) == {200}  # answered all along, from the journal
    assert clients.failures == 0
    every = clients.answered
    assert wait_for(lambda: len(logged_in_order(db_url, every)) == len(every), timeout=60)
    for ids in clients.answered_by:  # each client's answers: all there, once, in order
        assert logged_in_order(db_url, ids) == ids


@pytest.mark.parametrize("how", ["filesystem full", "file-size limit"])
def test_journal_disk_full_refuses_with_503_then_recovers(
    faulty: Server, private_db: tuple[PrivateMariaDB, str], how: str
) -> None:
    journal = faulty.home / "journal"
    assert wait_for(lambda: not list(journal.glob("worker-*/*.wal")), timeout=30)
    refusals = metric(faulty, "prediction_refusals_total")
    with _disk_full(faulty, how):
        refused = [httpx.post(f"{faulty.url}/predict", json=r, timeout=15) for r in RECORDS[:10]]
        assert {r.status_code for r in refused} == {503}  # never 200 without a record
        assert all(r.headers["Retry-After"].isdigit() for r in refused)
        assert "log record cannot be kept" in refused[0].json()["error"]
        assert wait_for(lambda: not ready(faulty), timeout=10)
        assert metric(faulty, "prediction_refusals_total") - refusals == 10
    assert wait_for(lambda: ready(faulty), timeout=30)  # by itself, without traffic
    answers = [httpx.post(f"{faulty.url}/predict", json=r, timeout=15) for r in RECORDS[:10]]
    assert {a.status_code for a in answers} == {200}
    ids = [a.json()["request_id"] for a in answers]
    assert wait_for(lambda: len(logged_in_order(private_db[1], ids)) == 10, timeout=30)


@contextlib.contextmanager
def _disk_full(server: Server, how: str) -> Iterator[None]:
    """The journal's disk full until the block ends: its tmpfs filled to the last byte, or every
    process of the service limited to files of 0 bytes (RLIMIT_FSIZE: a write that would grow a
    file fails with EFBIG, since Python ignores SIGXFSZ), which needs neither root nor a mount."""
    journal = server.home / "journal"
    if how == "filesystem full":
        if not os.path.ismount(journal):
            pytest.skip("no small tmpfs could be mounted here (needs root)")
        filler = journal / "filler"
        _fill(filler)
        try:
            yield
        finally:
            filler.unlink()
        return
    tree = server.tree()
    limits = {pid: resource.prlimit(pid, resource.RLIMIT_FSIZE) for pid in tree}
    try:
        for pid, (_, hard) in limits.items():
            resource.prlimit(pid, resource.RLIMIT_FSIZE, (0, hard))
        yield
    finally:
        for pid, limit in limits.items():
            with contextlib.suppress(ProcessLookupError):
                resource.prlimit(pid, resource.RLIMIT_FSIZE, limit)


def _fill(path: Path) -> None:
    """Write until the filesystem has no byte left."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        for chunk in (65536, 4096, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * chunk)
    finally:
        os.close(fd)
