"""Training: point-in-time snapshots, the time split, CatBoost fitting, tuning and evaluation."""
