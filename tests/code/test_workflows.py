"""Parity of the GitHub workflows, the Makefile, `.ci/run` and the `mlops` command tree, and the
workflows' security and release properties.

GitHub cannot be reached from here, so a workflow is trusted only if every step it runs is a
`make` target or an `mlops` command that exists (parsed by the CLI itself: sub-commands, options,
their values and arguments) and that `.ci/run` runs too, and if its structure keeps the properties
below. Both checkers are tested on broken workflows as well, so a passing run means something.
"""

from __future__ import annotations

import copy
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
from typer.exceptions import TyperException

from advanced_mlops.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
# Steps that are not commands, so .ci/run cannot run them: set-up, and what only GitHub can do.
SET_UP_ACTIONS = {"actions/checkout", "astral-sh/setup-uv", "docker/setup-buildx-action"}
GITHUB_ONLY = {
    # The image build with BuildKit (no buildx here); the smoke test after it is `make`.
    "docker/build-push-action": "build",
    # Trivy's vulnerability database cannot be downloaded here; GitHub's code scanning and
    # artifacts exist only there.
    "aquasecurity/trivy-action": "scan",
    "github/codeql-action/upload-sarif": "scan",
    "actions/upload-artifact": "artifacts",
    # The registry, its login and the attestation's signature.
    "docker/login-action": "push",
    "docker/metadata-action": "push",
    "actions/attest-build-provenance": "push",
    "marocchino/sticky-pull-request-comment": "pull request",
    "appleboy/ssh-action": "deploy",  # its `script` is checked like a run step
}
ALLOWED_ACTIONS = SET_UP_ACTIONS | set(GITHUB_ONLY)
SHELL_OPERATORS = {"&&", "||", "|", ";", "&", ">", ">>", "<"}
# A target of the ci workflow that `make ci` covers through another: `make test` runs pytest on
# every test path, tests/dags/test_integrity.py included.
COVERED_BY = {"dag-integrity": "test"}


# --- what exists ------------------------------------------------------------------------------


def make(
    *args: str, check: bool = False, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`make ARGS` here, as a top-level make: run from `make test`, an inherited MAKELEVEL would
    add "make[1]: Entering directory" lines to what is parsed."""
    inherited = {
        k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")
    }
    return subprocess.run(
        ["make", "--no-print-directory", *args], cwd=ROOT, capture_output=True, text=True,
        env={**inherited, **(env or {})}, check=check,
    )  # fmt: skip


@cache
def make_targets_declared() -> frozenset[str]:
    """The Makefile's real targets, from make's own database (`make -pRrq`): those declared
    .PHONY and those with an explicit rule. `make -n X` would accept any file or folder X."""
    database = make(
        "--print-data-base", "--no-builtin-rules", "--no-builtin-variables", "--question"
    )
    targets, phony = set(), set()
    previous = ""
    for line in database.stdout.splitlines():
        name, colon, rest = line.partition(":")
        if colon and re.fullmatch(r"[\w.-]+", name) and "=" not in rest:
            if name == ".PHONY":
                phony |= set(rest.split())
            elif previous != "# Not a target:" and not name.startswith("."):
                targets.add(name)
        previous = line
    return frozenset(targets | phony)


def target_exists(target: str) -> bool:
    return target in make_targets_declared()


@cache
def dry_run(target: str, **env: str) -> list[str]:
    """The commands `make TARGET` would run (make -n), continuation lines joined."""
    done = make("-n", target, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout.replace("\\\n", " ").splitlines()


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
    """Why `mlops ARGS` would be refused, or None: the sub-commands are looked up, then the
    command's own parser reads the rest (unknown long or short options, an option without its
    value, a missing required option, extra arguments, a value of the wrong type)."""
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
    try:
        command.make_context(" ".join(path), rest)
    except TyperException as exc:  # click's usage errors, which name the option
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        return f"`{' '.join(path)}`: {message}"
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
    for job_name, job in (workflow.get("jobs") or {}).items():  # a called workflow is checked
        called = str(job.get("uses", ""))  # as a file of its own: it must be one of them
        if called and not (called.startswith("./") and (ROOT / called).is_file()):
            problems.append(f"jobs.{job_name}: calls {called}, not a workflow of this repository")
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


def phony_targets() -> list[str]:
    phony = next(
        line for line in (ROOT / "Makefile").read_text().splitlines() if line.startswith(".PHONY")
    )
    return phony.split(":", 1)[1].split()


@pytest.mark.parametrize("target", phony_targets())
def test_every_mlops_call_of_a_make_target_exists(target: str) -> None:
    for line in dry_run(target):
        args = mlops_args(shlex.split(line))
        if args is not None:
            assert mlops_problem(args) is None, line


@pytest.mark.parametrize(
    ("target", "calls"),
    [("contracts", 4), ("model-gate", 1), ("deploy", 1), ("ci", 5)],
)
def test_the_make_targets_that_run_mlops_are_seen_to(target: str, calls: int) -> None:
    """`uv run [OPTIONS] mlops ...` lines are found, so the test above checks something."""
    found = [line for line in dry_run(target) if mlops_args(shlex.split(line)) is not None]
    assert len(found) == calls, found


def test_every_report_of_contracts_and_model_gate_goes_to_the_job_summary() -> None:
    for target in ("contracts", "model-gate"):
        calls = [mlops_args(shlex.split(line)) for line in dry_run(target)]
        reporting = [c for c in calls if c and c[0] in ("ingest", "contracts", "gate", "pr")]
        assert len(reporting) == {"contracts": 3, "model-gate": 1}[target]
        summary = "/tmp/step-summary.md"
        with_summary = dry_run(target, GITHUB_STEP_SUMMARY=summary)
        for call in (mlops_args(shlex.split(line)) for line in with_summary):
            if call and call[0] in ("ingest", "contracts", "gate", "pr"):
                assert f"--summary {summary}" in " ".join(call), call


def test_the_pull_request_comment_is_the_gates_report_or_says_the_gate_did_not_run() -> None:
    comments = [
        step
        for _, step in steps(load(ROOT / ".github" / "workflows" / "ci.yml"))
        if str(step.get("uses", "")).startswith("marocchino/sticky-pull-request-comment@")
    ]
    (report,) = [step["with"]["path"] for step in comments if "path" in step["with"]]
    (did_not_run,) = [step for step in comments if "message" in step["with"]]
    assert "did not run" in did_not_run["with"]["message"]
    assert {step["with"]["header"] for step in comments} == {"model-gate"}  # the same comment
    conditions = sorted(" ".join(step["if"].split()) for step in comments)
    assert conditions[0].endswith(f"&& hashFiles('{report}') != ''")
    assert conditions[1] == conditions[0].replace("!= ''", "== ''")
    assert "ignore_empty" not in str(comments)  # a missing report never leaves an old verdict
    written = [line for line in dry_run("model-gate") if str(ROOT / report) in line]
    assert len(written) == 1  # only the gate writes it: its absence means the gate did not run
    assert " gate " in written[0]
    assert f"--summary {ROOT / report} " in f"{written[0]} "


def test_image_name_is_the_lowercase_ghcr_name_and_refuses_an_unknown_image(
    tmp_path: Path,
) -> None:
    output = tmp_path / "github_output"
    env = {"GITHUB_REPOSITORY": "Some-Owner/Advanced-MLOps", "GITHUB_OUTPUT": str(output)}
    make("image-name", env={**env, "IMAGE": "airflow"}, check=True)
    assert output.read_text() == "name=ghcr.io/some-owner/advanced-mlops-airflow\n"
    for image in ("nope", "service;id", "../README"):
        refused = make("image-name", env={**env, "IMAGE": image})
        assert refused.returncode != 0
        assert f"IMAGE='{image}': no docker/<IMAGE>.Dockerfile" in refused.stderr
    assert output.read_text().count("name=") == 1


def test_make_help_lists_every_phony_target() -> None:
    done = make("help", check=True)
    described = {line.split()[0] for line in done.stdout.splitlines() if line.strip()}
    assert described == set(phony_targets())


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


# --- the workflows' structure -----------------------------------------------------------------

# The only write permissions of the GITHUB_TOKEN, and the jobs that need them.
WRITES = {
    ("ci.yml", "model-validation"): {"pull-requests"},  # the gate's sticky comment
    ("release.yml", "images"): {"packages", "id-token", "attestations", "security-events"},
    # ci.yml called by the release: the model-validation job's (it comments on PRs only).
    ("release.yml", "ci"): {"pull-requests"},
}
SHA_PINNED = re.compile(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}")


def trigger(workflow: dict[str, Any]) -> Any:
    """`on:` (PyYAML reads the bare key as the boolean True, as YAML 1.1 says)."""
    return workflow.get("on", workflow.get(True))


def job_steps(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job.get("steps") or [] if str(s.get("uses", "")).startswith(f"{action}@")]


def compose_default(variable: str) -> str:
    match = re.search(rf"\$\{{{variable}:-([^}}]+)\}}", (ROOT / "docker-compose.yml").read_text())
    assert match, variable
    return match.group(1)


def permission_problems(name: str, workflow: dict[str, Any]) -> list[str]:
    """Read-only at the top; each job writes exactly what WRITES gives it."""
    problems = []
    top = workflow.get("permissions")
    if not isinstance(top, dict) or set(top.values()) - {"read", "none"}:
        problems.append(f"{name}: top-level permissions must be read-only, not {top!r}")
    for job_name, job in (workflow.get("jobs") or {}).items():
        granted = job.get("permissions", {})
        if not isinstance(granted, dict):
            problems.append(f"{name}: job {job_name} has permissions {granted!r}")
            continue
        writes = {scope for scope, level in granted.items() if level == "write"}
        needed = WRITES.get((name, job_name), set())
        if writes != needed:
            problems.append(
                f"{name}: job {job_name} writes {sorted(writes)}, needs {sorted(needed)}"
            )
    missing = {job for file, job in WRITES if file == name} - set(workflow.get("jobs") or {})
    problems += [f"{name}: no job {job}" for job in sorted(missing)]
    return problems


def pinning_problems(name: str, workflow: dict[str, Any]) -> list[str]:
    return [
        f"{name} {where}: {step['uses']} is not pinned to a commit SHA"
        for where, step in steps(workflow)
        if "uses" in step and not str(step["uses"]).startswith("./")
        and not SHA_PINNED.fullmatch(str(step["uses"]))
    ]  # fmt: skip


def ci_problems(ci: dict[str, Any]) -> list[str]:
    """Superseded runs cancelled; the tests against MariaDB and PostgreSQL service containers
    that are health-checked and of the versions the compose stack runs."""
    problems = []
    concurrency = ci.get("concurrency") or {}
    if concurrency.get("cancel-in-progress") is not True or "github.ref" not in str(concurrency):
        problems.append("ci.yml: a newer push must cancel the run of the same ref")
    services = (ci.get("jobs") or {}).get("tests", {}).get("services") or {}
    stores = (
        ("mariadb", "MARIADB_VERSION"),
        ("postgres", "POSTGRES_VERSION"),
        ("redis", "REDIS_VERSION"),
    )
    for image, variable in stores:
        found = [s for s in services.values() if str(s.get("image", "")).startswith(f"{image}:")]
        if not found:
            problems.append(f"ci.yml: the tests have no {image} service")
            continue
        if "--health-cmd" not in str(found[0].get("options", "")):
            problems.append(f"ci.yml: the {image} service has no health check")
        if found[0]["image"] != f"{image}:{compose_default(variable)}":
            problems.append(f"ci.yml: {found[0]['image']} is not the compose stack's {image}")
    return problems


def release_problems(release: dict[str, Any]) -> list[str]:
    """Version tags only; images pushed with an SBOM and provenance, attested under the same
    lowercase name; deploys to the `production` environment, one at a time, never cancelled."""
    problems = []
    push = (trigger(release) or {}).get("push") or {}
    if set(trigger(release) or {}) != {"push"} or push != {"tags": ["v*.*.*"]}:
        problems.append("release.yml: must run on pushed tags v*.*.* only")
    jobs = release.get("jobs") or {}
    images = jobs.get("images", {})
    builds = job_steps(images, "docker/build-push-action")
    build = builds[-1].get("with", {}) if builds else {}  # the push, after the candidate's
    if build.get("push") is not True or build.get("sbom") is not True:
        problems.append("release.yml: build-push must push with sbom: true")
    if build.get("provenance") in (None, False, "false"):
        problems.append("release.yml: build-push must record provenance")
    problems += name_problems(images)
    problems += gate_problems(jobs, images)
    deploy = jobs.get("deploy", {})
    if deploy.get("environment") != "production" or "images" not in str(deploy.get("needs")):
        problems.append("release.yml: deploy must run in environment production, after images")
    if deploy.get("concurrency") != {"group": "production", "cancel-in-progress": False}:
        problems.append("release.yml: deploy needs concurrency production, not cancelled")
    return problems


def step_position(job: dict[str, Any], found: Any) -> int | None:
    for index, step in enumerate(job.get("steps") or []):
        if found(step):
            return index
    return None


def gate_problems(jobs: dict[str, Any], images: dict[str, Any]) -> list[str]:
    """The release runs CI itself first; each image is smoke-tested by `make images-smoke` and
    scanned (fixable CRITICAL fails, allow-list .trivyignore) before the one step that pushes;
    the scan's report is uploaded even when the scan failed."""
    problems = []
    callers = [
        name for name, job in jobs.items() if job.get("uses") == "./.github/workflows/ci.yml"
    ]
    needs = images.get("needs")
    if not callers or not set(callers) & set([needs] if isinstance(needs, str) else needs or []):
        problems.append("release.yml: images must need a job that calls ci.yml")
    triggers = trigger(load(ROOT / ".github/workflows/ci.yml")) or {}
    if "workflow_call" not in triggers:
        problems.append("ci.yml: must be callable (on: workflow_call)")
    steps_ = images.get("steps") or []
    pushes = [i for i, s in enumerate(steps_) if (s.get("with") or {}).get("push") is True]
    smoke = step_position(images, lambda s: s.get("run") == "make images-smoke")
    trivy = [
        i for i, s in enumerate(steps_)
        if str(s.get("uses", "")).startswith("aquasecurity/trivy-action@")
    ]  # fmt: skip
    gates = [
        i for i in trivy
        if (w := steps_[i].get("with") or {}).get("exit-code") == "1"
        and w.get("severity") == "CRITICAL" and w.get("ignore-unfixed") is True
        and w.get("trivyignores") == ".trivyignore"
    ]  # fmt: skip
    if smoke is None:
        problems.append("release.yml: images must run make images-smoke")
    if not gates:
        problems.append("release.yml: no scan failing on fixable CRITICAL (.trivyignore)")
    elif smoke is not None and (len(pushes) != 1 or pushes[0] < max(smoke, *gates)):
        problems.append("release.yml: the one push must come after the smoke test and the scan")
    uploads = [
        i for i, s in enumerate(steps_)
        if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif@")
        and "!cancelled()" in str(s.get("if", ""))
    ]  # fmt: skip
    if not uploads or not trivy or uploads[0] < min(trivy):
        problems.append("release.yml: the scan report must be uploaded after it, even on failure")
    return problems


def name_problems(images: dict[str, Any]) -> list[str]:
    """metadata-action's tags and the attestation both name the image `make image-name` made."""
    namer = [s for s in images.get("steps") or [] if s.get("run") == "make image-name"]
    name = f"${{{{ steps.{namer[0].get('id')}.outputs.name }}}}" if namer else None
    meta = job_steps(images, "docker/metadata-action")
    attest = job_steps(images, "actions/attest-build-provenance")
    named = [(meta[0] if meta else {}).get("with", {}).get("images")]
    named.append((attest[0] if attest else {}).get("with", {}).get("subject-name"))
    if name is None or named != [name, name]:
        return [f"release.yml: image and attestation must be named by `make image-name`: {named}"]
    return []


def structure_problems(ci: dict[str, Any], release: dict[str, Any]) -> list[str]:
    workflows = {"ci.yml": ci, "release.yml": release}
    return [
        *(p for name, w in workflows.items() for p in permission_problems(name, w)),
        *(p for name, w in workflows.items() for p in pinning_problems(name, w)),
        *ci_problems(ci),
        *release_problems(release),
    ]


def real_workflows() -> tuple[dict[str, Any], dict[str, Any]]:
    return load(ROOT / ".github/workflows/ci.yml"), load(ROOT / ".github/workflows/release.yml")


def test_the_workflows_keep_their_security_and_release_properties() -> None:
    assert structure_problems(*real_workflows()) == []


def set_path(workflow: dict[str, Any], path: str, value: Any) -> None:
    """Set (or, with value None, delete) `a.b.c`; a number indexes a list of steps, and
    `@owner/action` is the step that uses that action."""
    *parents, last = path.split(".")
    node: Any = workflow
    for key in parents:
        node = node[step_index(node, key) if isinstance(node, list) else key]
    key: Any = step_index(node, last) if isinstance(node, list) else last
    if value is None:
        del node[key]
    else:
        node[key] = value


def step_index(step_list: list[dict[str, Any]], key: str) -> int:
    if key.isdigit():
        return int(key)
    return next(i for i, s in enumerate(step_list) if str(s.get("uses")).startswith(key[1:] + "@"))


# The images job's steps: the candidate's build, the scan gate, the push (checked by position).
CANDIDATE = "jobs.images.steps.4.with"
GATE = "jobs.images.steps.8.with"
BUILD = "jobs.images.steps.14.with"
ATTEST = "jobs.images.steps.@actions/attest-build-provenance.with"
META = "jobs.images.steps.@docker/metadata-action.with"


@pytest.mark.parametrize(
    ("file", "path", "value", "problem"),
    [
        ("ci", "permissions", {"contents": "write"}, "ci.yml: top-level permissions"),
        ("release", "permissions", None, "release.yml: top-level permissions"),
        ("ci", "jobs.lint.permissions", {"contents": "write"}, "job lint writes ['contents']"),
        ("ci", "jobs.model-validation.permissions", None, "needs ['pull-requests']"),
        ("release", "jobs.deploy.permissions", "write-all", "job deploy has permissions"),
        ("ci", "concurrency.cancel-in-progress", False, "must cancel the run of the same ref"),
        ("ci", "jobs.lint.steps.0.uses", "actions/checkout@v6", "is not pinned to a commit SHA"),
        ("release", "jobs.deploy.steps.0.uses", "appleboy/ssh-action@master", "is not pinned"),
        ("ci", "jobs.tests.services.mariadb.options", "--health-retries 3", "mariadb service has"),
        ("ci", "jobs.tests.services.postgres", None, "the tests have no postgres service"),
        ("ci", "jobs.tests.services.redis", None, "the tests have no redis service"),
        ("ci", "jobs.tests.services.postgres.image", "postgres:15", "is not the compose stack's"),
        ("release", "on.push.tags", ["*"], "must run on pushed tags v*.*.* only"),
        ("release", "on.push.branches", ["main"], "must run on pushed tags v*.*.* only"),
        ("release", f"{BUILD}.sbom", None, "push with sbom: true"),
        ("release", f"{BUILD}.provenance", False, "must record provenance"),
        ("release", f"{ATTEST}.subject-name", "ghcr.io/${{ github.repository }}-x",
         "named by `make image-name`"),
        ("release", f"{META}.images", "ghcr.io/Owner/x", "named by `make image-name`"),
        ("release", "jobs.images.steps.1.run", "make images-smoke", "named by `make image-name`"),
        ("release", "jobs.images.needs", "ci-of-someone-else", "images must need a job that calls"),
        ("release", "jobs.images.needs", None, "images must need a job that calls ci.yml"),
        ("release", "jobs.ci.uses", "./.github/workflows/release.yml", "need a job that calls"),
        ("release", "jobs.images.steps.6.run", "make image-name", "must run make images-smoke"),
        ("release", f"{GATE}.exit-code", "0", "no scan failing on fixable"),
        ("release", f"{GATE}.ignore-unfixed", None, "no scan failing on fixable"),
        ("release", f"{GATE}.trivyignores", None, "no scan failing on fixable"),
        ("release", f"{GATE}.severity", "HIGH", "no scan failing on fixable"),
        ("release", f"{CANDIDATE}.push", True, "the one push must come after"),
        ("release", "jobs.images.steps.@github/codeql-action/upload-sarif.if", "success()",
         "the scan report must be uploaded"),
        ("release", "jobs.images.steps.@github/codeql-action/upload-sarif", None,
         "the scan report must be uploaded"),
        ("release", "jobs.deploy.environment", None, "environment production"),
        ("release", "jobs.deploy.concurrency.cancel-in-progress", True, "concurrency production"),
        ("release", "jobs.deploy.concurrency", None, "needs concurrency production"),
    ],
)  # fmt: skip
def test_the_structure_checker_sees_each_property_lost(
    file: str, path: str, value: Any, problem: str
) -> None:
    ci, release = real_workflows()
    mutated = {"ci": ci, "release": release}[file]
    if path.startswith("on."):
        mutated["on"] = copy.deepcopy(trigger(mutated))
        mutated.pop(True, None)
    set_path(mutated, path, copy.deepcopy(value))
    problems = structure_problems(ci, release)
    assert len(problems) == 1, problems
    assert problem in problems[0]


# --- the checker on broken workflows ----------------------------------------------------------


def workflow_with(*step_list: dict[str, Any]) -> dict[str, Any]:
    return {"jobs": {"job": {"steps": list(step_list)}}}


@pytest.mark.parametrize(
    ("step", "problem"),
    [
        ({"run": "make lnt"}, "no make target 'lnt'"),
        ({"run": "make lint test-everything"}, "no make target 'test-everything'"),
        ({"run": "make README.md"}, "no make target 'README.md'"),  # a file is no target
        ({"run": "make docker"}, "no make target 'docker'"),  # nor is a folder
        ({"run": "make Makefile"}, "no make target 'Makefile'"),
        ({"run": "uv run mlops gaet --version 1"}, "`mlops` has no command 'gaet'"),
        ({"run": "mlops contracts chek --date 2025-01-01"}, "`mlops contracts` has no command"),
        ({"run": "mlops contracts"}, "`mlops contracts` needs a sub-command"),
        ({"run": "mlops gate --version 1 --sumary x.md"}, "No such option: --sumary"),
        ({"run": "mlops gate --version 1 -s x.md"}, "`mlops gate`: No such option: -s"),
        ({"run": "mlops gate"}, "`mlops gate`: Missing option '--version'"),
        ({"run": "mlops gate --version"}, "Option '--version' requires an argument"),
        ({"run": "mlops gate --version 1 2"}, "Got unexpected extra argument(s) (2)"),
        ({"run": "mlops ingest --date 2025-01-01 --days many"}, "Invalid value for '--days'"),
        ({"run": "mlops deploy rollout"}, "`mlops deploy rollout`: Missing option '--tag'"),
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


@pytest.mark.parametrize(
    "called", ["someone/else/.github/workflows/ci.yml@main", "./.github/workflows/nope.yml"]
)
def test_a_called_workflow_must_be_one_of_this_repository(called: str) -> None:
    problems = workflow_problems({"jobs": {"ci": {"uses": called}}})
    assert problems == [f"jobs.ci: calls {called}, not a workflow of this repository"]
