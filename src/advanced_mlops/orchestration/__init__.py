"""What the Airflow tasks do: plain package functions, so DAG files stay thin and every step
runs (and is tested) without Airflow. Nothing heavy is imported at module level: DAG files
import this at parse time."""
