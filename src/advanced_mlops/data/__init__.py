"""Data: the synthetic generator, its drift scenarios, a CSV source and the cleaning rules."""
