# Background daemons without an init system: setsid, a pid file and a log per daemon (sourced).

# start_daemon NAME CMD...: start CMD in its own session, logging to $LOGS/NAME.log.
start_daemon() {
  local name=$1
  shift
  mkdir -p "$LOGS" "$PIDS"
  setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$PIDS/$name.pid"
}

daemon_pid() { cat "$PIDS/$1.pid" 2>/dev/null || true; }

is_running() {
  local pid
  pid=$(daemon_pid "$1")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# stop_daemon NAME [SECONDS]: TERM, wait (20 s by default), then KILL; forgets the pid file.
stop_daemon() {
  local name=$1 wait=${2:-20} pid i
  pid=$(daemon_pid "$name")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for i in $(seq 1 $((wait * 2))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name did not stop on TERM; killing it"
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$PIDS/$name.pid"
}

# wait_for WHAT SECONDS CMD...: poll CMD every half second until it succeeds.
wait_for() {
  local what=$1 limit=$2 i
  shift 2
  for i in $(seq 1 $((limit * 2))); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  die "$what not ready after $limit s (logs: $LOGS)"
}
