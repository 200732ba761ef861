"""Monitoring one day of 1,000,000 logged predictions in MariaDB: `mlops monitor`'s streamed
counts against loading the whole day into pandas first, same rows, same metrics, same run.

    uv run python bench/monitor_bench.py [--rows 1000000] [--chunk-rows 50000]

Set-up (not timed): a database of its own, 61 stable days ingested (the monitored day DAY is
the last: the labels of its performance window, DAY-9..DAY-7, have arrived by then), a small
champion trained on the labels known 10 days before DAY and promoted, its real traffic logged on
the window days (so live performance is judged, not `insufficient_data`), then `--rows` log rows
on DAY written with the bulk path (the champion's answers to 30 days of generated requests,
repeated to reach the count).

Each way runs in a fresh process, so its time and peak memory are its own:
- stream: `monitor_day(report=False)`: SQL counts per version and the labelled confusion, the
  features read `--chunk-rows` at a time and folded into fixed-size counts;
- pandas: the day's rows read into one DataFrame (`pd.read_sql`), the JSON features expanded into
  columns, then the same counts and the same decision computed from the whole frame.
Both must reach the same status and checks, on the same labelled predictions, with the same drift
values and p-values (within 1e-9): the script fails otherwise.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from _common import MARIADB, fresh_database

START = date(2025, 1, 1)
DAY = START + timedelta(days=60)  # the monitored day, the last of the 61 ingested ones
TRAINED = DAY - timedelta(days=10)  # the champion's base date, before its performance window
TOLERANCE = 1e-9
SETUP = {"MLOPS_CUSTOMERS": "3000", "MLOPS_MAX_ITERATIONS": "150", "GX_ANALYTICS_ENABLED": "false"}


def rss_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of this process, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(field)


def prepare(url: str, rows: int) -> None:
    """Stores, a champion, its traffic on DAY's performance window, and `rows` log rows on DAY
    (bulk-loaded)."""
    import pandas as pd

    from advanced_mlops import mlflow_io
    from advanced_mlops.data.cleaning import clean_batch
    from advanced_mlops.data.generator import Generator
    from advanced_mlops.data.ingest import ingest_days
    from advanced_mlops.inference import predict_records
    from advanced_mlops.monitoring.performance import performance_window
    from advanced_mlops.registry import promotion
    from advanced_mlops.serving.log_writer import LOG_COLUMNS, log_row
    from advanced_mlops.serving.traffic import log_traffic
    from advanced_mlops.settings import load_settings
    from advanced_mlops.store import repository
    from advanced_mlops.store.bulk import insert_frame, to_records
    from advanced_mlops.store.engine import connect
    from advanced_mlops.store.tables import prediction_log
    from advanced_mlops.training.job import train

    settings = load_settings()
    generator = Generator(settings.data.seed, settings.data.customers)
    days = [START + timedelta(days=i) for i in range((DAY - START).days + 1)]
    ingest_days(url, generator, days, settings.data.label_delay_days, lambda _: "stable", "bench")
    version = train(settings, TRAINED).version
    promotion.promote(settings, version, "bench", force=True)
    model = mlflow_io.load_model(settings, version)
    first, last = performance_window(
        DAY, settings.data.label_delay_days, settings.monitoring.performance_days
    )
    for offset in range((last - first).days + 1):
        log_traffic(settings, first + timedelta(days=offset))

    requests = pd.concat([clean_batch(generator.batch(DAY + timedelta(days=i))) for i in range(30)])
    records = to_records(requests, [c for c in repository.FEATURE_ROW if c != "date"])
    answers = predict_records(model, records)
    start, step = datetime.combine(DAY, datetime.min.time()), timedelta(seconds=86_399 / rows)
    chunk = 100_000
    for offset in range(0, rows, chunk):
        batch = [
            log_row(
                records[i % len(records)],
                {**answers[i % len(records)], "model_version": version},
                f"bench-{i:09d}",
                1.0,
                start + step * i,
            )
            for i in range(offset, min(offset + chunk, rows))
        ]
        with connect(url, write=True) as conn:
            insert_frame(conn, prediction_log, pd.DataFrame(batch, columns=LOG_COLUMNS))


def warm_up() -> Any:
    """Settings, with MLflow's client and the champion's reference loaded once: both ways are
    timed from there (first imports and MLflow's own start-up are not monitoring)."""
    from advanced_mlops.monitoring.job import champion_reference
    from advanced_mlops.settings import load_settings

    settings = load_settings()
    champion_reference(settings)
    return settings


def outcome(decision: Any, drift: list[Any], performance: Any) -> dict[str, Any]:
    """What both ways must agree on."""
    return {
        "status": decision.status,
        "checks": decision.checks,
        "reasons": decision.reasons,
        "labelled": performance.rows if performance else 0,
        "macro_f1": performance.macro_f1 if performance else None,
        "drift": {d.feature: [d.value, d.p_value, d.drifted] for d in drift},
    }


def measure_stream() -> dict[str, Any]:
    from advanced_mlops.monitoring.job import monitor_day

    settings = warm_up()
    before = rss_mb("VmRSS")
    started = time.perf_counter()
    result = monitor_day(settings, DAY, report=False)
    return {
        "seconds": time.perf_counter() - started,
        "rows": result.rows,
        "before_mb": before,
        "peak_mb": rss_mb("VmHWM"),
        **outcome(result.decision, result.drift, result.performance),
    }


def measure_pandas() -> dict[str, Any]:
    """The same decision from a DataFrame of the whole day."""
    import pandas as pd
    from sqlalchemy import select

    from advanced_mlops.monitoring.aggregate import count_frame, day_bounds, labelled_confusion
    from advanced_mlops.monitoring.decision import decide
    from advanced_mlops.monitoring.job import champion_reference
    from advanced_mlops.monitoring.measure import evidence
    from advanced_mlops.monitoring.performance import from_confusion, performance_window
    from advanced_mlops.store.engine import connect
    from advanced_mlops.store.tables import prediction_log

    settings = warm_up()
    before = rss_mb("VmRSS")
    started = time.perf_counter()
    champion, reference, _ = champion_reference(settings)
    assert champion is not None
    assert reference is not None
    start, end = day_bounds(DAY)
    first, last = performance_window(
        DAY, settings.data.label_delay_days, settings.monitoring.performance_days
    )
    with connect(settings.store.url) as conn:
        query = select(prediction_log).where(
            prediction_log.c.created_at >= start, prediction_log.c.created_at < end
        )
        day = pd.read_sql(query, conn)
        confusion = labelled_confusion(conn, first, last, DAY, champion)
    features = pd.DataFrame([json.loads(f) if isinstance(f, str) else f for f in day["features"]])
    frame = features.assign(prediction=day["prediction"].to_numpy())
    performance = from_confusion(confusion, first, last)
    found, _ = evidence(
        DAY,
        champion,
        count_frame(frame, reference),
        reference,
        performance,
        rules=settings.monitoring,
    )
    decision = decide(found, [], settings.monitoring)
    return {
        "seconds": time.perf_counter() - started,
        "rows": len(frame),
        "before_mb": before,
        "peak_mb": rss_mb("VmHWM"),
        **outcome(decision, found.drift, performance),
    }


def disagreements(stream: dict[str, Any], frame: dict[str, Any]) -> list[str]:
    """Where the two ways differ: the decision, the labelled rows, or any drift figure."""
    found = [
        f"{key}: stream {stream[key]!r}, pandas {frame[key]!r}"
        for key in ("rows", "status", "checks", "labelled", "macro_f1")
        if stream[key] != frame[key]
    ]
    if stream["drift"].keys() != frame["drift"].keys():
        found.append(f"features: {sorted(stream['drift'])} vs {sorted(frame['drift'])}")
    for name in stream["drift"].keys() & frame["drift"].keys():
        (value, p_value, drifted), (value2, p_value2, drifted2) = (
            stream["drift"][name],
            frame["drift"][name],
        )
        close = all(
            math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=TOLERANCE)
            for a, b in ((value, value2), (p_value, p_value2))
        )
        if not close or drifted != drifted2:
            found.append(f"{name}: stream {stream['drift'][name]}, pandas {frame['drift'][name]}")
    return found


def child(mode: str, env: dict[str, str], profile: str | None) -> dict[str, Any]:
    command = [sys.executable, __file__, "--measure", mode]
    out = subprocess.run(
        command + (["--profile", profile] if profile else []), env=env, capture_output=True,
        text=True,
    )  # fmt: skip
    if out.returncode:
        raise SystemExit(f"{mode} failed: {out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunk-rows", type=int, default=50_000)
    parser.add_argument("--server", default=MARIADB)
    parser.add_argument("--measure", choices=["stream", "pandas"], help=argparse.SUPPRESS)
    parser.add_argument("--profile", metavar="FILE", help="cProfile the stream run into FILE.")
    args = parser.parse_args()
    if args.measure:
        load = os.getloadavg()[0]
        measure = measure_stream if args.measure == "stream" else measure_pandas
        if args.profile and args.measure == "stream":
            import cProfile

            with cProfile.Profile() as profile:
                found = measure()
            profile.dump_stats(args.profile)
        else:
            found = measure()
        print(json.dumps({**found, "load": load}))
        return

    with (
        tempfile.TemporaryDirectory(prefix="monitor-bench-") as home,
        fresh_database(args.server) as url,
    ):
        env = {
            **os.environ,
            **SETUP,
            "MLOPS_HOME": home,
            "MLOPS_DB_URL": url,
            "MLFLOW_TRACKING_URI": f"sqlite:///{home}/mlflow.db",
            "MLOPS_MONITOR_CHUNK_ROWS": str(args.chunk_rows),
        }
        os.environ.update(env)
        started = time.perf_counter()
        prepare(url, args.rows)
        print(f"set-up: {args.rows:,} log rows on {DAY} in {time.perf_counter() - started:.0f} s")
        stream = child("stream", env, args.profile)
        frame = child("pandas", env, None)
    print(f"monitoring one day of {stream['rows']:,} predictions (MariaDB); decision: "
          f"{stream['status']} {stream['checks']}, because:")  # fmt: skip
    for reason in stream["reasons"]:
        print(f"  {reason}")
    if problems := disagreements(stream, frame):
        raise SystemExit("the two ways disagree:\n  " + "\n  ".join(problems))
    if stream["checks"].get("performance") == "insufficient_data" or not stream["drift"]:
        raise SystemExit("live performance or drift was not judged: the comparison is empty")
    print(
        f"both ways: the same status, checks and {stream['labelled']} labelled predictions; "
        f"{len(stream['drift'])} drift values and p-values equal within {TOLERANCE:g}"
    )
    print(f"{'way':34} {'seconds':>8} {'peak MB':>8} {'added MB':>9} {'load':>5}")
    for name, run in (("stream (mlops monitor)", stream), ("load everything into pandas", frame)):
        added = run["peak_mb"] - run["before_mb"]
        print(f"{name:34} {run['seconds']:8.1f} {run['peak_mb']:8.0f} {added:9.0f} "
              f"{run['load']:5.1f}")  # fmt: skip
    print(f"(load: the machine's 1-minute load average as the way started, {os.cpu_count()} cores)")
    stream_added = stream["peak_mb"] - stream["before_mb"]
    frame_added = frame["peak_mb"] - frame["before_mb"]
    ratio = frame["seconds"] / stream["seconds"]
    print(f"time: {ratio:.2f}x faster; memory added: {frame_added / stream_added:.1f}x less")
    print("(targets: under 60 s, with memory bounded by the chunk, not the day)")


if __name__ == "__main__":
    main()
