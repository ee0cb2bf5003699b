# Shared helpers of deploy/local/clickhouse.sh and kafka.sh (sourced after they define log and die).
# No procps dependency: processes are found through /proc.

as_root() {
  if [[ $EUID -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
  else die "need root (or passwordless sudo) to run: $*"; fi
}

# True if a process with this exact command name (/proc/*/comm) exists.
proc_named() {
  local c
  for c in /proc/[0-9]*/comm; do
    [[ "$(cat "$c" 2>/dev/null)" == "$1" ]] && return 0
  done
  return 1
}

# Another apt/dpkg run (e.g. a provisioning install logging to /tmp/apt.log) may be in progress.
wait_for_apt() {
  local waited=0
  while proc_named apt-get || proc_named apt || proc_named dpkg || proc_named unattended-upgr; do
    if (( waited % 30 == 0 )); then
      log "waiting for a running apt-get/dpkg to finish (${waited}s; see /tmp/apt.log)..."
    fi
    (( waited >= APT_WAIT_TIMEOUT )) && die "apt/dpkg still busy after ${APT_WAIT_TIMEOUT}s"
    sleep 5
    waited=$((waited + 5))
  done
}

# pid_from_file FILE CMDLINE_FRAGMENT: prints the pid in FILE if that process is alive and its command
# line contains the fragment (a stale pid reused by another program does not count).
pid_from_file() {
  [[ -f "$1" ]] || return 1
  local pid
  pid="$(cat "$1" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2" || return 1
  echo "$pid"
}

# stop_server stops the server of the calling script: SIGTERM to the pid of its PID_FILE (its
# running_pid), SIGKILL after STOP_TIMEOUT seconds; the data in DATA is kept.
stop_server() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    log "not running"
    return 0
  fi
  log "stopping pid $pid..."
  kill -TERM "$pid" 2>/dev/null || true
  local t0=$SECONDS
  while kill -0 "$pid" 2>/dev/null; do
    if (( SECONDS - t0 >= STOP_TIMEOUT )); then
      log "still running after ${STOP_TIMEOUT}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 1
      break
    fi
    sleep 0.2
  done
  rm -f "$PID_FILE"
  log "stopped (data kept in $DATA)"
}

# wait_answering NAME PID STEP WHAT SCRIPT waits until the calling script's `answers` succeeds,
# polling every STEP seconds; it dies (with the end of the server log) when the server exits or
# START_TIMEOUT seconds pass.
wait_answering() {
  local name=$1 pid=$2 step=$3 what=$4 script=$5 t0=$SECONDS
  until answers; do
    if ! kill -0 "$pid" 2>/dev/null; then
      log_tail
      rm -f "$PID_FILE"
      die "$name (pid $pid) exited during startup"
    fi
    if (( SECONDS - t0 >= START_TIMEOUT )); then
      log_tail
      die "$name did not answer $what within ${START_TIMEOUT}s (pid $pid still running; stop with: deploy/local/$script stop)"
    fi
    sleep "$step"
  done
}
