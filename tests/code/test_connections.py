"""The feature store given as an Airflow connection becomes a URL this package can open."""

import pytest

from advanced_mlops.errors import MlopsError
from advanced_mlops.orchestration.connections import sqlalchemy_url


def test_a_mysql_connection_gets_the_pymysql_driver_and_keeps_its_secret() -> None:
    url = sqlalchemy_url("mysql://mlops:p%40ss@db:3306/mlops?charset=utf8mb4")
    assert url == "mysql+pymysql://mlops:p%40ss@db:3306/mlops?charset=utf8mb4"


@pytest.mark.parametrize(
    "uri", ["mysql+pymysql://root@127.0.0.1:3306/mlops", "sqlite:////tmp/store.db"]
)
def test_a_full_sqlalchemy_url_passes_unchanged(uri: str) -> None:
    assert sqlalchemy_url(uri) == uri


def test_a_uri_that_is_not_a_database_is_refused_with_its_name() -> None:
    with pytest.raises(MlopsError, match="feature-store connection: not a database URI"):
        sqlalchemy_url("::not a uri::")
