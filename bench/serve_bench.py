"""The prediction service under load, against a baseline mode of the same service that writes each
log row inside the request (the course's design). Same machine, same command, hey as the load.

    uv run python bench/serve_bench.py [--duration 30]      # needs `hey` (apt-get install hey)

One champion is trained first; for each mode (sync baseline, memory, durable): start `mlops serve`
(2 workers) on a fresh MariaDB log store, then
  - fixed rate: 200 requests/s offered (20 connections x 10/s) for `duration` s -> p50/p95/p99;
  - saturation: 64 connections without think time for `duration` s -> requests/s, errors;
  - log completeness after each: rows in the log == successful requests;
  - journal fsyncs per 1,000 answers (group commit at work);
and in durable mode, recovery: SIGKILL of the whole process tree under saturation, then the time
from restart to readiness and until the journal's rows are all in the log, and whether every
answer given before the kill is there.

With `--challenger`, the durable mode is measured again with a challenger in shadow (issue 14:
p99 at 200/s under 50 ms, saturation >= 70 % of the figure without one): the champion's model is
registered again as a second version and put in shadow by registry/shadow.py (the code path of
`mlops shadow --force`); measuring starts once the service's shadow metric shows it scoring.
`--rounds N` runs N pairs (the alias cleared between them), since this machine's load drifts
within minutes; the even pairs run the challenger first (ABBA), so that a drift or a cost of
running second falls on both modes alike. Reported per pair: both modes' figures and their ratio,
log rows = answers, log rows with a shadow result (shadow_predictions) once the journal drained,
and `shadow_records_total` by outcome.
Only localhost traffic; every run is bounded in time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx
from _common import fresh_database
from sqlalchemy import func, select

from advanced_mlops import mlflow_io
from advanced_mlops.data.generator import Generator
from advanced_mlops.data.ingest import ingest_days
from advanced_mlops.registry import shadow
from advanced_mlops.registry.promotion import promote
from advanced_mlops.serving.sample_requests import sample_requests
from advanced_mlops.serving.service_runner import command, descendants, environment
from advanced_mlops.settings import DataSettings, Settings, StoreSettings
from advanced_mlops.store.engine import connect
from advanced_mlops.store.tables import prediction_log, shadow_predictions
from advanced_mlops.training.job import train

BASE = date(2025, 1, 30)
PORT = 3311


@dataclass
class Run:
    mode: str
    test: str
    rps: float
    ok: int
    errors: int
    p50: float
    p95: float
    p99: float
    logged: int = 0
    fsyncs_per_1000: float = float("nan")
    cpu_ms: float = float("nan")  # the service's CPU (all its processes) per answer


@dataclass
class Shadowed:
    rows: int  # log rows of the shadow mode's store (warm-up and probes included)
    filled: int  # of which have a shadow result once the journal drained
    outcomes: dict[str, float]  # shadow_records_total by outcome


def prepare(home: Path, db_url: str) -> tuple[dict[str, str], Settings]:
    """A champion in a local MLflow store; the environment the service runs with."""
    settings = Settings(
        store=StoreSettings(home=home, db_url=db_url), data=DataSettings(customers=900)
    )
    days = [BASE - timedelta(days=i) for i in range(30)][::-1]
    ingest_days(db_url, Generator(customers=900), days, 7, lambda _: "stable", "bench")
    promote(settings, train(settings, BASE).version, reason="benchmark", force=True)
    env = {
        **os.environ,
        "MLOPS_HOME": str(home),
        "MLOPS_DB_URL": db_url,
        "MLFLOW_TRACKING_URI": settings.store.tracking_uri,
        "MLOPS_SERVE_WORKERS": "2",
    }
    return env, settings


def register_challenger(settings: Settings) -> str:
    """The champion's model registered again as a new version: same features, same cost per
    record, so the runs measure shadow scoring itself."""
    champion = mlflow_io.alias_version(settings, mlflow_io.CHAMPION)
    entry = mlflow_io.model_version(settings, str(champion))
    return mlflow_io.register_version(settings, entry.source, entry.run_id, entry.model_id)


def hey(url: str, body: Path, duration: int, connections: int, rate: int | None) -> Run:
    args = ["hey", "-z", f"{duration}s", "-c", str(connections), "-m", "POST",
            "-T", "application/json", "-D", str(body)]  # fmt: skip
    if rate:
        args += ["-q", str(rate)]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    ok = sum(int(n) for n in re.findall(r"\[200\]\s+(\d+) responses", out))
    statuses = sum(int(n) for n in re.findall(r"\[\d+\]\s+(\d+) responses", out))
    failed = out.split("Error distribution:")[1] if "Error distribution:" in out else ""
    errors = statuses - ok + sum(int(n) for n in re.findall(r"\[(\d+)\]", failed))

    def pct(p: int) -> float:
        found = re.search(rf"{p}%% in ([\d.]+) secs".replace("%%", "%"), out)
        return float(found[1]) * 1000 if found else float("nan")

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return Run("", "", float(rps[1]) if rps else 0.0, ok, errors, pct(50), pct(95), pct(99))


def log_rows(db_url: str) -> int:
    with connect(db_url) as conn:
        return int(conn.scalar(select(func.count()).select_from(prediction_log)) or 0)


def settle(db_url: str, expected: int, timeout: float = 30) -> int:
    """Rows in the log once the background writer has caught up (or `timeout` passed)."""
    deadline = time.monotonic() + timeout
    rows = log_rows(db_url)
    while rows < expected and time.monotonic() < deadline:
        time.sleep(0.5)
        rows = log_rows(db_url)
    time.sleep(1)
    return log_rows(db_url)


def start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("a") as out:
        return subprocess.Popen(command("127.0.0.1", PORT), env=environment(env, PORT), stdout=out,
                                stderr=subprocess.STDOUT)  # fmt: skip


def wait_ready(url: str, timeout: float = 300) -> float:
    """Seconds until /readyz answers 200."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"service not ready within {timeout} s")


def metric(url: str, name: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name))


SCORED = 'shadow_records_total{outcome="scored"}'


def wait_shadowing(url: str, timeout: float = 120) -> None:
    """Until two rounds of 20 requests in a row were all scored in shadow: both workers have
    loaded the challenger."""
    deadline, full_rounds = time.monotonic() + timeout, 0
    body = sample_requests(1)[0]
    while full_rounds < 2:
        if time.monotonic() > deadline:
            raise SystemExit(f"the challenger was not scoring within {timeout} s")
        before = metric(url, SCORED)
        for _ in range(20):
            httpx.post(f"{url}/predict", json=body, timeout=10).raise_for_status()
        time.sleep(1.5)
        full_rounds = full_rounds + 1 if metric(url, SCORED) - before >= 20 else 0


def shadow_filled(db_url: str, timeout: float = 60) -> tuple[int, int]:
    """(log rows, rows with a shadow result) once they stop moving."""
    deadline, last = time.monotonic() + timeout, (-1, -1)
    while time.monotonic() < deadline:
        with connect(db_url) as conn:
            rows = int(conn.scalar(select(func.count()).select_from(prediction_log)) or 0)
            filled = select(func.count()).select_from(
                prediction_log.join(
                    shadow_predictions,
                    shadow_predictions.c.request_id == prediction_log.c.request_id,
                )
            )
            now = (rows, int(conn.scalar(filled) or 0))
        if now == last or now[0] == now[1]:
            return now
        last = now
        time.sleep(2)
    return last


def cpu_seconds(server: subprocess.Popen[bytes]) -> float:
    """CPU time (user + system) of the service's processes: per answer, a figure that other
    work on the machine changes far less than the requests per second."""
    total = 0
    for pid in [server.pid, *descendants(server.pid)]:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def kill_tree(server: subprocess.Popen[bytes]) -> None:
    for pid in [server.pid, *descendants(server.pid)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    server.wait(timeout=30)


def bench_mode(
    mode: str, env: dict[str, str], body: Path, duration: int, log: Path, shadowing: bool = False
) -> tuple[list[Run], Shadowed | None]:
    db_url = env["MLOPS_DB_URL"]
    url = f"http://127.0.0.1:{PORT}"
    server = start({**env, "MLOPS_LOG_MODE": mode}, log)
    name = log.stem
    try:
        wait_ready(url)
        if shadowing:
            wait_shadowing(url)
        hey(f"{url}/predict", body, 5, 8, None)  # warm-up
        time.sleep(10)  # let the co-located MariaDB finish flushing the set-up's writes
        runs = []
        # The fixed rate first: after a saturation run the co-located MariaDB is still flushing
        # tens of thousands of rows, which would be measured as the service's latency.
        for test, connections, rate in (("200 req/s offered", 20, 10),
                                         ("saturation, 64 conn.", 64, None)):  # fmt: skip
            before = settle(db_url, 0, timeout=0)
            fsyncs = metric(url, "prediction_journal_fsyncs_total")
            cpu = cpu_seconds(server)
            run = hey(f"{url}/predict", body, duration, connections, rate)
            run.cpu_ms = 1000 * (cpu_seconds(server) - cpu) / max(run.ok, 1)
            run.mode, run.test = name, test
            if mode != "sync":
                synced = metric(url, "prediction_journal_fsyncs_total") - fsyncs
                run.fsyncs_per_1000 = 1000 * synced / max(run.ok, 1)
            run.logged = settle(db_url, before + run.ok) - before
            runs.append(run)
        if not shadowing:
            return runs, None
        rows, filled = shadow_filled(db_url)
        outcomes = {o: metric(url, f'shadow_records_total{{outcome="{o}"}}')
                    for o in ("scored", "failed", "dropped")}  # fmt: skip
        return runs, Shadowed(rows, filled, outcomes)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)


@dataclass
class Recovery:
    answered: int  # 200s before the kill
    logged: int  # rows of the run in the log after the restart (>= answered: see below)
    replayed: int  # rows the restarted service found in the journal
    clean_start_s: float  # the same service started with an empty journal: the baseline
    ready_s: float  # restart to /readyz 200
    replayed_s: float  # restart to an empty journal


def bench_recovery(env: dict[str, str], body: Path, log: Path) -> Recovery:
    """Saturation for 4 s, SIGKILL of the whole tree after 3 s, restart."""
    db_url = env["MLOPS_DB_URL"]
    url = f"http://127.0.0.1:{PORT}"
    env = {**env, "MLOPS_LOG_MODE": "durable", "MLOPS_LOG_FLUSH_SECONDS": "2"}
    server = start(env, log)
    clean_start_s = wait_ready(url)
    before = log_rows(db_url)
    load = subprocess.Popen(["hey", "-z", "4s", "-c", "64", "-m", "POST", "-T",
                             "application/json", "-D", str(body), f"{url}/predict"],
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    time.sleep(3)
    kill_tree(server)
    out = load.communicate(timeout=60)[0]
    answered = sum(int(n) for n in re.findall(r"\[200\]\s+(\d+) responses", out))
    restarted = time.monotonic()
    server = start(env, log)
    try:
        ready_s = wait_ready(url)
        while metric(url, "prediction_journal_records") > 0:
            if time.monotonic() - restarted > 300:
                raise SystemExit("the journal left by the kill was not replayed within 300 s")
            time.sleep(0.05)
        replayed_s = time.monotonic() - restarted
        replayed = int(metric(url, 'prediction_log_rows_total{outcome="replayed"}'))
        logged = settle(db_url, before + answered, timeout=10) - before
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    return Recovery(answered, logged, replayed, clean_start_s, ready_s, replayed_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--modes", default="sync,memory,durable", help="Comma-separated.")
    parser.add_argument(
        "--challenger",
        action="store_true",
        help="Measure durable mode again with a challenger in shadow.",
    )
    parser.add_argument("--rounds", type=int, default=1,
                        help="With --challenger: pairs to run, ABBA.")  # fmt: skip
    parser.add_argument("--no-recovery", action="store_true", help="Skip the SIGKILL recovery.")
    args = parser.parse_args()
    if shutil.which("hey") is None:
        raise SystemExit("needs hey: apt-get install -y hey")

    runs: list[Run] = []
    recovery: Recovery | None = None
    shadowed: list[Shadowed] = []
    with tempfile.TemporaryDirectory() as tmp, fresh_database() as features_url:
        home = Path(tmp)
        body = home / "body.json"
        body.write_text(json.dumps(sample_requests(1)[0]))
        trained, settings = prepare(home / "registry", features_url)  # one champion for all
        modes = [(mode, mode, False) for mode in args.modes.split(",") if mode]
        challenger = register_challenger(settings) if args.challenger else ""
        for n in range(1, args.rounds + 1 if args.challenger else 1):
            tag = "" if n == 1 else f"#{n}"
            pair = [(f"durable+shadow{tag}", "durable", True)]
            if n > 1 or "durable" not in args.modes.split(","):
                pair.insert(0, (f"durable{tag}", "durable", False))
            modes += pair[::-1] if n % 2 == 0 else pair  # ABBA: see the docstring
        for name, mode, shadowing in modes:
            with fresh_database() as db_url:  # each mode's log store (and journal) its own
                env = {**trained, "MLOPS_HOME": str(home / name), "MLOPS_DB_URL": db_url}
                if shadowing:  # the code path of `mlops shadow --force`
                    shadow.shadow(settings, challenger, force=True, reason="benchmark")
                measured, found = bench_mode(mode, env, body, args.duration,
                                             home / f"{name}.log", shadowing)  # fmt: skip
                if shadowing:
                    shadow.clear(settings, reason="benchmark")
                runs += measured
                shadowed += [found] if found else []
                if name == "durable" and not args.no_recovery:
                    recovery = bench_recovery(env, body, home / "recovery.log")

    print(f"{'mode':14} {'test':22} {'req/s':>8} {'ok':>7} {'errors':>6} {'p50 ms':>7} "
          f"{'p95 ms':>7} {'p99 ms':>7} {'log rows':>8} {'lost':>5} {'fsync/1k':>8} "
          f"{'CPU ms':>6}")  # fmt: skip
    for r in runs:
        print(f"{r.mode:14} {r.test:22} {r.rps:8.1f} {r.ok:7d} {r.errors:6d} {r.p50:7.1f} "
              f"{r.p95:7.1f} {r.p99:7.1f} {r.logged:8d} {r.ok - r.logged:5d} "
              f"{r.fsyncs_per_1000:8.1f} {r.cpu_ms:6.2f}")  # fmt: skip
    by_mode = {(r.mode, r.test.split(",")[0]): r for r in runs}
    sync = by_mode.get(("sync", "saturation"))
    for mode in ("memory", "durable"):
        saturated = by_mode.get((mode, "saturation"))
        paced = by_mode.get((mode, "200 req/s offered"))
        if saturated and sync:
            print(f"{mode}: saturation {saturated.rps:.0f} req/s = {saturated.rps / sync.rps:.1f}x "
                  f"the sync baseline's {sync.rps:.0f} (target >= 800 req/s)")  # fmt: skip
        if paced:
            print(f"{mode}: p99 at 200 req/s offered {paced.p99:.1f} ms (target < 50 ms)")
    for n in range(1, args.rounds + 1 if args.challenger else 1):
        tag = "" if n == 1 else f"#{n}"
        alone = by_mode[(f"durable{tag}", "saturation")]
        paced_alone = by_mode[(f"durable{tag}", "200 req/s offered")]
        beside = by_mode[(f"durable+shadow{tag}", "saturation")]
        paced_beside = by_mode[(f"durable+shadow{tag}", "200 req/s offered")]
        print(f"pair {n}, challenger in shadow: saturation {beside.rps:.0f} req/s = "
              f"{beside.rps / alone.rps:.0%} of {alone.rps:.0f} without (target >= 70 %); "
              f"p99 at 200 req/s offered {paced_beside.p99:.1f} ms, {paced_alone.p99:.1f} ms "
              f"without (target < 50 ms; ratio {paced_beside.p99 / paced_alone.p99:.2f})"
              f"{'' if n % 2 else ', challenger first'}")  # fmt: skip
    for n, found in enumerate(shadowed, 1):
        counts = ", ".join(f"{k} {v:.0f}" for k, v in found.outcomes.items())
        print(f"pair {n}, shadow: {found.filled} of {found.rows} log rows carry the challenger's "
              f"answer after the journal drained; shadow_records_total: {counts}")  # fmt: skip
    if recovery:
        # Rows >= answers: a request journaled when the kill came is recorded, never answered.
        print(f"recovery after SIGKILL under load: ready in {recovery.ready_s:.1f} s (a clean "
              f"start just before: {recovery.clean_start_s:.1f} s), journal empty after "
              f"{recovery.replayed_s:.1f} s, {recovery.replayed} rows replayed; {recovery.logged} "
              f"rows in the log for {recovery.answered} answers given before the kill"
              f"{'' if recovery.logged >= recovery.answered else ': ROWS MISSING'}")  # fmt: skip


if __name__ == "__main__":
    main()
