"""Is a rollout alive? The service is ready and answers one real prediction, and Airflow's
metadata database and scheduler report healthy.

The judges are pure functions of (status, body) so what counts as healthy is tested without a
network; `run_probes` is the only code that talks HTTP. Containers take seconds to start, so each
probe is retried until it passes or the shared deadline is over.

What the probes run is imported with this module, before a rollout moves the deploy checkout to
another tag: a lazy import would then load the other tag's code.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import ValidationError

from advanced_mlops.errors import MlopsError
from advanced_mlops.serving.schemas import Prediction

Judge = Callable[[int, Any], str | None]
RETRY_SECONDS = 1.0
REQUEST_TIMEOUT = 10.0


@dataclass(frozen=True)
class Probe:
    """One HTTP call and the judge of its answer (None when healthy, else why not)."""

    name: str
    method: str
    url: str
    judge: Judge
    body: dict[str, Any] | None = None


def base_url(url: str, option: str) -> str:
    """An http(s) URL without a trailing slash; anything else is refused naming the option."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise MlopsError(f"{option} {url!r}: not a URL ({exc})") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise MlopsError(f"{option} {url!r}: needs an http:// or https:// URL with a host")
    return url.rstrip("/")


def judge_ready(status: int, body: Any) -> str | None:
    return None if status == 200 else f"answered {status}, not ready"


def judge_prediction(status: int, body: Any) -> str | None:
    """A 200 whose body is a `Prediction` with probabilities that add up to one."""
    if status != 200:
        return f"answered {status}: {str(body)[:200]}"
    try:
        prediction = Prediction.model_validate(body)
    except ValidationError as exc:
        return f"answered a body that is not a prediction ({exc.error_count()} errors)"
    total = sum(prediction.probabilities.values())
    if not math.isclose(total, 1.0, abs_tol=1e-3):
        return f"probabilities add up to {total:.4f}, not 1"
    return None


def judge_airflow_health(status: int, body: Any) -> str | None:
    """Airflow 3's `/api/v2/monitor/health`: the metadata database and the scheduler healthy."""
    if status != 200:
        return f"answered {status}"
    if not isinstance(body, dict):
        return "answered a body that is not Airflow's health report"
    unhealthy = [
        f"{part} is {(body.get(part) or {}).get('status') or 'missing'}"
        for part in ("metadatabase", "scheduler")
        if (body.get(part) or {}).get("status") != "healthy"
    ]
    return "; ".join(unhealthy) or None


def service_probes(service_url: str, record: dict[str, Any]) -> list[Probe]:
    url = base_url(service_url, "--service-url")
    return [
        Probe("service readiness", "GET", f"{url}/readyz", judge_ready),
        Probe("prediction", "POST", f"{url}/predict", judge_prediction, record),
    ]


def airflow_probe(airflow_url: str) -> Probe:
    url = base_url(airflow_url, "--airflow-url")
    return Probe("airflow health", "GET", f"{url}/api/v2/monitor/health", judge_airflow_health)


def sample_record() -> dict[str, Any]:
    """One realistic request body, cleaned the way ingestion cleans."""
    from advanced_mlops.serving.sample_requests import sample_requests

    return sample_requests(1)[0]


def default_probes(
    service_url: str, airflow_url: str, record: dict[str, Any] | None = None
) -> list[Probe]:
    """The service's probes (predicting `record`, else a sample) and Airflow's."""
    return [*service_probes(service_url, record or sample_record()), airflow_probe(airflow_url)]


def run_probes(probes: list[Probe], wait_seconds: float) -> list[str]:
    """Each probe until it passes or `wait_seconds` (shared) are over; the problems left."""
    deadline = time.monotonic() + wait_seconds
    problems = []
    with httpx.Client(timeout=REQUEST_TIMEOUT) as client:
        for probe in probes:
            problem = _attempt(client, probe)
            while problem is not None and time.monotonic() < deadline:
                time.sleep(RETRY_SECONDS)
                problem = _attempt(client, probe)
            if problem is not None:
                problems.append(f"{probe.name} ({probe.method} {probe.url}): {problem}")
    return problems


def _attempt(client: httpx.Client, probe: Probe) -> str | None:
    try:
        response = client.request(probe.method, probe.url, json=probe.body)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    return probe.judge(response.status_code, body)
