#!/usr/bin/env bash
# The stand-in postgres image's entrypoint (see postgres.Dockerfile): initialise an empty PGDATA
# the way the official image does (password auth from the network), then run the server.
set -euo pipefail
: "${PGDATA:=/var/lib/postgresql/data}"
chown -R postgres:postgres "$PGDATA" /run/postgresql
as_postgres() { su postgres -s /bin/bash -c "$(printf '%q ' "$@")"; }

if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
  user=${POSTGRES_USER:-postgres}
  : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}"
  echo "stand-in postgres: initialising $PGDATA"
  printf '%s\n' "$POSTGRES_PASSWORD" >/tmp/pwfile
  chown postgres /tmp/pwfile
  as_postgres initdb --username="$user" --pwfile=/tmp/pwfile --auth-local=trust \
    --auth-host=scram-sha-256 -D "$PGDATA" >/dev/null
  rm -f /tmp/pwfile
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  db=${POSTGRES_DB:-$user}
  if [[ "$db" != postgres ]]; then
    as_postgres pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    as_postgres psql --username="$user" --dbname=postgres -c "CREATE DATABASE \"$db\"" >/dev/null
    as_postgres pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  fi
fi
if [[ "${1:-}" == postgres ]]; then
  shift
  exec su postgres -s /bin/bash -c "exec postgres -D '$PGDATA' -c listen_addresses='*' $*"
fi
exec "$@"
