#!/usr/bin/env bash
# The stand-in for the official image's healthcheck.sh: `--connect` (a client connects over TCP)
# and `--innodb_initialized` (InnoDB answers) are what docker-compose.yml asks for.
set -euo pipefail
mariadb --protocol=tcp --host=127.0.0.1 --user=root --password="${MARIADB_ROOT_PASSWORD:-}" \
  --connect-timeout=3 -e "SELECT 1 FROM information_schema.ENGINES WHERE ENGINE='InnoDB' AND SUPPORT IN ('YES','DEFAULT')" \
  --batch --skip-column-names | grep -qx 1
