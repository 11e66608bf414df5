#!/usr/bin/env bash
# Stop the lab OpenStack started by start.sh. Only the PIDs recorded in run/pids are
# signalled (each was started with setsid, so its PID is also its process-group id and the
# group holds its workers), and only if the start time in /proc still matches the recorded
# one, so a recycled PID is never hit. State (databases, images, volumes) is kept.
set -u
. "$(dirname "$0")/lib.sh"
[ -f "$PIDFILE" ] || { echo "openstack lab: not running (no $PIDFILE)"; exit 0; }
ours() { [ -d "/proc/$1" ] && [ "$(starttime "$1")" = "$2" ]; }
group_alive() { pgrep -g "$1" >/dev/null 2>&1; }

# reverse start order: compute before conductor before rabbitmq/postgres
mapfile -t LINES < <(tac "$PIDFILE")
for l in "${LINES[@]}"; do
  read -r name pid st <<<"$l"
  ours "$pid" "$st" || continue
  if [ "$name" = postgres ]; then
    kill -INT "$pid" 2>/dev/null # "fast" shutdown: do not wait for client sessions
  else
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
  fi
done
# wait up to 10 s for the groups to go away, then SIGKILL what is left. A group is only
# checked while its leader is ours, or when the leader is gone (its group id cannot be reused
# by a new process group while members remain).
for _ in $(seq 1 20); do
  alive=0
  for l in "${LINES[@]}"; do
    read -r name pid st <<<"$l"
    if ours "$pid" "$st" || { [ ! -d "/proc/$pid" ] && group_alive "$pid"; }; then alive=1; fi
  done
  [ $alive = 0 ] && break
  sleep 0.5
done
for l in "${LINES[@]}"; do
  read -r name pid st <<<"$l"
  if ours "$pid" "$st"; then
    echo "openstack lab: $name ($pid) ignored SIGTERM, sending SIGKILL"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
  elif [ ! -d "/proc/$pid" ] && group_alive "$pid"; then
    # leader gone but members of its process group remain (e.g. uwsgi workers)
    kill -KILL -- "-$pid" 2>/dev/null
  fi
done
rm -f "$PIDFILE"
echo "openstack lab: stopped"
