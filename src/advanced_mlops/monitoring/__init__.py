"""Monitoring: drift, data quality and live performance from the prediction log, and the rule
that decides when to retrain. `job.monitor_day` is the entry point for the CLI and the DAG."""
