"""What reason codes cost: the service with every request explained, against the same service
answering without explanations (the baseline, same run, same model, same log store).

    uv run python bench/explain_bench.py [--duration 20]      # needs `hey` (apt-get install hey)

1. In process, on the served model: milliseconds a record to answer (`predict_records`) and to
   explain (`reason_codes`, exact and approximate SHAP), for 1 and 100 records a call.
2. Over HTTP (`mlops serve`, 2 workers, background log on MariaDB), with serve_bench.py's load:
   200 requests/s offered and saturation (64 connections), plain then `"explain": true`, exact
   then approximate (`MLOPS_EXPLAIN_SHAP`).
Only localhost traffic; every run is bounded in time.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from _common import fresh_database
from serve_bench import Run, bench_mode, prepare

from advanced_mlops import mlflow_io
from advanced_mlops.inference import predict_records, reason_codes
from advanced_mlops.serving.sample_requests import sample_requests
from advanced_mlops.settings import Settings, StoreSettings


def per_record_ms(call: Callable[[], Any], records: int, repeat: int = 5) -> float:
    call()
    started = time.perf_counter()
    for _ in range(repeat):
        call()
    return (time.perf_counter() - started) * 1000 / repeat / records


def in_process(home: Path, db_url: str) -> None:
    settings = Settings(store=StoreSettings(home=home, db_url=db_url))
    version = mlflow_io.alias_version(settings, mlflow_io.CHAMPION)
    assert version is not None
    model = mlflow_io.load_model(settings, version)
    print(f"model v{version}: {model.tree_count_} trees, depth {model.get_param('depth')}")
    print(f"{'records a call':>15} {'answer ms/rec':>14} {'exact +ms/rec':>14} "
          f"{'approx +ms/rec':>15}")  # fmt: skip
    for size in (1, 100):
        records = sample_requests(size)
        labels = [p["credit_score"] for p in predict_records(model, records)]
        calls: dict[str, tuple[Callable[[], Any], int]] = {
            "answer": (partial(predict_records, model, records), 5),
            "exact": (partial(reason_codes, model, records, labels), 2),
            "approx": (partial(reason_codes, model, records, labels, exact=False), 5),
        }
        ms = {name: per_record_ms(call, size, repeat) for name, (call, repeat) in calls.items()}
        print(f"{size:15d} {ms['answer']:14.2f} {ms['exact']:14.2f} {ms['approx']:15.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=20)
    args = parser.parse_args()
    if shutil.which("hey") is None:
        raise SystemExit("needs hey: apt-get install -y hey")

    record = sample_requests(1)[0]
    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp, fresh_database() as db_url:
        home = Path(tmp)
        env, _ = prepare(home / "store", db_url)
        in_process(home / "store", db_url)
        scenarios = {
            "plain (baseline)": ({**record}, {}),
            "explain, exact": ({**record, "explain": True}, {"MLOPS_EXPLAIN_SHAP": "exact"}),
            "explain, approx.": (
                {**record, "explain": True},
                {"MLOPS_EXPLAIN_SHAP": "approximate"},
            ),
        }
        for name, (body, extra) in scenarios.items():
            path = home / f"{len(runs)}.json"
            path.write_text(json.dumps(body))
            measured, _ = bench_mode("durable", {**env, **extra}, path, args.duration,
                                     home / f"{len(runs)}.log")  # fmt: skip
            for run in measured:
                run.mode = name
                runs.append(run)

    print(f"{'scenario':17} {'test':22} {'req/s':>8} {'ok':>7} {'errors':>6} {'p50 ms':>7} "
          f"{'p95 ms':>7} {'p99 ms':>7} {'lost':>5}")  # fmt: skip
    for r in runs:
        print(f"{r.mode:17} {r.test:22} {r.rps:8.1f} {r.ok:7d} {r.errors:6d} {r.p50:7.1f} "
              f"{r.p95:7.1f} {r.p99:7.1f} {r.ok - r.logged:5d}")  # fmt: skip
    base = runs[1].rps
    for r in runs[3::2]:
        print(f"{r.mode}: saturation {r.rps:.0f} req/s = {r.rps / base:.2f}x the baseline")


if __name__ == "__main__":
    main()
