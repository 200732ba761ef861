"""`make model-gate BASE_REF=...` in a temporary git repository holding this project: a neutral
change passes, a degrading change (the model's input preparation loses the numeric features)
fails, with both models in the summary; a base that does not exist is one line and no verdict."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SMALL = [
    # The mechanism, not the statistics: a 7-day holdout keeps the sample at 31 days.
    "SAMPLE_DAYS=31",
    "MLOPS_HOLDOUT_DAYS=7",
    "MLOPS_CUSTOMERS=1200",
    "MLOPS_MAX_ITERATIONS=100",
    "MLOPS_GATE_MIN_MACRO_F1=0.3",
    "MLOPS_GATE_MIN_CLASS_RECALL=0.1",
]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This project's tracked files, as they are in the working tree, committed as the base."""
    folder = tmp_path_factory.mktemp("pr") / "repo"
    for name in git(ROOT, "ls-files", "--cached", "--others", "--exclude-standard").splitlines():
        source = ROOT / name
        if source.is_file():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, folder / name)
    git(folder.parent, "init", "-q", "-b", "main", str(folder))
    commit(folder, "base")
    return folder


def model_gate(repo: Path, base: str, measured: bool = False) -> tuple[int, str, str]:
    """`make model-gate` there; (exit code, the summary it wrote, its output).

    `measured`: the run counts in this suite's coverage (coverage's subprocess patch reaches the
    copy's processes, and `[tool.coverage.paths]` maps their files onto this tree's). Only for a
    copy whose code is this tree's: a run on changed code would credit lines it did not run."""
    left_out = {"VIRTUAL_ENV", "GITHUB_STEP_SUMMARY"}
    if not measured:
        left_out |= {"COVERAGE_PROCESS_CONFIG", "COVERAGE_PROCESS_START"}
    env = {k: v for k, v in os.environ.items() if k not in left_out}
    done = subprocess.run(
        ["make", "model-gate", f"BASE_REF={base}", *SMALL],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    report = repo / ".mlops" / "ci" / "model-gate" / "summary.md"
    return done.returncode, report.read_text() if report.exists() else "", done.stdout + done.stderr


def test_a_neutral_change_passes_and_a_degrading_one_fails(repo: Path) -> None:
    base = git(repo, "rev-parse", "HEAD")
    readme = repo / "README.md"
    readme.write_text(readme.read_text() + "\nA neutral change.\n")
    neutral = commit(repo, "neutral")

    code, summary, output = model_gate(repo, base, measured=True)  # the code is this tree's
    assert code == 0, output
    assert "### Model gate: pull request vs its base: ✅ PASSED" in summary
    assert f"| figure | pull request {neutral[:12]} | base {base[:12]} |" in summary
    assert "Paired difference (pull request - base): +0.0000" in summary
    # Both versions' model cards, folded into the comment, and as files for the artifact.
    for side, commit_id in (("pull request", neutral), ("base", base)):
        assert f"<details><summary>{side} {commit_id[:12]}: model card</summary>" in summary
    assert summary.count("#### Model card: credit_score_classifier v1") == 2
    cards = sorted((repo / ".mlops" / "ci" / "model-gate").glob("*/model_card.md"))
    assert [card.parent.name for card in cards] == ["base", "pr"]

    inference = repo / "src" / "advanced_mlops" / "inference.py"
    source = inference.read_text()
    assert "def _number(value: Any) -> float:\n" in source
    inference.write_text(
        source.replace(
            "def _number(value: Any) -> float:\n",
            "def _number(value: Any) -> float:\n    return math.nan\n",
        )
    )
    degrading = commit(repo, "a bug in the model's input preparation")

    code, summary, output = model_gate(repo, base)
    assert code == 2, output  # make exits 2 when a recipe fails
    assert "❌ REFUSED" in summary.splitlines()[0]
    assert f"| figure | pull request {degrading[:12]} | base {base[:12]} |" in summary
    assert "| macro_f1_vs_champion |" in summary
    assert "worse than the champion beyond noise" in summary
    for row in ("| macro_f1 |", "| recall_poor |", "| precision_good |", "| log_loss |", "| ece |"):
        line = next(line for line in summary.splitlines() if line.startswith(row))
        assert line.count("| -") == 0, line  # a figure for both models


def test_a_base_that_does_not_exist_is_one_line_and_no_verdict(repo: Path) -> None:
    code, summary, output = model_gate(repo, "no-such-branch")
    assert code == 2
    assert "error: BASE_REF=no-such-branch: no such commit" in output
    assert summary == ""
