"""advanced-mlops."""
