#!/bin/bash
# Run once by the mariadb image, when its data volume is still empty (/docker-entrypoint-initdb.d):
# a database of its own for MLflow's tracking and registry store (MLFLOW_DATABASE), owned by the
# same user as the feature store (MARIADB_USER, created by the image from MARIADB_DATABASE/USER/
# PASSWORD). Running or sourcing this file both work; it changes nothing in the caller's shell.
mariadb --protocol=socket --user=root --password="${MARIADB_ROOT_PASSWORD:?}" <<SQL
CREATE DATABASE IF NOT EXISTS \`${MLFLOW_DATABASE:?}\` CHARACTER SET utf8mb4;
GRANT ALL PRIVILEGES ON \`${MLFLOW_DATABASE}\`.* TO '${MARIADB_USER:?}'@'%';
SQL
