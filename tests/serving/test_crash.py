"""The service killed the hard way: nothing it answered is missing from the log, nothing is left
holding the port."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx

from advanced_mlops.serving.service_runner import descendants
from tests.serving.conftest import Server, Stack, Traffic, listening
from tests.serving.test_resilience import logged, wait_for


def test_sigkill_of_the_whole_tree_under_load_loses_no_answered_prediction(
    stack: Stack, tmp_path: Path
) -> None:
    # Long enough that rows sit in the journal, not yet in the database, when the kill comes.
    env = {**stack.env, "MLOPS_LOG_FLUSH_SECONDS": "2"}
    server = Server(env, tmp_path / "service.log")
    tree = server.tree()
    assert len(tree) >= 3  # the arbiter and its two workers
    with Traffic(server, clients=16) as traffic:
        assert wait_for(lambda: len(traffic.answered) >= 300, timeout=60)
        server.kill_tree()
        answered_before_kill = list(traffic.answered)
    assert wait_for(lambda: not listening(server.port), timeout=10)
    assert not [pid for pid in tree if _alive(pid)]
    not_yet_logged = set(answered_before_kill) - set(logged(stack, answered_before_kill))
    assert not_yet_logged  # the kill found rows only in the journal: the test is not vacuous

    again = Server(env, tmp_path / "service.log", home=server.home)  # replays at start-up
    try:
        assert wait_for(
            lambda: len(logged(stack, answered_before_kill)) == len(answered_before_kill),
            timeout=60,
        )
        counts = logged(stack, answered_before_kill)
        assert set(counts.values()) == {1}  # every answer exactly once
        metrics = httpx.get(f"{again.url}/metrics").text
        assert 'prediction_log_rows_total{outcome="replayed"}' in metrics
    finally:
        again.kill_tree()


def test_no_worker_outlives_the_killed_main_process(stack: Stack, tmp_path: Path) -> None:
    server = Server(stack.env, tmp_path / "service.log")
    workers = descendants(server.process.pid)
    assert workers
    os.kill(server.process.pid, signal.SIGKILL)  # only the main process, as the OOM killer might
    server.process.wait(timeout=10)
    try:
        assert wait_for(lambda: not [pid for pid in workers if _alive(pid)], timeout=15)
        assert wait_for(lambda: not listening(server.port), timeout=10)
    finally:
        for pid in workers:  # never leave one behind, even when the test fails
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (killed, not yet reaped by its parent) holds no port and runs nothing.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False
