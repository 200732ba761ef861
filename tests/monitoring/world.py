"""The simulated world both scenario modules monitor: a realistic daily traffic (3,000
customers, about 100 predictions a day), 60 stable days to train on, then the monitored days."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from advanced_mlops import schema
from advanced_mlops.data.cleaning import clean_batch
from advanced_mlops.data.generator import Generator
from advanced_mlops.data.scenarios import Scenario
from advanced_mlops.settings import DataSettings, Settings, StoreSettings, TrainingSettings

CUSTOMERS = 3000
START = date(2025, 1, 1)
TRAINED_ON = 60  # stable days before the first monitored day
FIRST = START + timedelta(days=TRAINED_ON)


def world_settings(home: Path) -> Settings:
    """The defaults at the world's traffic, with a shorter fit."""
    return Settings(
        store=StoreSettings(home=home),
        data=DataSettings(customers=CUSTOMERS),
        training=TrainingSettings(max_iterations=120, early_stopping_rounds=20),
    )


def labelled_days(settings: Settings, scenario: Scenario, first: date, days: int) -> pd.DataFrame:
    """`days` cleaned days from `first` with their labels, as a snapshot (`label_date`)."""
    generator = Generator(settings.data.seed, CUSTOMERS, scenario=scenario)
    frames = [clean_batch(generator.batch(first + timedelta(days=i))) for i in range(days)]
    return (
        pd.concat(frames, ignore_index=True)
        .dropna(subset=[schema.LABEL])
        .rename(columns={"date": "label_date"})
    )
