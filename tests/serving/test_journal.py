"""The write-ahead journal and its drain, on real files and a real SQLite store (no service)."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from advanced_mlops.serving.batching import AdaptiveBatcher
from advanced_mlops.serving.journal import (
    Journal,
    JournalInUseError,
    JournalRefusedError,
    Segment,
    read_segment,
    segment_files,
)
from advanced_mlops.serving.journal_records import decode, encode
from advanced_mlops.serving.log_writer import LogDrain, open_log, write_rows
from advanced_mlops.store.engine import connect, upgrade
from advanced_mlops.store.tables import prediction_log


def row(i: int) -> dict[str, Any]:
    return {
        "request_id": f"00000000-0000-0000-0000-{i:012d}",
        "customer_id": f"CUS_{i:04d}",
        "features": {"age": 30 + i % 50, "occupation": "Engineer", "note": 'é\n"x"'},
        "prediction": "Good",
        "prob_poor": 0.1,
        "prob_standard": 0.2,
        "prob_good": 0.7,
        "model_version": "1",
        "latency_ms": 1.25,
        "created_at": datetime(2025, 1, 2, 3, 4, 5, 678901),
    }


def collecting_journal(directory: Path, **options: Any) -> tuple[Journal, list[Segment]]:
    sealed: list[Segment] = []
    journal = Journal(directory, sealed.append, **options)
    return journal, sealed


def wait_for(condition: Callable[[], bool], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_records_round_trip_and_replay_in_order(tmp_path: Path) -> None:
    journal, sealed = collecting_journal(tmp_path, segment_records=3, segment_seconds=60)
    journal.start()
    for i in range(10):
        journal.append([row(i)]).result(timeout=5)
    journal.close()
    assert [len(s.rows) for s in sealed] == [3, 3, 3, 1]  # sealed by size, the rest on close

    again, _ = collecting_journal(tmp_path)
    replayed = again.recover()
    assert [r for s in replayed for r in s.rows] == [row(i) for i in range(10)]
    assert all(s.replayed for s in replayed)
    assert again.records == 10
    again.close()


def test_a_torn_last_record_is_moved_aside_and_the_rest_replayed(tmp_path: Path) -> None:
    path = tmp_path / "0000000000000001.wal"
    whole = b"".join(encode(row(i)) for i in range(3))
    torn = encode(row(3))[:-7]  # the crash cut the fourth append short
    path.write_bytes(whole + torn)

    segment = read_segment(path, 1)

    assert segment.rows == [row(0), row(1), row(2)]
    [aside] = (tmp_path / "unreadable").iterdir()
    assert aside.read_bytes() == torn
    assert decode(whole + torn)[1][0].torn


def test_a_damaged_record_is_kept_aside_and_reading_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    records = [encode(row(i)) for i in range(3)]
    damaged = bytearray(records[1])
    damaged[20] ^= 0xFF  # a flipped byte in the payload: the CRC no longer matches
    path = tmp_path / "0000000000000001.wal"
    path.write_bytes(records[0] + bytes(damaged) + records[2])

    with caplog.at_level(logging.ERROR):
        segment = read_segment(path, 1)

    assert segment.rows == [row(0), row(2)]
    [aside] = (tmp_path / "unreadable").iterdir()
    assert aside.read_bytes() == bytes(damaged)
    assert str(path) in caplog.text  # where, for a person
    assert str(aside) in caplog.text
    _, bad = decode(path.read_bytes())
    assert not bad[0].torn


def test_concurrent_appends_share_fsyncs(tmp_path: Path) -> None:
    journal, _ = collecting_journal(tmp_path, segment_records=10_000, segment_seconds=60)
    journal.start()
    with ThreadPoolExecutor(32) as pool:
        list(pool.map(lambda i: journal.append([row(i)]).result(timeout=10), range(400)))
    journal.close()
    assert 1 <= journal.fsyncs < 400  # group commit


def test_ride_along_rows_share_the_next_awaited_fsync(tmp_path: Path) -> None:
    journal, _ = collecting_journal(tmp_path, segment_seconds=60)  # no idle tick meanwhile
    journal.start()
    shadow = journal.append([row(1)], ride_along=True)
    time.sleep(0.3)
    assert not shadow.done()  # it did not wake the fsync thread
    journal.append([row(2)]).result(timeout=5)
    assert shadow.done()
    assert shadow.exception() is None
    assert journal.fsyncs == 1
    journal.close()
    assert journal.records == 2


def test_ride_along_rows_alone_are_written_within_a_tick(tmp_path: Path) -> None:
    journal, sealed = collecting_journal(tmp_path, segment_seconds=0.2)
    journal.start()
    journal.append([row(1)], ride_along=True).result(timeout=5)  # an idle service: no answers
    assert wait_for(lambda: len(sealed) == 1)
    journal.close()
    assert [r["request_id"] for r in sealed[0].rows] == [row(1)["request_id"]]


def test_creating_a_segment_fsyncs_the_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    journal, _ = collecting_journal(tmp_path)
    journal.start()
    journal.append([row(1)]).result(timeout=5)
    journal.close()
    assert synced[:2] == ["dir", "file"]  # the new file's entry, then the record


def test_past_its_limits_the_journal_refuses_until_the_database_takes_rows(
    tmp_path: Path,
) -> None:
    journal, sealed = collecting_journal(tmp_path, max_records=5, segment_records=5)
    journal.start()
    for i in range(5):
        journal.append([row(i)]).result(timeout=5)
    with pytest.raises(JournalRefusedError, match="full"):
        journal.append([row(99)])
    assert not journal.can_record()
    assert wait_for(lambda: len(sealed) == 1)
    journal.release(sealed[0])  # what the drain does after the database committed
    journal.append([row(6)]).result(timeout=5)
    assert journal.can_record()
    journal.close()


def test_a_second_process_cannot_take_a_journal_in_use(tmp_path: Path) -> None:
    journal, _ = collecting_journal(tmp_path)
    with pytest.raises(JournalInUseError):
        collecting_journal(tmp_path)
    journal.close()


def stored_ids(url: str) -> dict[str, int]:
    with connect(url) as conn:
        return dict(
            conn.execute(
                select(prediction_log.c.request_id, func.count()).group_by(
                    prediction_log.c.request_id
                )
            ).all()
        )


def test_a_crash_between_the_database_commit_and_the_truncation_duplicates_nothing(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    folder = tmp_path / "journal" / "worker-1"
    folder.mkdir(parents=True)
    rows = [row(i) for i in range(20)]
    (folder / "0000000000000001.wal").write_bytes(b"".join(map(encode, rows)))
    write_rows(url, rows)  # committed; the crash came before the segment was deleted

    journal, drain = open_log(
        url, folder, [], segment_records=50, segment_seconds=0.05, max_bytes=1 << 20,
        max_records=1000, retry_seconds=0.1, unready_after_seconds=5,
    )  # fmt: skip
    assert wait_for(lambda: journal.records == 0)
    journal.append([row(20)]).result(timeout=5)
    assert wait_for(lambda: journal.records == 0)
    journal.close()
    drain.close()
    assert stored_ids(url) == {r["request_id"]: 1 for r in [*rows, row(20)]}
    assert drain.counts == {"replayed": 20, "logged": 1}
    assert not segment_files(folder)


def test_a_failing_database_turns_readiness_false_logged_once_per_change(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    good = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(good)
    journal, drain = open_log(
        "mysql+pymysql://root@127.0.0.1:1/nowhere", tmp_path / "journal", [],
        segment_records=1, segment_seconds=0.05, max_bytes=1 << 20, max_records=1000,
        retry_seconds=0.05, unready_after_seconds=0.5,
    )  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="advanced_mlops.serving.log_writer"):
        for i in range(5):
            journal.append([row(i)]).result(timeout=5)  # the journal still records
        assert wait_for(lambda: not drain.healthy(), timeout=5)
        time.sleep(0.5)  # many more failed attempts
        drain.db_url = good  # the database is back
        assert wait_for(lambda: journal.records == 0)
        assert drain.healthy()
    journal.close()
    drain.close()
    messages = [r.getMessage() for r in caplog.records]
    assert sum("cannot write to the database" in m for m in messages) == 1
    assert sum("writing to the database again" in m for m in messages) == 1
    assert len(stored_ids(good)) == 5


def test_the_drain_survives_what_would_kill_a_thread(tmp_path: Path) -> None:
    released: list[Segment] = []

    def failing_then_working(segment: Segment) -> None:
        if not released:
            released.append(segment)
            raise OSError("disk went away")  # e.g. the segment file cannot be deleted
        released.append(segment)

    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    drain = LogDrain(url, failing_then_working, retry_seconds=0.05)
    drain.start()
    drain.put(Segment(1, tmp_path / "x.wal", [row(1)]))
    drain.put(Segment(2, tmp_path / "y.wal", [row(2)]))
    assert wait_for(lambda: len(released) == 3)  # the first retried, then the second
    drain.close()
    assert stored_ids(url) == {row(1)["request_id"]: 1, row(2)["request_id"]: 1}


def test_a_cancelled_caller_does_not_stall_the_others_in_its_batch() -> None:
    release = threading.Event()

    def slow_score(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        release.wait(5)
        return [{"n": r["n"] * 10} for r in records]

    async def scenario() -> list[Any]:
        batcher = AdaptiveBatcher(slow_score)
        first = asyncio.ensure_future(batcher([{"n": 1}]))  # scoring, blocked
        await asyncio.sleep(0.05)
        waiting = [asyncio.ensure_future(batcher([{"n": n}])) for n in (2, 3, 4)]
        await asyncio.sleep(0.05)
        waiting[1].cancel()  # a client gone while its batch waits
        first.cancel()  # and one gone while the model scores its batch
        release.set()
        answers = await asyncio.wait_for(asyncio.gather(waiting[0], waiting[2]), 5)
        later = await asyncio.wait_for(batcher([{"n": 5}]), 5)  # still draining
        return [*answers, later]

    assert asyncio.run(scenario()) == [[{"n": 20}], [{"n": 40}], [{"n": 50}]]


def test_a_cancelled_request_still_gets_its_row_journalled(tmp_path: Path) -> None:
    journal, _ = collecting_journal(tmp_path, segment_seconds=60)
    journal.start()

    async def scenario() -> None:
        waiter = asyncio.ensure_future(asyncio.wrap_future(journal.append([row(1)])))
        await asyncio.sleep(0)
        waiter.cancel()
        assert (await asyncio.wrap_future(journal.append([row(2)]))) is None

    asyncio.run(scenario())
    journal.close()
    assert journal.fsyncs >= 1
    assert journal.records == 2
