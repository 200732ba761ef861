"""Valid request bodies from the simulator, as a client would send them."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from advanced_mlops import schema
from advanced_mlops.data.cleaning import clean_batch
from advanced_mlops.data.generator import Generator


def records(count: int = 50) -> list[dict[str, Any]]:
    frame = clean_batch(Generator(customers=3000).batch(date(2025, 2, 1))).head(count)
    out = []
    for row in frame.to_dict("records"):
        body: dict[str, Any] = {"customer_id": row["customer_id"]}
        for column in schema.FEATURES:
            value = row[column]
            missing = value is None or (isinstance(value, float) and math.isnan(value))
            body[column] = None if missing else value
        out.append(body)
    return out
