#!/usr/bin/env bash
# Stops what up.sh started (the simulator and the ISO server, matched by pid AND start time),
# nothing else. Caches (binary, certificates, disks, ISO, password) stay for a fast next `up`.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
[ -d "$STATE" ] || exit 0
exec 9>"$STATE/.up.lock"
flock -w 120 9 || { log "an 'up' is running; try again"; exit 1; }
stop_pid "$STATE/vcsim.pid" vcsim
stop_pid "$STATE/iso.pid" iso-server
rm -rf "$RUN" "$STATE/port" "$STATE/iso-port"
rm -f "$LAB_DIR/vsphere.env" "$LAB_DIR/vsphere-disks.json"
