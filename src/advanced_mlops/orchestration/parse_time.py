"""How long Airflow takes to parse one DAG file, by Airflow's own per-file statistic.

Each file is parsed in a fresh interpreter that has loaded what Airflow's DAG processor has
loaded (its DagBag), so the figure is what the processor pays for the file itself: the DAG
file's imports (this package's, which must stay light) and building its DAG objects.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PROBE = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
before = set(sys.modules)
bag = DagBag(dag_folder=sys.argv[1])
loaded = set(sys.modules) - before
print(json.dumps({
    "seconds": sum(s.duration.total_seconds() for s in bag.dagbag_stats),
    "dags": sorted(bag.dag_ids),
    "errors": {str(k): str(v) for k, v in bag.import_errors.items()},
    "heavy": sorted(m for m in loaded if m.split(".")[0] in HEAVY),
}))
"""
# What a DAG file must not import at parse time (each costs seconds; tasks import them).
HEAVY = ("pandas", "mlflow", "catboost", "great_expectations", "sklearn", "bentoml")


@dataclass(frozen=True)
class ParseStat:
    seconds: float
    dags: list[str]
    errors: dict[str, str]
    heavy: list[str]  # heavy modules the file pulled in


def parse_dag_file(path: Path, env: dict[str, str] | None = None) -> ParseStat:
    code = PROBE.replace("HEAVY", repr(HEAVY))
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, env=env
    )
    if out.returncode:
        raise RuntimeError(f"parsing {path.name} failed: {out.stderr[-2000:]}")
    return ParseStat(**json.loads(out.stdout.strip().splitlines()[-1]))
