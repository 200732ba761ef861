"""Realistic request bodies from the simulator, for load tests, benchmarks and tests."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from advanced_mlops import schema
from advanced_mlops.data.cleaning import clean_batch
from advanced_mlops.data.generator import Generator


def sample_requests(count: int = 500, seed: int = 7) -> list[dict[str, Any]]:
    """`count` bodies for POST /predict, cleaned the way ingestion cleans, missing as null."""
    generator = Generator(seed=seed, customers=max(3000, 30 * count))
    frame = clean_batch(generator.batch(date(2025, 3, 1))).head(count)
    bodies = []
    for row in frame.to_dict("records"):
        body: dict[str, Any] = {"customer_id": row["customer_id"]}
        for column in schema.FEATURES:
            value = row[column]
            missing = value is None or (isinstance(value, float) and math.isnan(value))
            body[column] = None if missing else value
        bodies.append(body)
    return bodies
