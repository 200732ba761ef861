"""What the prediction log's drain costs the worker it runs in: Python time (this thread's CPU,
which holds the worker's GIL while requests wait) and wall time to insert one journal segment,
through the drain's path (`write_rows`: dict rows -> Arrow table -> LOAD DATA) against
the frame path it used before (a DataFrame per table, `insert_frame`), same rows, same database.

    uv run python bench/drain_bench.py [--repeat 20]

Segments of 100 answers (one worker's second at 200 requests/s over 2 workers) and 500 (the
journal's `segment_records`), with and without a challenger's shadow result per answer, into a
fresh MariaDB database. Bounded: a few hundred inserts.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pandas as pd
from _common import fresh_database

from advanced_mlops.serving.log_writer import (
    LOG_COLUMNS,
    SHADOW_COLUMNS,
    SHADOW_OF,
    SHADOW_RECORD,
    log_row,
    shadow_row,
    write_rows,
)
from advanced_mlops.serving.sample_requests import sample_requests
from advanced_mlops.store.bulk import insert_frame
from advanced_mlops.store.engine import connect
from advanced_mlops.store.tables import prediction_log, shadow_predictions

Rows = list[dict[str, Any]]
ANSWER = {
    "credit_score": "Standard",
    "probabilities": {"Poor": 0.2, "Standard": 0.5, "Good": 0.3},
    "model_version": "1",
    "reasons": None,
}


def segment(size: int, shadow: bool) -> Rows:
    rows = []
    for record in sample_requests(size):
        request_id = str(uuid.uuid4())
        rows.append(log_row(record, ANSWER, request_id, 3.2, datetime.now()))
        if shadow:
            rows.append(shadow_row(request_id, ANSWER, "2"))
    return rows


def write_frames(db_url: str, rows: Rows) -> None:
    """The drain's insert before: one DataFrame per table through `insert_frame`."""
    logged = [row for row in rows if SHADOW_OF not in row]
    shadows = [row for row in rows if SHADOW_OF in row]
    with connect(db_url, write=True, bulk=True) as conn:
        insert_frame(conn, prediction_log, pd.DataFrame(logged, columns=LOG_COLUMNS), replace=True)
        frame = pd.DataFrame(shadows, columns=list(SHADOW_RECORD)).rename(columns=SHADOW_RECORD)
        insert_frame(conn, shadow_predictions, frame[SHADOW_COLUMNS], replace=True)


def measure(write: Callable[[str, Rows], None], db_url: str, size: int, shadow: bool,
            repeat: int) -> tuple[float, float]:  # fmt: skip
    """Median (thread CPU ms, wall ms) per segment, after two warm-up writes."""
    cpu, wall = [], []
    for i in range(repeat + 2):
        rows = segment(size, shadow)
        started_cpu, started = time.thread_time(), time.perf_counter()
        write(db_url, rows)
        if i >= 2:
            cpu.append((time.thread_time() - started_cpu) * 1000)
            wall.append((time.perf_counter() - started) * 1000)
    return statistics.median(cpu), statistics.median(wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    print(f"{'answers':>8} {'shadow':>7} {'path':>22} {'Python ms':>10} {'wall ms':>8} "
          f"{'Python ratio':>13}")  # fmt: skip
    with fresh_database() as db_url:
        for size in (100, 500):
            for shadow in (False, True):
                before = measure(write_frames, db_url, size, shadow, args.repeat)
                after = measure(write_rows, db_url, size, shadow, args.repeat)
                for name, (cpu, wall) in (("frames (baseline)", before), ("rows (drain)", after)):
                    ratio = before[0] / cpu
                    print(f"{size:8d} {'yes' if shadow else 'no':>7} {name:>22} {cpu:10.1f} "
                          f"{wall:8.1f} {ratio:12.1f}x")  # fmt: skip


if __name__ == "__main__":
    main()
