"""The feature store as an Airflow connection: Airflow owns the secret, the package the driver."""

from __future__ import annotations

from sqlalchemy.engine import make_url

from advanced_mlops.errors import MlopsError

# Connection types as Airflow's providers name them -> the driver this package ships with.
DRIVERS = {"mysql": "mysql+pymysql", "mariadb": "mysql+pymysql", "sqlite": "sqlite"}


def sqlalchemy_url(airflow_uri: str) -> str:
    """An Airflow connection URI as an SQLAlchemy URL (`mysql://` gets the pymysql driver)."""
    try:
        url = make_url(airflow_uri)
    except Exception as exc:  # sqlalchemy raises ArgumentError for anything unparsable
        raise MlopsError(f"feature-store connection: not a database URI ({exc})") from None
    return url.set(drivername=DRIVERS.get(url.drivername, url.drivername)).render_as_string(
        hide_password=False
    )


def store_url_from_airflow(conn_id: str) -> str:
    """Resolve the connection the way Airflow does (environment, secrets backend, metadata DB)."""
    from airflow.sdk import BaseHook

    try:
        connection = BaseHook.get_connection(conn_id)
    except Exception as exc:  # AirflowNotFoundException and backend errors alike
        raise MlopsError(
            f"MLOPS_AIRFLOW_CONN_ID: Airflow connection {conn_id!r} not found "
            f"(set AIRFLOW_CONN_{conn_id.upper()}): {exc}"
        ) from None
    return sqlalchemy_url(connection.get_uri())
