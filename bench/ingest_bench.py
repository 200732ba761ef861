"""`mlops ingest` end to end on MariaDB and SQLite, where its time goes, and the baselines of the
same run: the same ingestion one day at a time (the way before: each day fetched, checked by its
own GX run and cleaned alone), and the write path against a row-by-row insert.

    uv run python bench/ingest_bench.py [--rows 100000] [--days 30] [--no-row-by-row]
        [--server mysql+pymysql://root@127.0.0.1:3306]

End to end is `ingest_days`, what `mlops ingest --days 30` runs after start-up: fetch the raw
batches from the simulator (and those whose labels arrive), check both contracts, clean, write,
into a fresh database of its own (dropped at the end). `mlops ingest` is also run as a command,
to include the interpreter's start-up and Great Expectations' import (~7 s, once per process).
Each figure is wall time and this process's CPU time (a shared machine's load inflates the first;
MariaDB's own work is in neither CPU figure).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
from _common import MARIADB, fresh_database
from sqlalchemy import delete, insert
from sqlalchemy.dialects.mysql import insert as mysql_insert

from advanced_mlops.contracts.suites import SuiteName
from advanced_mlops.data.cleaning import clean_batch
from advanced_mlops.data.generator import Generator
from advanced_mlops.data.ingest import PHASES, ingest_days
from advanced_mlops.data.labels import arriving_labels
from advanced_mlops.store import repository
from advanced_mlops.store.bulk import to_records
from advanced_mlops.store.engine import connect, get_engine, upgrade
from advanced_mlops.store.tables import customers, features, labels

START = date(2025, 1, 1)
DELAY = 7

Days = list[tuple[date, pd.DataFrame, pd.DataFrame]]


Clock = tuple[float, float]  # (wall, cpu) seconds


def now() -> Clock:
    return time.perf_counter(), time.process_time()


def since(start: Clock) -> Clock:
    wall, cpu = now()
    return wall - start[0], cpu - start[1]


def timed(action: Callable[[], object]) -> Clock:
    start = now()
    action()
    return since(start)


def end_to_end(url: str, rows: int, days: list[date]) -> tuple[Clock, dict[str, Clock]]:
    """`ingest_days` on a fresh simulator (nothing cached), with its time per phase."""
    starts: list[tuple[str, Clock]] = []
    source = Generator(customers=rows)
    begin = now()
    ingest_days(
        url, source, days, DELAY, lambda _: "stable", "bench",
        on_phase=lambda name: starts.append((name, now())),
    )  # fmt: skip
    end = now()
    ends = [at for _, at in starts[1:]] + [end]
    phases = {
        name: (stop[0] - at[0], stop[1] - at[1])
        for (name, at), stop in zip(starts, ends, strict=True)
    }
    return (end[0] - begin[0], end[1] - begin[1]), phases


def day_by_day(url: str, rows: int, days: list[date]) -> Clock:
    """The baseline: the ingestion as it was, one day at a time: each day's batch and the batch
    of its labels fetched, the day checked by its own GX run (the quick check, the details only
    for a failing day), cleaned alone; then the same writes."""
    from advanced_mlops.contracts.validate import broken_contract

    source = Generator(customers=rows)
    start = now()
    prepared = []
    for day in days:
        raw = source.batch(day)
        assert broken_contract(raw, SuiteName.RAW_BATCH) is None
        label_raw = source.batch(day - timedelta(days=DELAY))
        prepared.append((day, clean_batch(raw), arriving_labels(label_raw, day)))
    for day, feats, day_labels in prepared:
        with connect(url, write=True) as conn:
            repository.replace_day(conn, day, feats, day_labels, "bench", "stable")
    return since(start)


def command(url: str, rows: int, days: list[date]) -> Clock:
    """`mlops ingest` as a shell runs it: a new interpreter, every import included."""
    with tempfile.TemporaryDirectory() as home:
        env = {
            **os.environ,
            "MLOPS_HOME": home,
            "MLOPS_DB_URL": url,
            "MLOPS_CUSTOMERS": str(rows),
            "GITHUB_STEP_SUMMARY": "",
        }
        argv = ["-c", "from advanced_mlops.cli import main; main()", "ingest"]
        argv += ["--date", days[0].isoformat(), "--days", str(len(days))]
        start = time.perf_counter()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([sys.executable, *argv], env=env, check=True, capture_output=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        return time.perf_counter() - start, cpu


def contracts_per_day(raws: dict[date, pd.DataFrame]) -> Clock:
    """The baseline: the raw-batch contract as before, one GX run per day (BOOLEAN_ONLY; the
    details only for a day that fails, and none does here)."""
    from advanced_mlops.contracts.validate import broken_contract

    return timed(lambda: [broken_contract(raw, SuiteName.RAW_BATCH) for raw in raws.values()])


def contracts_one_run(raws: dict[date, pd.DataFrame]) -> Clock:
    from advanced_mlops.contracts.days import broken_days

    return timed(lambda: broken_days(raws, SuiteName.RAW_BATCH))


def write_days(raws: dict[date, pd.DataFrame]) -> Days:
    return [(day, clean_batch(raw), arriving_labels(raw, day)) for day, raw in raws.items()]


def bulk(url: str, days: Days) -> float:
    """The ingestion's write path: one transaction per day, bulk loads and one upsert."""
    start = time.perf_counter()
    for day, feats, day_labels in days:
        with connect(url, write=True, bulk=True) as conn:
            repository.replace_day(conn, day, feats, day_labels, "bench", "stable")
    return time.perf_counter() - start


def row_by_row(url: str, days: Days) -> float:
    """The same day content, one statement per row: each feature row, each label, each
    customer upsert (one transaction per day, as above)."""
    engine = get_engine(url)
    upsert = mysql_insert(customers)
    upsert = upsert.on_duplicate_key_update(
        name=upsert.inserted.name, ssn=upsert.inserted.ssn, last_seen=upsert.inserted.last_seen
    )
    start = time.perf_counter()
    for day, feats, day_labels in days:
        with engine.begin() as conn:
            conn.execute(delete(features).where(features.c.date == day))
            conn.execute(delete(labels).where(labels.c.available_at == day))
            for row in to_records(feats, repository.FEATURE_ROW):
                conn.execute(insert(features).values(**row, ingested_at=datetime.now()))
            for row in to_records(day_labels, repository.LABEL_ROW):
                conn.execute(insert(labels).values(**row))
            for row in to_records(feats, ["customer_id", "name", "ssn"]):
                conn.execute(upsert.values(**row, first_seen=day, last_seen=day))
    return time.perf_counter() - start


def clock(value: Clock) -> str:
    return f"{value[0]:6.2f} s ({value[1]:5.2f} s cpu)"


def phase_line(name: str, total: Clock, phases: dict[str, Clock] | None = None) -> str:
    line = f"{name:<36} {clock(total)}"
    if phases:
        line += (
            "\n"
            + " " * 38
            + ", ".join(f"{p} {phases[p][0]:.2f} ({phases[p][1]:.2f})" for p in PHASES)
        )
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--server", default=MARIADB)
    parser.add_argument("--no-row-by-row", action="store_true", help="skip the slow baseline")
    args = parser.parse_args()
    days = [START + timedelta(days=i) for i in range(args.days)]

    gx_import = timed(lambda: __import__("great_expectations"))  # paid once per process
    print(f"Great Expectations import (once per process, not in ingest_days): {clock(gx_import)}")

    with fresh_database(args.server) as url:
        maria, maria_phases = end_to_end(url, args.rows, days)
    with fresh_database(args.server) as url:
        before = day_by_day(url, args.rows, days)
    with tempfile.TemporaryDirectory() as folder:
        lite = f"sqlite:///{Path(folder) / 'store.db'}"
        upgrade(lite)
        sqlite, sqlite_phases = end_to_end(lite, args.rows, days)
    with fresh_database(args.server) as url:
        shell = command(url, args.rows, days)

    source = Generator(customers=args.rows)
    raws = {day: source.batch(day) for day in days}
    total = sum(len(raw) for raw in raws.values())
    per_day = contracts_per_day(raws)
    one_run = contracts_one_run(raws)

    print(f"\n{total} raw rows over {len(days)} days; labels arrive {DELAY} days later")
    print("`mlops ingest` end to end, wall (cpu) per phase in s:")
    print(phase_line("ingest_days, MariaDB", maria, maria_phases))
    print(phase_line("one day at a time (before), MariaDB", before))
    print(f"  speed-up: {before[0] / maria[0]:.1f}x wall, {before[1] / maria[1]:.1f}x cpu")
    print(phase_line("ingest_days, SQLite", sqlite, sqlite_phases))
    print(phase_line("mlops ingest command, MariaDB", shell) + "  start-up and imports too")
    print(f"\nraw-batch contract, {len(days)} days ({total / len(days):.0f} rows a day):")
    for name, spent in (("one GX run per day (before)", per_day), ("all days together", one_run)):
        print(f"  {name:<28} {clock(spent)} = {spent[0] / len(days) * 1000:5.0f} ms a day")
    print(f"  speed-up: {per_day[0] / one_run[0]:.1f}x wall, {per_day[1] / one_run[1]:.1f}x cpu")

    written = write_days(raws)
    with fresh_database(args.server) as url:
        bulk_s = bulk(url, written)
    print("\nwrite path on MariaDB (each day: its features, the labels arriving, the customers):")
    print(f"  mlops ingest write path:      {bulk_s:6.2f} s = {total / bulk_s:8.0f} rows/s")
    if not args.no_row_by_row:
        with fresh_database(args.server) as url:
            naive_s = row_by_row(url, written)
        print(f"  row-by-row (one INSERT each): {naive_s:6.2f} s = {total / naive_s:8.0f} rows/s")
        print(f"  speed-up: {naive_s / bulk_s:.1f}x rows/s (target >= 20x)")


if __name__ == "__main__":
    main()
