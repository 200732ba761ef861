#!/usr/bin/env bash
# The stand-in mariadb image's entrypoint (see mariadb.Dockerfile): initialise an empty data
# directory the way the official image does, then run the server as `mysql`.
set -euo pipefail
if [[ "${1:-}" == -* ]]; then set -- mariadbd "$@"; fi
DATADIR=/var/lib/mysql
SOCKET=/run/mysqld/mysqld.sock
chown -R mysql:mysql "$DATADIR" /run/mysqld

if [[ ! -d "$DATADIR/mysql" ]]; then
  : "${MARIADB_ROOT_PASSWORD:?MARIADB_ROOT_PASSWORD is required}"
  echo "stand-in mariadb: initialising $DATADIR"
  mariadb-install-db --user=mysql --datadir="$DATADIR" --skip-test-db \
    --auth-root-authentication-method=normal >/dev/null
  mariadbd --user=mysql --datadir="$DATADIR" --socket="$SOCKET" --skip-networking &
  pid=$!
  for _ in $(seq 1 60); do mariadb --protocol=socket --socket="$SOCKET" -uroot -e 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.5; done
  {
    echo "ALTER USER 'root'@'localhost' IDENTIFIED BY '${MARIADB_ROOT_PASSWORD}';"
    echo "CREATE USER 'root'@'%' IDENTIFIED BY '${MARIADB_ROOT_PASSWORD}';"
    echo "GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;"
    if [[ -n "${MARIADB_DATABASE:-}" ]]; then
      echo "CREATE DATABASE IF NOT EXISTS \`${MARIADB_DATABASE}\`;"
    fi
    if [[ -n "${MARIADB_USER:-}" ]]; then
      echo "CREATE USER '${MARIADB_USER}'@'%' IDENTIFIED BY '${MARIADB_PASSWORD:?}';"
      [[ -n "${MARIADB_DATABASE:-}" ]] && echo "GRANT ALL ON \`${MARIADB_DATABASE}\`.* TO '${MARIADB_USER}'@'%';"
    fi
    echo "FLUSH PRIVILEGES;"
  } | mariadb --protocol=socket --socket="$SOCKET" -uroot
  for script in /docker-entrypoint-initdb.d/*; do
    case "$script" in
      *.sh) echo "stand-in mariadb: running $script"; bash "$script" ;;
      *.sql) echo "stand-in mariadb: running $script"; mariadb --protocol=socket --socket="$SOCKET" -uroot -p"${MARIADB_ROOT_PASSWORD}" <"$script" ;;
      *) ;;
    esac
  done
  mariadb-admin --protocol=socket --socket="$SOCKET" -uroot -p"${MARIADB_ROOT_PASSWORD}" shutdown
  wait "$pid" || true
fi

if [[ "$1" == mariadbd ]]; then
  shift
  exec mariadbd --user=mysql --datadir="$DATADIR" --socket="$SOCKET" --bind-address=0.0.0.0 --port=3306 "$@"
fi
exec "$@"
