"""Hostile input, generated from the service's own OpenAPI document (schemathesis): every endpoint,
bodies that fit the document and bodies that break it. Nothing gets a 5xx; what fits is answered
200; every 4xx is a 400 that names a field of the request (or, for a body that is not a JSON
object, says so).

schemathesis' pytest integration (`schemathesis.pytest.from_fixture`) fails on pytest 9.2 (it sets
`Node._nodeid`, which pytest no longer has), so its Hypothesis strategies are driven directly."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.core import NOT_SET
from schemathesis.schemas import APIOperation

from advanced_mlops.serving.schemas import PredictRequest
from tests.serving.conftest import Server

EXAMPLES = 60  # per operation and mode: ~250 requests, ~15 s on a shared 2-core machine


@pytest.fixture(scope="module")
def operations(server: Server) -> list[APIOperation]:
    schema = schemathesis.openapi.from_url(f"{server.url}/docs.json")
    found = [result.ok() for result in schema.get_all_operations()]
    paths = {operation.path for operation in found}
    assert {"/predict", "/predict_batch", "/metadata", "/readyz", "/metrics"} <= paths
    return found


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_5xx_and_every_4xx_names_the_field(
    server: Server, operations: list[APIOperation], mode: GenerationMode
) -> None:
    tried = 0
    sent: dict[str, int] = {}
    for operation in operations:
        if mode is GenerationMode.NEGATIVE and not operation.body:
            continue  # nothing to break: no body, no parameters

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def attack(case: schemathesis.Case) -> None:
            response = case.call(base_url=server.url, timeout=30)
            sent[case.path] = sent.get(case.path, 0) + 1
            label = f"{case.method} {case.path} {case.body!r:.300}"
            assert response.status_code < 500, f"{label}: {response.text[:500]}"
            # What the document allows is answered, but for no body at all: BentoML's document
            # does not mark the request body required, though every POST needs one.
            bodiless = bool(case.operation.body) and case.body is NOT_SET
            if mode is GenerationMode.POSITIVE and not bodiless:
                assert response.status_code == 200, f"{label}: {response.text[:500]}"
            if response.status_code >= 400:
                assert response.status_code == 400, f"{label}: {response.text[:500]}"
                refusal = response.json()
                if isinstance(case.body, dict):  # an object: the 400 names a field of it
                    assert named_fields(refusal) & body_fields(case), f"{label}: {refusal}"
                else:  # not even a JSON object (b"\x00", a list, a string): it says so
                    assert refusal["error"], f"{label}: {refusal}"

        attack()
        tried += 1
    assert tried >= (2 if mode is GenerationMode.NEGATIVE else 7)
    # Hundreds of requests in all, not a handful: 60 bodies per mode to each of the two POSTs.
    assert sent["/predict"] >= EXAMPLES // 2
    assert sent["/predict_batch"] >= EXAMPLES // 2


def named_fields(body: dict[str, Any]) -> set[str]:
    """The fields a 400 names: each validation error's location."""
    return {str(part) for error in body.get("detail") or [] for part in error.get("loc", [])}


def body_fields(case: schemathesis.Case) -> set[str]:
    """Fields of the request: those it sent, and those the service's models define (a missing
    one)."""
    return {*map(str, case.body), *PredictRequest.model_fields, "records"}
