"""Orchestration: DAG parse times, and the training DAG under `dag.test()` against calling the
same task functions directly, on identical stores, in the same run.

    uv run --extra airflow python bench/dag_bench.py [--customers 3000] [--days 60] [--rounds 5]

Parse time: Airflow's own per-file statistic (DagBag's `dagbag_stats`) for each DAG file parsed
in a fresh interpreter that has loaded what the DAG processor has loaded, the median of
`--repeats`; next to it, what a file importing the package's heavy modules would pay on top.

Overhead: two MariaDB databases get the same ingested days; one is trained on by calling
`orchestration.tasks` in order (base date -> snapshot -> train -> gate -> branch -> promote), the
other by `continuous_training` under `dag.test()`: same functions, plus Airflow's task runner,
XComs and metadata. Heavy imports are warmed before either is timed. Each round runs both ways
back to back (alternating which goes first) and gives one ratio; the overhead is the median of
the rounds' ratios, so a slow moment of a shared machine weighs on one round, not on the figure.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from _common import MARIADB, fresh_database

DAGS = Path(__file__).resolve().parents[1] / "dags"
BASE = date(2025, 3, 1)
HEAVY = "advanced_mlops.training.job, advanced_mlops.registry.promotion, advanced_mlops.data.ingest"


def parse_times(repeats: int) -> None:
    from advanced_mlops.orchestration.parse_time import parse_dag_file

    print(f"DAG file parse time, Airflow's own per-file statistic (median of {repeats}):")
    for path in sorted(DAGS.glob("*.py")):
        seconds = statistics.median(parse_dag_file(path).seconds for _ in range(repeats))
        print(f"  {path.name:28} {seconds * 1000:7.1f} ms")
    heavy = f"import time; s = time.perf_counter(); import {HEAVY}; print(time.perf_counter() - s)"
    out = subprocess.run([sys.executable, "-c", heavy], capture_output=True, text=True, check=True)
    print(
        f"  (a file importing the task modules at parse time would add "
        f"{float(out.stdout.split()[-1]) * 1000:.0f} ms, on every parse, every 30 s)"
    )


def airflow_environment(home: Path) -> None:
    os.environ.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "false",
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "GX_ANALYTICS_ENABLED": "false",
        }
    )
    for command in (["db", "migrate"], ["dags", "reserialize"]):
        subprocess.run([sys.executable, "-m", "airflow", *command], check=True, capture_output=True)


def use_store(url: str, home: Path) -> None:
    """Point the tasks at one store (through the Airflow connection, as in production)."""
    os.environ.update(
        {
            "MLOPS_HOME": str(home),
            "AIRFLOW_CONN_MLOPS_STORE": url,
            "MLOPS_AIRFLOW_CONN_ID": "mlops_store",
            "MLFLOW_TRACKING_URI": f"sqlite:///{home / 'mlflow.db'}",
        }
    )


def direct() -> None:
    from advanced_mlops.orchestration import tasks

    day = tasks.resolve_base_date(BASE.isoformat())
    tasks.build_snapshot(day)
    version = tasks.train_model(day)
    verdict = tasks.gate_model(version, day)
    if tasks.choose_branch(verdict) == "promote":
        tasks.promote_model(version)
    else:
        tasks.keep_champion(version, verdict["verdict"])


def under_dag_test() -> None:
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(DAGS)).dags["continuous_training"]
    run = dag.test(logical_date=datetime(BASE.year, BASE.month, BASE.day, tzinfo=UTC))
    if str(run.state) != "success":
        raise SystemExit(f"continuous_training ended {run.state}")


def timed(action: Callable[[], None]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=3000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=5, help="Parses of each DAG file.")
    parser.add_argument("--rounds", type=int, default=5, help="Training runs of each kind.")
    parser.add_argument("--server", default=MARIADB)
    args = parser.parse_args()
    os.environ["MLOPS_CUSTOMERS"] = str(args.customers)

    parse_times(args.repeats)

    from advanced_mlops.data.generator import Generator
    from advanced_mlops.data.ingest import ingest_days

    __import__("advanced_mlops.training.job")  # warm the heavy imports for both runs
    __import__("advanced_mlops.contracts.validate")
    days = [BASE - timedelta(days=i) for i in range(args.days - 1, -1, -1)]
    runs: dict[str, list[float]] = {"direct": [], "dag": []}
    with tempfile.TemporaryDirectory(prefix="dag-bench-") as folder:
        work = Path(folder)
        airflow_environment(work / "airflow")
        # Alternate the order, so whatever the first run of a process pays is shared fairly.
        for round_ in range(args.rounds):
            order = ["direct", "dag"] if round_ % 2 == 0 else ["dag", "direct"]
            for mode in order:
                with fresh_database(args.server) as url:
                    ingest_days(url, Generator(customers=args.customers), days, 7, stable, "b")
                    use_store(url, work / f"{mode}-{round_}")
                    runs[mode].append(timed(direct if mode == "direct" else under_dag_test))
    direct_s, dag_s = (statistics.median(runs[m]) for m in ("direct", "dag"))
    ratios = [d / f for d, f in zip(runs["dag"], runs["direct"], strict=True)]
    print(f"continuous_training on {args.days} days of {args.customers} customers (MariaDB), "
          f"median of {args.rounds} rounds:")  # fmt: skip
    print(f"  task functions called directly: {direct_s:6.1f} s  {fmt(runs['direct'])}")
    print(f"  the DAG under dag.test():       {dag_s:6.1f} s  {fmt(runs['dag'])}")
    print(f"  overhead per round: {fmt(ratios, 2)}")
    print(f"  orchestration overhead: {statistics.median(ratios):.2f}x, median of the rounds' "
          f"ratios (target < 1.5x)")  # fmt: skip


def stable(_: date) -> str:
    return "stable"


def fmt(values: list[float], digits: int = 1) -> str:
    return "(" + ", ".join(f"{v:.{digits}f}" for v in values) + ")"


if __name__ == "__main__":
    main()
