# shellcheck shell=bash
# What docker/images-smoke.sh and docker/stack-e2e.sh share (sourced, never run): phase headers
# and timings, commands logged to a file, free ports, and the offline dockerd they start and stop.
# The caller sets SCRIPT (its name, for failures), RUN (its scratch folder) and LOGS first.

TIMINGS=()
DOCKERD_PID=""

say() { printf '\n== %s\n' "$*"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
record() {  # NAME START: prints the phase's time and keeps it for the summary
  local seconds
  seconds=$(elapsed "$2")
  TIMINGS+=("$(printf '%-58s %7s s' "$1" "$seconds")")
  echo "   $1: $seconds s"
}
fail() {  # one line on stderr (and in the GitHub job summary when there is one), exit 1
  echo "$SCRIPT: FAILED: $*" >&2
  if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
    printf '### %s failed ❌\n\n%s\n' "$SCRIPT" "$*" >>"$GITHUB_STEP_SUMMARY"
  fi
  exit 1
}
# Runs a command with its output in $LOGS/NAME.log, shown (its end) only when it fails.
logged() {
  local name=$1
  shift
  if ! "$@" >"$LOGS/$name.log" 2>&1; then
    tail -n 60 "$LOGS/$name.log" >&2
    fail "$name (full log above, last 60 lines)"
  fi
}
free_port() {  # [PORT...]: the first of these free on 127.0.0.1, else any free one
  python3 -c 'import socket, sys
for port in map(int, sys.argv[1:]):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
    print(port)
    break
else:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])' "$@"
}

# Debian's dockerd on DATA_ROOT, answering on a socket in $RUN (exported as DOCKER_HOST): no
# bridge and no iptables, as this machine allows (../shared/reference/this-machine.md).
start_dockerd() {  # DATA_ROOT
  export DOCKER_HOST=unix://$RUN/docker.sock
  dockerd --data-root "$1" --exec-root "$RUN/exec" --pidfile "$RUN/docker.pid" \
    --host "$DOCKER_HOST" --bridge=none --iptables=false --ip6tables=false \
    >"$LOGS/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  for _ in $(seq 1 120); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { tail -n 30 "$LOGS/dockerd.log" >&2; fail "dockerd did not start"; }
}
stop_dockerd() {  # the dockerd start_dockerd started, if any
  [[ -n "$DOCKERD_PID" ]] || return 0
  kill "$DOCKERD_PID" 2>/dev/null
  for _ in $(seq 1 30); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 1; done
  # dockerd leaves its network namespaces mounted under the exec root.
  grep -o " $RUN/[^ ]*" /proc/mounts | sort -r | xargs -r umount 2>/dev/null
  return 0
}
