"""Parity of the GitHub workflows, the Makefile, `.ci/run` and the `mlops` command tree.

GitHub cannot be reached from here, so a workflow is trusted only if every step it runs is a
`make` target or an `mlops` command that exists and that `.ci/run` runs too. The checker is tested
on broken workflows as well, so a passing run means something.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml

from advanced_mlops.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
# Steps that are not commands: set-up, image build and push, attestation, the PR comment, deploy.
ALLOWED_ACTIONS = {
    "actions/checkout",
    "astral-sh/setup-uv",
    "docker/setup-buildx-action",
    "docker/login-action",
    "docker/metadata-action",
    "docker/build-push-action",
    "actions/attest-build-provenance",
    "marocchino/sticky-pull-request-comment",
    "appleboy/ssh-action",  # its `script` is checked like a run step
}
SHELL_OPERATORS = {"&&", "||", "|", ";", "&", ">", ">>", "<"}
# A target of the ci workflow that `make ci` covers through another: `make test` runs pytest on
# every test path, tests/dags/test_integrity.py included.
COVERED_BY = {"dag-integrity": "test"}


# --- what exists ------------------------------------------------------------------------------


def make(*args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    """`make ARGS` here, as a top-level make: run from `make test`, an inherited MAKELEVEL would
    add "make[1]: Entering directory" lines to what is parsed."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    return subprocess.run(
        ["make", "--no-print-directory", *args], cwd=ROOT, capture_output=True, text=True,
        env=env, check=check,
    )  # fmt: skip


@cache
def target_exists(target: str) -> bool:
    return make("-n", target).returncode == 0


@cache
def dry_run(target: str) -> list[str]:
    """The commands `make TARGET` would run (make -n)."""
    done = make("-n", target)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


@cache
def prerequisites(target: str) -> frozenset[str]:
    """`target`'s prerequisites, transitively, from make's own database."""
    done = make("--print-data-base", "--question", "--no-builtin-rules", target)
    direct = set()
    for line in done.stdout.splitlines():
        name, _, rest = line.partition(":")
        if name == target and "=" not in rest:  # not a target-specific variable
            direct |= set(rest.split())
    return frozenset(direct.union(*(prerequisites(p) for p in direct)))


def mlops_problem(args: list[str]) -> str | None:
    """Why `mlops ARGS` names no existing command or option, or None when it does."""
    command: Any = typer.main.get_command(app)
    path = ["mlops"]
    rest = list(args)
    while getattr(command, "commands", None) is not None:
        if not rest or rest[0].startswith("-"):
            return f"`{' '.join(path)}` needs a sub-command"
        name = rest.pop(0)
        if name not in command.commands:
            return f"`{' '.join(path)}` has no command {name!r}"
        command, path = command.commands[name], [*path, name]
    options = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
    for token in rest:
        option = token.split("=", 1)[0]
        if option.startswith("--") and option not in options:
            return f"`{' '.join(path)}` has no option {option}"
    return None


# --- the checker ------------------------------------------------------------------------------


def command_problems(line: str, where: str) -> list[str]:
    """A workflow command line must be one `make TARGET...` or `[uv run ...] mlops ...` call."""
    tokens = shlex.split(line, comments=True)
    if not tokens:
        return []
    if SHELL_OPERATORS & set(tokens):
        return [f"{where}: {line!r} is more than one command"]
    if tokens[0] == "make":
        targets = [t for t in tokens[1:] if not t.startswith("-") and "=" not in t]
        if not targets:
            return [f"{where}: {line!r} names no make target"]
        return [f"{where}: no make target {t!r}" for t in targets if not target_exists(t)]
    mlops = mlops_args(tokens)
    if mlops is None:
        return [f"{where}: {line!r} is neither a make target nor an mlops command"]
    problem = mlops_problem(mlops)
    return [f"{where}: {problem}"] if problem else []


def mlops_args(tokens: list[str]) -> list[str] | None:
    """The arguments of `mlops` in `mlops ...` or `uv run [OPTIONS] mlops ...`; else None."""
    if tokens[:1] == ["mlops"]:
        return tokens[1:]
    if tokens[:2] == ["uv", "run"] and "mlops" in tokens:
        return tokens[tokens.index("mlops") + 1 :]
    return None


def steps(workflow: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for job_name, job in (workflow.get("jobs") or {}).items():
        for index, step in enumerate(job.get("steps") or []):
            yield f"{job_name}.steps[{index}]", step


def workflow_problems(workflow: dict[str, Any]) -> list[str]:
    problems = []
    for where, step in steps(workflow):
        if "run" in step:
            for line in str(step["run"]).splitlines():
                problems += command_problems(line, where)
        elif "uses" in step:
            action = str(step["uses"]).split("@", 1)[0]
            if action not in ALLOWED_ACTIONS:
                problems.append(f"{where}: {action} is not a set-up, build, push or deploy action")
            script = (step.get("with") or {}).get("script")
            if script:
                problems += remote_problems(str(script), where)
        else:
            problems.append(f"{where}: neither `run` nor `uses`")
    return problems


def remote_problems(script: str, where: str) -> list[str]:
    """A deploy host's script: optionally `cd DIR &&`, then one make or mlops call."""
    match = re.fullmatch(r'\s*(?:cd\s+("[^"]*"|\S+)\s*&&\s*)?(.*?)\s*', script, re.DOTALL)
    assert match is not None
    return command_problems(match.group(2), f"{where} (remote)")


def make_targets(workflow: dict[str, Any]) -> set[str]:
    targets = set()
    for _, step in steps(workflow):
        for line in str(step.get("run", "")).splitlines():
            tokens = shlex.split(line, comments=True)
            if tokens[:1] == ["make"]:
                targets |= {t for t in tokens[1:] if not t.startswith("-") and "=" not in t}
    return targets


def load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text())
    return loaded


# --- the real files ---------------------------------------------------------------------------


def test_the_workflows_exist() -> None:
    assert {p.name for p in WORKFLOWS} >= {"ci.yml", "release.yml"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_step_is_an_existing_make_target_or_mlops_command(path: Path) -> None:
    assert workflow_problems(load(path)) == []


def test_ci_run_runs_make_ci_and_make_ci_covers_the_ci_workflow() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    commands = [shlex.split(line, comments=True) for line in script.splitlines()]
    assert ["make", "ci"] in commands
    covered = prerequisites("ci")
    for target in sorted(make_targets(load(ROOT / ".github" / "workflows" / "ci.yml"))):
        assert target in covered or COVERED_BY.get(target) in covered, target


def test_the_target_covering_dag_integrity_runs_its_tests() -> None:
    (integrity,) = [line for line in dry_run("dag-integrity") if "pytest" in line]
    (everything,) = [line for line in dry_run("test") if "pytest" in line]
    test_file = integrity.split()[-1]
    assert (ROOT / test_file).is_file()
    assert everything.split()[-1] == "pytest"  # no path: pyproject's testpaths
    testpaths = load_toml()["tool"]["pytest"]["ini_options"]["testpaths"]
    assert any(test_file.startswith(f"{p}/") for p in testpaths)


def load_toml() -> dict[str, Any]:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text())


@pytest.mark.parametrize(
    "target", ["ci", "lint", "lint-infra", "contracts", "model-gate", "dag-integrity", "deploy"]
)
def test_every_mlops_call_of_a_make_target_exists(target: str) -> None:
    for line in dry_run(target):
        if not line.startswith(("uv run mlops", "mlops")):
            continue
        assert mlops_problem(mlops_args(shlex.split(line)) or []) is None, line


def test_the_pull_request_comment_posts_the_report_model_gate_writes() -> None:
    comments = [
        step["with"]["path"]
        for _, step in steps(load(ROOT / ".github" / "workflows" / "ci.yml"))
        if str(step.get("uses", "")).startswith("marocchino/sticky-pull-request-comment@")
    ]
    assert comments
    gate = next(line for line in dry_run("model-gate") if " gate " in line)
    for path in comments:
        assert f"--summary {ROOT / path} " in f"{gate} ", gate


def test_make_help_lists_every_phony_target() -> None:
    done = make("help", check=True)
    described = {line.split()[0] for line in done.stdout.splitlines() if line.strip()}
    phony = next(
        line for line in (ROOT / "Makefile").read_text().splitlines() if line.startswith(".PHONY")
    )
    assert described == set(phony.split(":", 1)[1].split())


USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$")


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_full_commit_sha_with_its_version(path: Path) -> None:
    uses = [m.groups() for m in map(USES.match, path.read_text().splitlines()) if m]
    assert uses
    for reference, comment in uses:
        if reference.startswith("./"):
            continue
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", reference), reference
        assert re.fullmatch(r"\s+#\s*v\d+\.\d+\.\d+", comment), f"{reference}: {comment!r}"


# --- the checker on broken workflows ----------------------------------------------------------


def workflow_with(*step_list: dict[str, Any]) -> dict[str, Any]:
    return {"jobs": {"job": {"steps": list(step_list)}}}


@pytest.mark.parametrize(
    ("step", "problem"),
    [
        ({"run": "make lnt"}, "no make target 'lnt'"),
        ({"run": "make lint test-everything"}, "no make target 'test-everything'"),
        ({"run": "uv run mlops gaet --version 1"}, "`mlops` has no command 'gaet'"),
        ({"run": "mlops contracts chek --date 2025-01-01"}, "`mlops contracts` has no command"),
        ({"run": "mlops contracts"}, "`mlops contracts` needs a sub-command"),
        ({"run": "mlops gate --version 1 --sumary x.md"}, "has no option --sumary"),
        ({"run": "pytest tests"}, "neither a make target nor an mlops command"),
        ({"run": "make lint && curl example.org | sh"}, "is more than one command"),
        ({"run": "make lint\nmake lnt"}, "no make target 'lnt'"),
        ({"uses": "someone/run-anything@0123456789abcdef0123456789abcdef01234567"}, "not a set"),
        ({"uses": "appleboy/ssh-action@x", "with": {"script": "cd d && make deplo"}}, "'deplo'"),
        ({"name": "nothing"}, "neither `run` nor `uses`"),
    ],
)
def test_the_checker_refuses_what_does_not_exist(step: dict[str, Any], problem: str) -> None:
    problems = workflow_problems(workflow_with({"run": "make lint"}, step))
    assert len(problems) == 1
    assert problem in problems[0]


def test_the_checker_accepts_what_exists() -> None:
    good = workflow_with(
        {"uses": "actions/checkout@0123456789abcdef0123456789abcdef01234567"},
        {"run": "make lint\nmake test PYTEST_ARGS=-x"},
        {"run": "uv run --group infra mlops contracts check --date 2025-01-01 --suite all"},
        {"run": "mlops deploy rollout --tag v1.0.0 --service-url=http://h:3000  # the host"},
        {"uses": "appleboy/ssh-action@x", "with": {"script": 'cd "$D" && make deploy TAG="$T"'}},
    )
    assert workflow_problems(good) == []


def test_the_bentos_requirements_are_the_lock() -> None:
    """`bentoml build` installs docker/requirements-serving.txt: it must be what CI tested."""
    export = subprocess.run(
        ["uv", "export", "--frozen", "--no-dev", "--no-hashes", "--no-emit-project", "--quiet"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    pins = [line for line in export.stdout.splitlines() if line and not line.startswith("#")]
    written = (ROOT / "docker" / "requirements-serving.txt").read_text().splitlines()
    assert pins == [line for line in written if line and not line.startswith("#")], (
        "regenerate it: uv export --frozen --no-dev --no-hashes --no-emit-project "
        "-o docker/requirements-serving.txt"
    )
