#!/usr/bin/env bash
# Prints whether the vSphere lab runs; exit 0 when the simulator and the ISO server both answer.
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
rc=0
if pid=$(our_pid "$STATE/vcsim.pid") && vcsim_answers; then
  n=$(curl -sf --cacert "$STATE/certs/ca.pem" "https://127.0.0.1:$PORT/v2o-ext/vms" | grep -c '"moref"')
  echo "vsphere: vcsim running (pid $pid) at https://127.0.0.1:$PORT/sdk, $n seeded VMs"
else
  echo "vsphere: vcsim not running"; rc=1
fi
if pid=$(our_pid "$STATE/iso.pid") && iso_answers; then
  echo "vsphere: virtio-win ISO served (pid $pid) at http://127.0.0.1:$ISO_PORT/virtio-win.iso"
else
  echo "vsphere: ISO server not running"; rc=1
fi
exit $rc
