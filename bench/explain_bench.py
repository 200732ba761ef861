"""What reason codes cost: the service with every request explained, against the same service
answering without explanations (the baseline, same run, same model, same log store).

    uv run python bench/explain_bench.py [--duration 20] [--rounds N] [--approximate]

(needs `hey`: apt-get install hey)
1. In process, on the served model: milliseconds a record to answer (`predict_records`) and to
   explain too (`explain`: exact SHAP from CatBoost's call and from the service's SHAP table
   once it knows the records' leaves, and approximate SHAP; shown as the difference), for 1 and
   100 records a call; then the table from empty, fed distinct records one at a time (what
   the first explained requests of a service meet).
2. Over HTTP (`mlops serve`, 2 workers, durable log on MariaDB), with serve_bench.py's load:
   200 requests/s offered and saturation (64 connections), plain requests (the baseline) and
   `"explain": true` on every request with exact SHAP values, in `--rounds` pairs run ABBA (the
   even pairs explain first) since this machine's load drifts within minutes; `--approximate`
   adds CatBoost's approximate values (`MLOPS_EXPLAIN_SHAP`) to each pair. Reported per pair:
   the p99 at 200/s and its ratio to the plain service's, the service's CPU per answer (a figure
   other work on the machine moves far less than the tail) and saturation against plain.
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
from advanced_mlops.inference import model_pool, predict_records, shap_values
from advanced_mlops.serving.sample_requests import sample_requests
from advanced_mlops.serving.shap_table import ShapTable
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
          f"{'table +ms/rec':>14} {'approx +ms/rec':>15}")  # fmt: skip
    for size in (1, 100):
        records = sample_requests(size)
        explain, table = [True] * size, ShapTable(model)
        calls: dict[str, tuple[Callable[[], Any], int]] = {
            "answer": (partial(predict_records, model, records), 50),
            "exact": (partial(predict_records, model, records, [True] * size), 20),
            "table": (partial(predict_records, model, records, explain, explainer=table), 20),
            "approx": (partial(predict_records, model, records, [True] * size, False), 20),
        }
        ms = {name: per_record_ms(call, size, repeat) for name, (call, repeat) in calls.items()}
        extra = {name: ms[name] - ms["answer"] for name in ("exact", "table", "approx")}
        print(f"{size:15d} {ms['answer']:14.2f} {extra['exact']:14.2f} {extra['table']:14.2f} "
              f"{extra['approx']:15.2f}")  # fmt: skip
    table_warm_up(model)


def table_warm_up(model: Any, count: int = 600) -> None:
    """The SHAP table from empty, one distinct record a call (what a service's first explained
    requests meet): milliseconds a call to explain, by stretch of calls, against CatBoost's."""
    table = ShapTable(model)
    pools = [model_pool([record]) for record in sample_requests(count)]
    stretches = [(0, 10), (10, 100), (100, 300), (300, count)]
    print(f"SHAP table from empty, {count} distinct records one at a time (ms a call):")
    for first, last in stretches:
        started = time.perf_counter()
        for pool in pools[first:last]:
            table(pool)
        took = (time.perf_counter() - started) * 1000 / (last - first)
        print(f"  records {first + 1:3d}-{last:3d}: {took:6.3f}   (leaves known after: "
              f"{table.known_leaves} of {sum(model.get_tree_leaf_counts())})")  # fmt: skip
    started = time.perf_counter()
    for pool in pools[:100]:
        shap_values(model, pool)
    print(f"  CatBoost's own call: {(time.perf_counter() - started) * 10:6.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=1, help="Pairs to run, ABBA.")
    parser.add_argument("--approximate", action="store_true",
                        help="Also measure approximate SHAP values in each pair.")  # fmt: skip
    args = parser.parse_args()
    if shutil.which("hey") is None:
        raise SystemExit("needs hey: apt-get install -y hey")

    record = sample_requests(1)[0]
    scenarios = {
        "plain": ({**record}, {}),
        "exact": ({**record, "explain": True}, {"MLOPS_EXPLAIN_SHAP": "exact"}),
    }
    if args.approximate:
        scenarios["approximate"] = ({**record, "explain": True},
                                    {"MLOPS_EXPLAIN_SHAP": "approximate"})  # fmt: skip
    runs: dict[tuple[int, str, str], Run] = {}
    with tempfile.TemporaryDirectory() as tmp, fresh_database() as features_url:
        home = Path(tmp)
        trained, _ = prepare(home / "store", features_url)
        in_process(home / "store", features_url)
        for n in range(1, args.rounds + 1):
            names = list(scenarios) if n % 2 else list(scenarios)[::-1]  # ABBA
            for name in names:
                body, extra = scenarios[name]
                path = home / f"{name}.json"
                path.write_text(json.dumps(body))
                with fresh_database() as db_url:  # each run's log store (and journal) its own
                    env = {**trained, **extra, "MLOPS_HOME": str(home / f"{name}{n}"),
                           "MLOPS_DB_URL": db_url}  # fmt: skip
                    measured, _ = bench_mode("durable", env, path, args.duration,
                                             home / f"{name}{n}.log")  # fmt: skip
                for run in measured:
                    runs[(n, name, run.test.split(",")[0])] = run

    print(f"{'pair':>4} {'every request':13} {'test':22} {'req/s':>8} {'ok':>7} {'errors':>6} "
          f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'lost':>5} {'CPU ms':>6}")  # fmt: skip
    for (n, name, _), r in runs.items():
        print(f"{n:4d} {name:13} {r.test:22} {r.rps:8.1f} {r.ok:7d} {r.errors:6d} {r.p50:7.1f} "
              f"{r.p95:7.1f} {r.p99:7.1f} {r.ok - r.logged:5d} {r.cpu_ms:6.2f}")  # fmt: skip
    for n in range(1, args.rounds + 1):
        plain, paced = runs[(n, "plain", "saturation")], runs[(n, "plain", "200 req/s offered")]
        for name in list(scenarios)[1:]:
            r, p = runs[(n, name, "saturation")], runs[(n, name, "200 req/s offered")]
            print(f"pair {n}, {name}: p99 at 200 req/s {p.p99:.1f} ms, plain {paced.p99:.1f} "
                  f"(target < 50 ms; ratio {p.p99 / paced.p99:.2f}); CPU ms per answer at 200/s "
                  f"{p.cpu_ms:.2f}, plain {paced.cpu_ms:.2f} (+{p.cpu_ms - paced.cpu_ms:.2f}); "
                  f"saturation {r.rps:.0f} req/s = {r.rps / plain.rps:.2f}x plain"
                  f"{'' if n % 2 else ', explained first'}")  # fmt: skip


if __name__ == "__main__":
    main()
