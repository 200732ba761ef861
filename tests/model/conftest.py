"""The model every model test looks at: one fit per test worker, shared by the modules."""

import pandas as pd
import pytest

from advanced_mlops.settings import TrainingSettings
from advanced_mlops.training.model import Trial, tune
from advanced_mlops.training.split import TimeSplit, time_split

MODEL_CONFIG = TrainingSettings(max_iterations=200, early_stopping_rounds=20)


@pytest.fixture(scope="session")
def split(clean_days: pd.DataFrame) -> TimeSplit:
    return time_split(clean_days, valid_days=7, holdout_days=7)


@pytest.fixture(scope="session")
def trained(split: TimeSplit) -> Trial:
    space = {"depth": [4], "l2_leaf_reg": [3, 10]}
    best, _ = tune(split.train, split.valid, MODEL_CONFIG, space=space)
    return best
