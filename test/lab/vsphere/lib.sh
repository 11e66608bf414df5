# Shared by up.sh, down.sh and status.sh (sourced). Paths, ports and process bookkeeping.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=${ROOT:-$(cd "$HERE/../../.." && pwd)}
LAB_DIR=${LAB_DIR:-$ROOT/.lab}
STATE=$LAB_DIR/vsphere                      # caches (binary, certs, disks, ISO) and run state
RUN=$STATE/run                              # per-start state: vcsim's datastore, logs
# Ports: explicit variables win; otherwise those of the instance that runs (so a later `up` or
# `down` without the variables finds it), else the defaults.
PORT=${V2O_LAB_VSPHERE_PORT:-$(cat "$STATE/port" 2>/dev/null || echo 18989)}          # vcsim (SOAP, datastore, leases, guest files, hooks)
ISO_PORT=${V2O_LAB_VIRTIO_WIN_PORT:-$(cat "$STATE/iso-port" 2>/dev/null || echo 18990)} # plain HTTP: the virtio-win ISO
LAB_USER=administrator@vsphere.local

log() { printf '[lab vsphere] %s\n' "$*" >&2; }
now_ms() { date +%s%3N; }

# A pid file holds "PID STARTTIME" (field 22 of /proc/PID/stat), so we only ever signal the
# process we started, never a later process that reused the pid.
proc_start() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null; }
record_pid() { echo "$2 $(proc_start "$2")" >"$1"; }
our_pid() { # prints the pid recorded in $1 if that very process is still alive
  [ -f "$1" ] || return 1
  local pid start
  read -r pid start <"$1" || return 1
  [ -n "$pid" ] && [ -n "$start" ] && [ "$(proc_start "$pid")" = "$start" ] && echo "$pid"
}
stop_pid() { # stop_pid PIDFILE NAME
  local pid
  if pid=$(our_pid "$1"); then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "$2 (pid $pid) did not stop on SIGTERM; SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    log "stopped $2 (pid $pid)"
  fi
  rm -f "$1"
}

vcsim_answers() {
  curl -sf -o /dev/null --max-time 3 --cacert "$STATE/certs/ca.pem" "https://127.0.0.1:$PORT/about"
}
iso_answers() { curl -sf -o /dev/null --max-time 3 "http://127.0.0.1:$ISO_PORT/healthz"; }
