"""`mlops pr gate`: a pull request's pipeline judged against its base's, on the same data.

The base commit is checked out in a temporary git worktree. Its code generates the raw sample
and builds the holdout (a pull request that changes how the holdout is built must not grade
itself); each side then ingests, cleans, trains and predicts the same raw holdout records with
its own code (`mlops pr train-predict` run from its own tree, `uv run` in the base's); the
gate's one judgement (`registry.judge`) compares the two on the same rows. Without a base, or
with a base older than this interface, the pull request gets the absolute checks alone, and the
summary says so.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from advanced_mlops import schema
from advanced_mlops.errors import MlopsError
from advanced_mlops.registry.judge import Judgement, judge
from advanced_mlops.settings import Settings

INTERFACE = Path("src/advanced_mlops/cli/pr_sides.py")  # a base without it predates `mlops pr`


@dataclass(frozen=True)
class Side:
    name: str
    commit: str
    latency_ms: float
    proba: np.ndarray
    missing: int  # holdout records this side gave no prediction for
    card: Path | None = None  # its model's card (a base older than the cards has none)


@dataclass(frozen=True)
class PrVerdict:
    pull_request: Side
    base: Side | None
    note: str  # why there is no base, or ""
    rows: int
    judgement: Judgement


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise MlopsError(f"git {' '.join(args)}: {done.stderr.strip() or done.returncode}")
    return done.stdout.strip()


def resolve_base(repo: Path, base_ref: str | None) -> tuple[str | None, str]:
    """(base commit, how it was found). BASE_REF must name a commit; unset, the merge base with
    origin/main, else main; none of them (a first commit) gives None."""
    if base_ref:
        try:
            return git(repo, "rev-parse", "--verify", "--quiet", f"{base_ref}^{{commit}}"), base_ref
        except MlopsError:
            raise MlopsError(f"BASE_REF={base_ref}: no such commit in {repo}") from None
    for candidate in ("origin/main", "main"):
        try:
            return git(repo, "merge-base", "HEAD", candidate), f"merge base with {candidate}"
        except MlopsError:
            continue
    return None, "no BASE_REF, no origin/main or main to compare with"


@contextmanager
def base_worktree(repo: Path, commit: str) -> Iterator[Path]:
    """The base commit checked out next to nothing of the pull request's, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="mlops-base-")) / "tree"
    git(repo, "worktree", "add", "--detach", "--quiet", str(folder), commit)
    try:
        yield folder
    finally:
        subprocess.run(
            ["git", "-C", str(repo), "worktree", "remove", "--force", str(folder)],
            capture_output=True,
        )
        shutil.rmtree(folder.parent, ignore_errors=True)


def side_env(home: Path) -> dict[str, str]:
    """Each side's own embedded stores; every other setting (population, seed, training) the
    same for both, from this process's environment."""
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "GITHUB_STEP_SUMMARY")}
    return {
        **env,
        "MLOPS_HOME": str(home),
        "MLOPS_DB_URL": f"sqlite:///{home / 'store.db'}",
        "MLFLOW_TRACKING_URI": f"sqlite:///{home / 'mlflow.db'}",
    }


def run_side(name: str, step: str, command: list[str], cwd: Path, home: Path) -> None:
    """One side's `mlops pr STEP`; its output goes to HOME/STEP.log, its failure is one line
    naming the side and the step."""
    done = subprocess.run(command, cwd=cwd, env=side_env(home), capture_output=True, text=True)
    (home / f"{step}.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        lines = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        raise MlopsError(
            f"the {name}'s pipeline failed at `mlops pr {step}` (log: {home / f'{step}.log'}): "
            f"{lines[-1] if lines else f'exit {done.returncode}'}"
        )


def base_command(tree: Path, *args: str) -> list[str]:
    """`mlops` from the base's own checkout and its own locked dependencies."""
    uv = shutil.which("uv") or "uv"
    return [uv, "run", "--quiet", "--frozen", "--no-dev", "--project", str(tree), "mlops", *args]


def own_command(*args: str) -> list[str]:
    """`mlops` from this checkout, with this interpreter."""
    return [sys.executable, "-c", "from advanced_mlops.cli import main; main()", *args]


def read_side(name: str, commit: str, path: Path, keys: pd.DataFrame) -> Side:
    """A side's predictions in the order of the holdout labels; a record it did not predict gets
    uniform probabilities (it counts, and counts against it)."""
    answer = json.loads(path.read_text())
    frame = pd.DataFrame(answer["keys"], columns=["customer_id", "date"])
    proba = pd.DataFrame(answer["proba"], columns=list(schema.CLASSES))
    joined = keys.merge(pd.concat([frame, proba], axis=1), on=["customer_id", "date"], how="left")
    missing = int(joined[list(schema.CLASSES)].isna().any(axis=1).sum())
    filled = joined[list(schema.CLASSES)].fillna(1 / len(schema.CLASSES)).to_numpy()
    card = path.parent / answer["card"] if "card" in answer else None
    return Side(name, commit, float(answer["latency_p95_ms"]), filled, missing, card)


def pr_gate(
    settings: Settings, repo: Path, base_ref: str | None, start: date, days: int, work: Path
) -> PrVerdict:
    """Judge this checkout's pipeline against its base's (or alone, without a base)."""
    holdout_days = settings.training.holdout_days
    sample_args = ["--start", start.isoformat(), "--days", str(days)]
    sample_args += ["--holdout-days", str(holdout_days)]
    head = git(repo, "rev-parse", "HEAD")
    base_commit, found = resolve_base(repo, base_ref)
    note = ""
    if base_commit is None:
        note = f"{found}: absolute checks only"
    with optional_worktree(base_commit, repo) as tree:
        if tree is not None and not (tree / INTERFACE).exists():
            note = (
                f"base {base_commit[:12] if base_commit else ''} ({found}) predates `mlops pr`: "
                "absolute checks only"
            )
            tree = None
        sample = work / "sample"
        sample_cmd = ["pr", "sample", "--out", str(sample), *sample_args]
        ours_out, theirs_out = work / "pr" / "predictions.json", work / "base" / "predictions.json"
        if tree is not None:
            run_side("base", "sample", base_command(tree, *sample_cmd), tree, work / "base")
            predict = ["pr", "train-predict", "--sample", str(sample), "--out", str(theirs_out)]
            run_side("base", "train-predict", base_command(tree, *predict), tree, work / "base")
        else:
            run_side("pull request", "sample", own_command(*sample_cmd), repo, work / "pr")
        predict = ["pr", "train-predict", "--sample", str(sample), "--out", str(ours_out)]
        run_side("pull request", "train-predict", own_command(*predict), repo, work / "pr")
    labels = pd.read_csv(sample / "labels.csv", dtype=str, keep_default_na=False)
    keys = labels[["customer_id", "date"]]
    ours = read_side("pull request", head, ours_out, keys)
    theirs = None
    if base_commit is not None and not note:
        theirs = read_side("base", base_commit, theirs_out, keys)
    judgement = judge(
        labels[schema.LABEL].tolist(),
        ours.proba,
        theirs.proba if theirs else None,
        ours.latency_ms,
        settings.gate,
    )
    return PrVerdict(ours, theirs, note, len(labels), judgement)


@contextmanager
def optional_worktree(commit: str | None, repo: Path) -> Iterator[Path | None]:
    """The base's worktree, or None without a base."""
    if commit is None:
        yield None
        return
    with base_worktree(repo, commit) as tree:
        yield tree
