#!/usr/bin/env bash
# HEALTHCHECK of the Airflow image (docker/airflow.Dockerfile): healthy when the Airflow component
# this container runs works. The component is read from PID 1's command line (dumb-init's arguments
# on the official image; else the component itself, which may have retitled itself: the API server
# becomes `airflow api_server -- ...`, a Celery worker `[celeryd: ...]`), so one image-level check
# serves every service of docker-compose.yml:
#   api-server     GET /api/v2/version answers (the UI and the tasks' Execution API live there)
#   scheduler      its health server (AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK) or its job heartbeat
#   dag-processor  a live DagProcessorJob from this host in the metadata database
#   triggerer      a live TriggererJob from this host
#   celery worker  the worker answers a Celery ping
# Anything else (a one-shot `airflow db migrate`, `bash`) is healthy.
set -euo pipefail

command_line=" $(tr '\0' ' ' </proc/1/cmdline) "

http_ok() {
  python - "$1" <<'PY'
import sys
import urllib.request

urllib.request.urlopen(sys.argv[1], timeout=8).close()
PY
}

case "${command_line}" in
  *" api-server "* | *" api_server "*)
    http_ok "http://127.0.0.1:${AIRFLOW__API__PORT:-8080}/api/v2/version"
    ;;
  *" celery worker "* | *"[celeryd: "*)
    exec celery --app airflow.providers.celery.executors.celery_executor.app \
      inspect ping --destination "celery@${HOSTNAME}"
    ;;
  *" scheduler "*)
    if [[ "${AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK:-false}" == "true" ]]; then
      http_ok "http://127.0.0.1:${AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT:-8974}/health"
    else
      exec airflow jobs check --job-type SchedulerJob --local
    fi
    ;;
  *" dag-processor "* | *" dag_processor "*)
    exec airflow jobs check --job-type DagProcessorJob --local
    ;;
  *" triggerer "*)
    exec airflow jobs check --job-type TriggererJob --local
    ;;
  *)
    exit 0
    ;;
esac
