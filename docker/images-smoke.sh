#!/usr/bin/env bash
# images-smoke: build both images on this machine and run them for real (`make images-smoke`).
#
#  1. a Docker engine: the one that answers, else Debian's dockerd started here (no bridge, no
#     iptables: containers use the host's network) and stopped at the end;
#  2. a base image made offline with debootstrap (no registry is reachable here), cached under
#     SMOKE_CACHE and keyed by its recipe below (and the host's CA bundle, which it carries);
#     SMOKE_OFFICIAL_BASES=1 uses the Dockerfiles' own bases instead (python:3.12, apache/airflow);
#  3. `docker build` of docker/service.Dockerfile and docker/airflow.Dockerfile on it (legacy
#     builder, --network host: PyPI is the only network the builds need);
#  4. the service image: `mlops db upgrade` in a database of its own on the host's MariaDB, a
#     small champion trained on the host (uv run), `mlops serve` until /readyz and Docker's
#     HEALTHCHECK agree, one prediction, its row in the prediction log, a graceful stop; then the
#     image's MLflow server (MariaDB backend, proxied artifacts, allowed hosts) as compose runs it;
#  5. the Airflow image: `airflow db migrate` (SQLite, in the container), both DAGs parsed and
#     listed without import errors, the API server healthy by the image's HEALTHCHECK, a login
#     with the admin password written the way the compose file's airflow-init writes it, and the
#     DAGs read back through the REST API.
# The images are built with docker/build-args.sh's arguments (version, commit, uv.lock's hash):
# their labels and the package inside (`mlops --version`, /metadata) must say that version.
#
# The release workflow runs this same script on the image it has just built and loaded:
#   SMOKE_IMAGES=service|airflow   which image(s) to test (default both)
#   SMOKE_SERVICE_IMAGE=NAME:TAG   test this image instead of building one (likewise
#   SMOKE_AIRFLOW_IMAGE=NAME:TAG   for Airflow); then the version expected is its label's.
# A failure is also written to $GITHUB_STEP_SUMMARY when there is one.
# Prints the time of each phase. Containers, databases and the dockerd it started are removed
# at exit; the layer cache stays in SMOKE_CACHE (SMOKE_FRESH=1 empties it for cold timings; it is
# emptied when it outgrows SMOKE_CACHE_MAX_GB, 30 by default).
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=${SMOKE_CACHE:-/var/tmp/advanced-mlops-smoke}
DB_HOST=${SMOKE_DB_HOST:-127.0.0.1}
DB_PORT=${SMOKE_DB_PORT:-3306}
DB_USER=${SMOKE_DB_USER:-root}  # password-less, as in CI (see .ci/run)
SERVICE_TAG=${SMOKE_SERVICE_IMAGE:-advanced-mlops-service:smoke}
AIRFLOW_TAG=${SMOKE_AIRFLOW_IMAGE:-advanced-mlops-airflow:smoke}
IMAGES=" ${SMOKE_IMAGES:-service airflow} "
testing() { [[ "$IMAGES" == *" $1 "* ]]; }
building() { [[ "$1" == service && -z "${SMOKE_SERVICE_IMAGE:-}" ]] || [[ "$1" == airflow && -z "${SMOKE_AIRFLOW_IMAGE:-}" ]]; }
# The offline base: Debian's Python (3.11) with venv and the CA bundle of this machine.
BASE_SUITE=bookworm
BASE_MIRROR=${SMOKE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
BASE_PACKAGES=python3,python3-venv,ca-certificates
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

RUN=$(mktemp -d /tmp/mlops-smoke.XXXXXX)
chmod 755 "$RUN"
LOGS=$RUN/logs
mkdir -p "$LOGS" "$CACHE"
STAMP=$(date +%s)
DB=mlops_smoke_${STAMP}_$$
MLFLOW_DB=${DB}_mlflow
CONTAINERS=()
SCRIPT=images-smoke
# shellcheck source=docker/lib.sh
source docker/lib.sh

# MariaDB's client, else MySQL's (GitHub's runners have only that one).
DB_CLIENT=$(command -v mariadb || command -v mysql || echo mariadb)
DB_ADMIN=$(command -v mariadb-admin || command -v mysqladmin || echo mariadb-admin)
sql() { "$DB_CLIENT" --host="$DB_HOST" --port="$DB_PORT" --user="$DB_USER" --batch --skip-column-names "$@"; }
wait_http() {  # URL SECONDS CONTAINER: until URL answers 2xx, failing early if CONTAINER stops
  local url=$1 seconds=$2 container=$3 deadline
  deadline=$(($(date +%s) + seconds))
  until curl -fs -o /dev/null --max-time 3 "$url"; do
    if [[ "$(docker inspect -f '{{.State.Running}}' "$container" 2>/dev/null)" != "true" ]]; then
      docker logs --tail 60 "$container" >&2 || true
      fail "$container stopped before $url answered"
    fi
    (($(date +%s) < deadline)) || { docker logs --tail 60 "$container" >&2; fail "$url: no answer in ${seconds}s"; }
    sleep 1
  done
}
wait_healthy() {  # CONTAINER SECONDS: until Docker's HEALTHCHECK says healthy
  local container=$1 seconds=$2 deadline status
  deadline=$(($(date +%s) + seconds))
  while true; do
    status=$(docker inspect -f '{{.State.Health.Status}}' "$container")
    [[ "$status" == "healthy" ]] && return 0
    if (($(date +%s) >= deadline)); then
      docker inspect -f '{{json .State.Health}}' "$container" >&2
      fail "$container: health '$status' after ${seconds}s"
    fi
    sleep 1
  done
}

cleanup() {
  local rc=$?
  set +e
  for container in "${CONTAINERS[@]}"; do docker rm -f "$container" >/dev/null 2>&1; done
  sql -e "DROP DATABASE IF EXISTS \`$DB\`; DROP DATABASE IF EXISTS \`$MLFLOW_DB\`" 2>/dev/null
  stop_dockerd
  rm -rf "$RUN"
  ((rc == 0)) || echo "images-smoke: failed (exit $rc)" >&2
  exit "$rc"
}
trap cleanup EXIT

# One run at a time: two engines on one data root would corrupt it.
exec 9>"$CACHE/lock"
flock -n 9 || fail "another images-smoke holds $CACHE/lock"
if [[ "${SMOKE_FRESH:-0}" == "1" ]]; then
  rm -rf "$CACHE/docker" "$CACHE"/base-*.tar
fi
TOTAL=$(now)

# --- 1. engine -----------------------------------------------------------------------------
say "Docker engine"
start=$(now)
if docker info >/dev/null 2>&1; then
  echo "   using the engine that answers (${DOCKER_HOST:-default socket})"
else
  command -v dockerd >/dev/null || logged apt-docker apt-get install -y docker.io
  # Superseded layers pile up in the cache as the Dockerfiles and the lock change: start from an
  # empty one when it grows past SMOKE_CACHE_MAX_GB (the next builds are then cold).
  if [[ -d "$CACHE/docker" ]] \
    && (($(du -s --block-size=1G "$CACHE/docker" | cut -f1) > ${SMOKE_CACHE_MAX_GB:-30})); then
    echo "   layer cache above ${SMOKE_CACHE_MAX_GB:-30} GB: emptied"
    rm -rf "$CACHE/docker"
  fi
  start_dockerd "$CACHE/docker"
  echo "   started dockerd $DOCKERD_PID (data root $CACHE/docker)"
fi
export DOCKER_BUILDKIT=0  # the legacy builder: no buildx here
record "engine ready" "$start"

# --- 2. bases ------------------------------------------------------------------------------
if ! building service && ! building airflow; then
  SERVICE_BASE_ARGS=()
  AIRFLOW_BASE_ARGS=()
elif [[ "${SMOKE_OFFICIAL_BASES:-0}" == "1" ]]; then
  SERVICE_BASE_ARGS=()
  AIRFLOW_BASE_ARGS=(--build-arg PIP_CHECK=warn)
else
  say "Offline base (debootstrap $BASE_SUITE: $BASE_PACKAGES)"
  start=$(now)
  base_key=$( { echo "recipe 1 $BASE_SUITE $BASE_MIRROR $BASE_PACKAGES"; sha256sum <"$CA_BUNDLE"; } \
    | sha256sum | cut -c1-12)
  BASE=advanced-mlops-smoke-base:$base_key
  base_tar=$CACHE/base-$base_key.tar
  if docker image inspect "$BASE" >/dev/null 2>&1; then
    echo "   cached image $BASE"
  else
    if [[ ! -s "$base_tar" ]]; then
      command -v debootstrap >/dev/null || logged apt-debootstrap apt-get install -y debootstrap
      rm -f "$CACHE"/base-*.tar
      rootfs=$RUN/rootfs
      logged debootstrap debootstrap --variant=minbase --include="$BASE_PACKAGES" \
        "$BASE_SUITE" "$rootfs" "$BASE_MIRROR"
      # This machine reaches PyPI through a TLS proxy: the base trusts what the host trusts.
      install -m 644 "$CA_BUNDLE" "$rootfs/etc/ssl/certs/ca-certificates.crt"
      rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb
      tar --numeric-owner -C "$rootfs" -cf "$base_tar.partial" . && mv "$base_tar.partial" "$base_tar"
      rm -rf "$rootfs"
      echo "   made $base_tar ($(du -h "$base_tar" | cut -f1))"
    fi
    logged import docker import \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'ENV LANG=C.UTF-8' \
      --change "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt" \
      --change "ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt" \
      --change 'CMD ["/bin/bash"]' \
      "$base_tar" "$BASE"
  fi
  SERVICE_BASE_ARGS=(--build-arg "PYTHON_BASE=$BASE")
  AIRFLOW_BASE_ARGS=(--build-arg "AIRFLOW_BASE=$BASE" --build-arg INSTALL_AIRFLOW=true
    --build-arg PIP_CHECK=strict)
  record "offline base ($BASE)" "$start"
fi

# --- 3. builds -----------------------------------------------------------------------------
mapfile -t BUILD_ARGS < <(bash docker/build-args.sh)
((${#BUILD_ARGS[@]} == 3)) || fail "docker/build-args.sh"
VERSION=${BUILD_ARGS[0]#VERSION=}
BUILD_ARG_FLAGS=()
for arg in "${BUILD_ARGS[@]}"; do BUILD_ARG_FLAGS+=(--build-arg "$arg"); done
for image in service airflow; do
  testing "$image" || continue
  tag_var=${image^^}_TAG
  tag=${!tag_var}
  if building "$image"; then
    say "docker build docker/$image.Dockerfile (${BUILD_ARGS[*]})"
    start=$(now)
    if [[ "$image" == service ]]; then base_args=("${SERVICE_BASE_ARGS[@]}"); else base_args=("${AIRFLOW_BASE_ARGS[@]}"); fi
    logged "build-$image" docker build --network host -f "docker/$image.Dockerfile" \
      "${base_args[@]}" "${BUILD_ARG_FLAGS[@]}" -t "$tag" .
    record "build $image image" "$start"
    echo "   $(docker image inspect -f '{{.Size}}' "$tag" | awk '{ printf "%.0f MB", $1 / 1e6 }')"
    grep -a "All installed packages are compatible" "$LOGS/build-$image.log" | sed 's/\x1b\[[0-9;]*m//g; s/^/   uv pip check: /' || true
  else
    docker image inspect "$tag" >/dev/null 2>&1 || fail "no image $tag loaded"
    VERSION=$(docker image inspect -f '{{ index .Config.Labels "org.opencontainers.image.version" }}' "$tag")
  fi
  # The labels name the version, the commit and the lock; the package inside is that version.
  labels=$(docker image inspect -f '{{ index .Config.Labels "org.opencontainers.image.version" }} {{ index .Config.Labels "org.opencontainers.image.revision" }} {{ index .Config.Labels "dev.advanced-mlops.uv-lock.sha256" }}' "$tag")
  [[ "$labels" =~ ^[^\ ]+\ [0-9a-f]{40}\ [0-9a-f]{64}$|^[^\ ]+\ unknown\ [0-9a-f]{64}$ ]] \
    || fail "$tag: labels version/revision/uv.lock sha256 are '$labels'"
  [[ "${labels%% *}" == "$VERSION" ]] || fail "$tag: label version ${labels%% *}, expected $VERSION"
  inside=$(docker run --rm --network none "$tag" python -c \
    'from advanced_mlops.version import package_version; print(package_version())')
  [[ "$inside" == "$VERSION" ]] || fail "$tag: the package inside is $inside, its label says $VERSION"
  echo "   $tag: version $VERSION (label and package), labels: $labels"
done

# --- 4. the service image ------------------------------------------------------------------
if testing service; then
say "Service image against MariaDB $DB_HOST:$DB_PORT (database $DB)"
"$DB_ADMIN" --host="$DB_HOST" --port="$DB_PORT" --user="$DB_USER" --connect-timeout=3 ping >/dev/null \
  || fail "MariaDB does not answer on $DB_HOST:$DB_PORT (as $DB_USER, no password)"
sql -e "CREATE DATABASE \`$DB\` CHARACTER SET utf8mb4; CREATE DATABASE \`$MLFLOW_DB\` CHARACTER SET utf8mb4"
HOME_DIR=$RUN/home
mkdir -p "$HOME_DIR"
STORE_URL="mysql+pymysql://$DB_USER@$DB_HOST:$DB_PORT/$DB?charset=utf8mb4"
TRACKING_URI="sqlite:///$HOME_DIR/mlflow.db"
run_service_image() { docker run --rm --network host -e MLOPS_DB_URL="$STORE_URL" "$SERVICE_TAG" "$@"; }

start=$(now)
logged db-upgrade run_service_image mlops db upgrade
record "mlops db upgrade (container)" "$start"

# A small champion, trained by the host's environment into a store the container then mounts.
host_mlops() {
  env MLOPS_HOME="$HOME_DIR" MLOPS_DB_URL="$STORE_URL" MLFLOW_TRACKING_URI="$TRACKING_URI" \
    MLOPS_CUSTOMERS=600 MLOPS_MAX_ITERATIONS=60 GX_ANALYTICS_ENABLED=false \
    uv run --frozen --quiet mlops "$@"
}
start=$(now)
logged ingest host_mlops ingest --date 2025-01-01 --days 40
record "host: mlops ingest (40 days, 600 customers)" "$start"
start=$(now)
logged train host_mlops train --base-date 2025-02-09
record "host: mlops train (60 iterations)" "$start"
start=$(now)
logged promote host_mlops promote --version 1 --force --reason "images smoke"
chmod -R a+rwX "$HOME_DIR"
record "host: mlops promote" "$start"

SERVICE_PORT=$(free_port 3000)
health_args=()
if [[ "$SERVICE_PORT" != "3000" ]]; then  # the image's HEALTHCHECK probes 3000
  health_args=(--health-cmd "python -c \"import urllib.request; urllib.request.urlopen('http://127.0.0.1:$SERVICE_PORT/readyz', timeout=4)\"")
fi
SERVICE=smoke-service-$STAMP
CONTAINERS+=("$SERVICE")
start=$(now)
docker run -d --name "$SERVICE" --network host "${health_args[@]}" \
  -e MLOPS_DB_URL="$STORE_URL" -e MLFLOW_TRACKING_URI="$TRACKING_URI" -e MLOPS_SERVE_WORKERS=1 \
  -v "$HOME_DIR:$HOME_DIR" "$SERVICE_TAG" mlops serve --port "$SERVICE_PORT" >/dev/null
wait_http "http://127.0.0.1:$SERVICE_PORT/readyz" 180 "$SERVICE"
record "service ready (/readyz)" "$start"
wait_healthy "$SERVICE" 60
record "service healthy (HEALTHCHECK)" "$start"
[[ "$(docker inspect -f '{{.Config.User}}' "$SERVICE")" != "" ]] || fail "the service image runs as root"
docker exec "$SERVICE" id -u | grep -qvx 0 || fail "the service runs as root"

uv run --frozen --quiet python -c 'import json
from advanced_mlops.serving.sample_requests import sample_requests
print(json.dumps(sample_requests(1)[0]))' >"$RUN/body.json"
start=$(now)
curl -fsS --max-time 30 -H 'Content-Type: application/json' --data @"$RUN/body.json" \
  "http://127.0.0.1:$SERVICE_PORT/predict" >"$RUN/answer.json"
record "one prediction" "$start"
curl -fsS --max-time 10 "http://127.0.0.1:$SERVICE_PORT/metadata" >"$RUN/metadata.json"
python3 -c 'import json, sys
meta = json.load(open(sys.argv[1]))
assert meta["service_version"] == sys.argv[2] and meta["version"] == "1", meta' \
  "$RUN/metadata.json" "$VERSION" || fail "/metadata: $(cat "$RUN/metadata.json") (expected service $VERSION)"
request_id=$(python3 -c 'import json, sys
answer = json.load(open(sys.argv[1]))
assert answer["credit_score"] in ("Poor", "Standard", "Good"), answer
assert answer["model_version"] == "1", answer
print(answer["request_id"])' "$RUN/answer.json") || fail "unexpected answer: $(cat "$RUN/answer.json")"
echo "   $(cat "$RUN/answer.json")"

start=$(now)
for _ in $(seq 1 30); do
  logged_version=$(sql "$DB" -e "SELECT model_version FROM prediction_log WHERE request_id = '$request_id'")
  [[ -n "$logged_version" ]] && break
  sleep 0.5
done
[[ "$logged_version" == "1" ]] || fail "no prediction_log row for request $request_id"
record "its row in prediction_log" "$start"

start=$(now)
docker stop --time 30 "$SERVICE" >/dev/null
record "graceful stop" "$start"

# The MLflow server as docker-compose.yml runs it, from the same image.
MLFLOW_PORT=$(free_port 5000 15000)
MLFLOW=smoke-mlflow-$STAMP
CONTAINERS+=("$MLFLOW")
start=$(now)
docker run -d --name "$MLFLOW" --network host \
  -e MLFLOW_BACKEND_STORE_URI="mysql+pymysql://$DB_USER@$DB_HOST:$DB_PORT/$MLFLOW_DB?charset=utf8mb4" \
  "$SERVICE_TAG" mlflow server --host=127.0.0.1 --port="$MLFLOW_PORT" --workers=1 --serve-artifacts \
  --artifacts-destination=/var/lib/mlops/mlflow-artifacts \
  "--allowed-hosts=mlflow,mlflow:5000,localhost,localhost:*,127.0.0.1,127.0.0.1:*" >/dev/null
wait_http "http://127.0.0.1:$MLFLOW_PORT/health" 180 "$MLFLOW"
record "mlflow server ready (MariaDB backend)" "$start"
mlflow_api="http://127.0.0.1:$MLFLOW_PORT/api/2.0/mlflow"
curl -fsS -H 'Host: mlflow:5000' -H 'Content-Type: application/json' -d '{"name": "smoke"}' \
  "$mlflow_api/experiments/create" >/dev/null || fail "MLflow refused Host: mlflow:5000"
status=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: evil.example' "$mlflow_api/experiments/search?max_results=1")
[[ "$status" == "403" ]] || fail "MLflow answered $status to an unknown Host header (expected 403)"
echo "smoke" >"$RUN/artifact.txt"
curl -fsS -X PUT --data-binary @"$RUN/artifact.txt" \
  "http://127.0.0.1:$MLFLOW_PORT/api/2.0/mlflow-artifacts/artifacts/smoke/artifact.txt" >/dev/null \
  || fail "MLflow did not store a proxied artifact"
curl -fsS "http://127.0.0.1:$MLFLOW_PORT/api/2.0/mlflow-artifacts/artifacts/smoke/artifact.txt" \
  | grep -qx smoke || fail "MLflow did not serve back the proxied artifact"
echo "   allowed host accepted, unknown host refused (403), artifact stored and served"
docker rm -f "$MLFLOW" >/dev/null

fi

# --- 5. the Airflow image ------------------------------------------------------------------
if testing airflow; then
say "Airflow image"
AIRFLOW_DIR=$RUN/airflow
mkdir -p "$AIRFLOW_DIR"
chmod 777 "$AIRFLOW_DIR"
ADMIN_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_urlsafe(12))')
AIRFLOW_ENV=(
  -e "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=sqlite:////smoke/airflow.db"
  -e AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=admin:admin
  -e AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=/smoke/passwords.json
  -e AIRFLOW__API_AUTH__JWT_SECRET=images-smoke-only
  -e AIRFLOW__CORE__PARALLELISM=4
  -v "$AIRFLOW_DIR:/smoke"
)
AIRFLOW_CLI=smoke-airflow-cli-$STAMP
CONTAINERS+=("$AIRFLOW_CLI")
docker run -d --name "$AIRFLOW_CLI" --network none "${AIRFLOW_ENV[@]}" \
  -e AIRFLOW_ADMIN_USER=admin -e AIRFLOW_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
  "$AIRFLOW_TAG" bash -c 'sleep infinity' >/dev/null
in_airflow() { docker exec "$AIRFLOW_CLI" "$@"; }
[[ "$(in_airflow id -u)" != "0" ]] || fail "the Airflow image runs as root"

start=$(now)
logged airflow-migrate in_airflow airflow db migrate
record "airflow db migrate (SQLite)" "$start"

start=$(now)
logged airflow-reserialize in_airflow airflow dags reserialize
in_airflow airflow dags list -o plain >"$LOGS/dags.txt" 2>"$LOGS/dags.err" \
  || { cat "$LOGS/dags.err" >&2; fail "airflow dags list"; }
in_airflow airflow dags list-import-errors -o plain >"$LOGS/import-errors.txt" 2>&1 || true
record "airflow dags reserialize + list" "$start"
sed 's/^/   /' "$LOGS/dags.txt"
# Every DAG file of the repository (one DAG each, named after its file) must be listed.
DAG_IDS=()
for file in dags/*.py; do DAG_IDS+=("$(basename "$file" .py)"); done
for dag in "${DAG_IDS[@]}"; do
  grep -q "^$dag " "$LOGS/dags.txt" || fail "DAG $dag is not listed"
done
grep -q "No data found" "$LOGS/import-errors.txt" || { cat "$LOGS/import-errors.txt" >&2; fail "DAG import errors"; }

# The admin password the way docker-compose.yml's airflow-init writes it.
docker exec -i "$AIRFLOW_CLI" python - <<'PY'
import json, os
path = os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]
with open(path, "w") as out:
    json.dump({os.environ["AIRFLOW_ADMIN_USER"]: os.environ["AIRFLOW_ADMIN_PASSWORD"]}, out)
os.chmod(path, 0o600)
PY
docker rm -f "$AIRFLOW_CLI" >/dev/null

API_PORT=$(free_port 8080 18080)
AIRFLOW_API=smoke-airflow-api-$STAMP
CONTAINERS+=("$AIRFLOW_API")
start=$(now)
docker run -d --name "$AIRFLOW_API" --network host "${AIRFLOW_ENV[@]}" \
  -e AIRFLOW__API__PORT="$API_PORT" -e AIRFLOW__API__HOST=127.0.0.1 \
  --health-interval 3s --health-start-period 120s \
  "$AIRFLOW_TAG" airflow api-server >/dev/null
wait_healthy "$AIRFLOW_API" 180
record "airflow api-server healthy (HEALTHCHECK)" "$start"
token=$(curl -fsS -H 'Content-Type: application/json' \
  -d "{\"username\": \"admin\", \"password\": \"$ADMIN_PASSWORD\"}" \
  "http://127.0.0.1:$API_PORT/auth/token" | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])') \
  || fail "the admin could not log in"
curl -fsS -H "Authorization: Bearer $token" "http://127.0.0.1:$API_PORT/api/v2/dags" >"$RUN/dags.json"
python3 -c 'import json, sys
ids = {d["dag_id"] for d in json.load(open(sys.argv[1]))["dags"]}
assert set(sys.argv[2:]) <= ids, ids' "$RUN/dags.json" "${DAG_IDS[@]}" \
  || fail "the REST API does not list every DAG"
echo "   admin logged in; /api/v2/dags lists ${DAG_IDS[*]}"

# The other long-running components, each judged by the image's HEALTHCHECK as compose does (no
# network needed: the checks read the metadata database and the scheduler's own health server).
start=$(now)
for component in scheduler dag-processor triggerer; do
  container=smoke-airflow-$component-$STAMP
  CONTAINERS+=("$container")
  docker run -d --name "$container" --network none "${AIRFLOW_ENV[@]}" \
    -e AIRFLOW__CORE__EXECUTOR=LocalExecutor -e AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK=true \
    --health-interval 3s --health-start-period 120s \
    "$AIRFLOW_TAG" airflow "$component" >/dev/null
done
for component in scheduler dag-processor triggerer; do
  wait_healthy "smoke-airflow-$component-$STAMP" 180
done
record "airflow scheduler, dag-processor, triggerer healthy" "$start"
fi

record "total" "$TOTAL"
say "images-smoke passed"
printf '   %s\n' "${TIMINGS[@]}"
