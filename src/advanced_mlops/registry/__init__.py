"""The MLflow model registry: versions, the champion alias, the validation gate and promotions."""
