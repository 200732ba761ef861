"""The interface each side of a pull-request check offers (`mlops pr sample`, `mlops pr
train-predict`): the base's code builds the sample and its holdout, each commit's own code cleans,
trains and predicts. Files in, files out, so the two sides can run from two checkouts.

A sample folder holds `train.csv` (raw records of the training days, labels included),
`holdout.csv` (raw records of the holdout days, without their labels: no side can train on them),
`labels.csv` (the holdout's labels, read only by the judge) and `sample.json`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from advanced_mlops import schema
from advanced_mlops.errors import MlopsError
from advanced_mlops.settings import Settings

KEY = ["customer_id", "date"]
CARD = "model_card.md"  # next to the predictions: the card of the version that made them


@dataclass(frozen=True)
class Sample:
    start: date
    train_days: int
    holdout_days: int

    @property
    def base_date(self) -> date:
        """The last training day: both sides train on what was known then."""
        return self.start + timedelta(days=self.train_days - 1)


def write_sample(
    settings: Settings, start: date, days: int, holdout_days: int, out: Path
) -> Sample:
    """Generate `days` raw days from the simulator (MLOPS_SEED, MLOPS_CUSTOMERS); the last
    `holdout_days` are the holdout."""
    from advanced_mlops.data.cleaning import clean_batch
    from advanced_mlops.data.generator import Generator

    if days <= holdout_days:
        raise MlopsError(f"--days {days}: needs more days than the {holdout_days} held out")
    sample = Sample(start, days - holdout_days, holdout_days)
    generator = Generator(
        customers=settings.data.customers,
        seed=settings.data.seed,
        dirt_rate=settings.data.dirt_rate,
    )
    raws = [generator.batch(start + timedelta(days=i)) for i in range(days)]
    train, holdout = pd.concat(raws[: sample.train_days]), pd.concat(raws[sample.train_days :])
    out.mkdir(parents=True, exist_ok=True)
    train.to_csv(out / "train.csv", index=False)
    holdout.drop(columns=[schema.LABEL]).to_csv(out / "holdout.csv", index=False)
    labels = clean_batch(holdout).dropna(subset=[schema.LABEL])[[*KEY, schema.LABEL]]
    labels.to_csv(out / "labels.csv", index=False)
    (out / "sample.json").write_text(
        json.dumps(
            {
                "start": start.isoformat(),
                "train_days": sample.train_days,
                "holdout_days": holdout_days,
            }
        )
    )
    return sample


def read_sample(folder: Path) -> Sample:
    try:
        meta = json.loads((folder / "sample.json").read_text())
    except (OSError, ValueError) as exc:
        raise MlopsError(f"--sample {folder}: not a sample folder ({exc})") from None
    return Sample(date.fromisoformat(meta["start"]), meta["train_days"], meta["holdout_days"])


def train_and_predict(settings: Settings, folder: Path, out: Path) -> dict[str, Any]:
    """This commit's pipeline on the sample: ingest the training days into this side's own
    stores, train at the last one, then predict every holdout record through the inference path
    the service uses. Writes `out` (JSON) and the version's model card beside it; returns `out`'s
    content."""
    from advanced_mlops import mlflow_io
    from advanced_mlops.data.cleaning import clean_batch
    from advanced_mlops.data.ingest import ingest_days
    from advanced_mlops.data.sources import CsvSource
    from advanced_mlops.inference import predict_proba, to_model_frame
    from advanced_mlops.registry.card import model_card
    from advanced_mlops.registry.promotion import single_row_latency_ms
    from advanced_mlops.store.engine import upgrade
    from advanced_mlops.training.job import train

    sample = read_sample(folder)
    upgrade(settings.store.url)
    days = [sample.start + timedelta(days=i) for i in range(sample.train_days)]
    source = CsvSource(folder / "train.csv")
    ingest_days(
        settings.store.url, source, days, settings.data.label_delay_days, lambda _: "stable", "pr"
    )
    result = train(settings, sample.base_date)
    model = mlflow_io.load_model(settings, result.version)
    raw = pd.read_csv(folder / "holdout.csv", dtype=str, keep_default_na=False, na_values=[""])
    rows = clean_batch(raw)
    proba = predict_proba(model, to_model_frame(rows))
    answer: dict[str, Any] = {
        "version": result.version,
        "train_label_to": str(
            mlflow_io.model_version(settings, result.version).tags.get("lineage.train_label_to")
        ),
        "latency_p95_ms": single_row_latency_ms(model, rows),
        "keys": rows[KEY].astype(str).values.tolist(),
        "proba": np.round(proba, 6).tolist(),
        "card": CARD,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    (out.parent / CARD).write_text(model_card(settings, result.version))
    out.write_text(json.dumps(answer))
    return answer
