"""Load profile for `mlops loadtest`: customers asking for their credit score.

Each simulated user sends a realistic record to /predict, now and then a small /predict_batch,
and waits MLOPS_LOADTEST_WAIT seconds between calls ("1-5" is the course's profile; "0-0" finds
capacity). The records come as a JSON file prepared by `mlops loadtest`, so nothing heavy is
imported here (a slow import stalls gevent's clock and ends the run early).
"""

from __future__ import annotations

import json
import os
import random

from locust import HttpUser, between, task

with open(os.environ["MLOPS_LOADTEST_RECORDS"], encoding="utf-8") as handle:
    RECORDS = json.load(handle)
LOW, HIGH = (float(x) for x in os.environ.get("MLOPS_LOADTEST_WAIT", "1-5").split("-"))


class CreditScoreClient(HttpUser):
    wait_time = between(LOW, HIGH)

    @task(9)
    def predict(self) -> None:
        self.client.post("/predict", json=random.choice(RECORDS))

    @task(1)
    def predict_batch(self) -> None:
        self.client.post("/predict_batch", json={"records": random.sample(RECORDS, 10)})
