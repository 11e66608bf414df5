#!/usr/bin/env bash
# The main job, end to end: bring up both labs, build, plan and migrate the lab's Windows VM
# win2019-app01 from vSphere to OpenStack with progress bars, then print the new server.
# Run again as often as you like: the previous demo run is rolled back first.
#   npm run demo                 (V2O_DEMO_VM=win2022-db01 npm run demo for the EFI VM with 3 disks)
#   npm run demo -- --undo       only roll the last demo run back (the integration tests do this first:
#                                the demo's server keeps the VM's MAC, which their plans want too)
set -euo pipefail
UNDO=0
[ "${1:-}" = --undo ] && UNDO=1
cd "$(dirname "$0")/.."
VM=${V2O_DEMO_VM:-win2019-app01}
DIR=${V2O_DEMO_DIR:-$PWD/.v2o/demo}
STATE=$DIR/state
mkdir -p "$DIR"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ $UNDO = 1 ]; then
  [ -f "$DIR/last-run" ] || exit 0
  [ -f dist/src/cli/main.js ] || npm run --silent build
else
  step "labs (vcsim + OpenStack on 127.0.0.1)"
  npm run --silent lab -- up all
  step "build"
  npm run --silent build
fi
set -a
# shellcheck disable=SC1091
. .lab/lab.env
set +a
# The lab guest's administrator; a real plan names its own variables (guestCredentials).
export V2O_GUEST_USERNAME=$V2O_LAB_GUEST_USERNAME V2O_GUEST_PASSWORD=$V2O_LAB_GUEST_PASSWORD
v2o() { node dist/src/cli/main.js --state-dir "$STATE" "$@"; }

if [ -f "$DIR/last-run" ]; then
  step "rolling back the previous demo run $(cat "$DIR/last-run")"
  if v2o cancel "$(cat "$DIR/last-run")" --rollback; then
    rm -f "$DIR/last-run"
  else
    echo "the rollback did not finish; it continues where it stopped when run again" >&2
    [ $UNDO = 1 ] && exit 1
  fi
fi
# Give the VM back its seeded state (powered on, VMware Tools running, no drivers yet).
curl -fsS --cacert "$GOVC_TLS_CA_CERTS" -X POST -d "{\"vm\":\"$VM\"}" "$V2O_LAB_VSPHERE_EXT_URL/reset" >/dev/null
[ $UNDO = 1 ] && exit 0

cat >"$DIR/plan.yaml" <<PLAN
# Written by scripts/demo.sh (see examples/plan.example.yaml for every option).
version: 1
source: {}          # GOVC_URL / GOVC_USERNAME / GOVC_PASSWORD / GOVC_TLS_CA_CERTS from .lab/lab.env
target:
  cloud: $OS_CLOUD
defaults:
  drivers:
    mode: auto
    virtioWin:
      url: $V2O_LAB_VIRTIO_WIN_URL
      sha256: $V2O_LAB_VIRTIO_WIN_SHA256
  networks:
    - { portGroup: VM Network, network: lab-net, keepMac: true }
    - { portGroup: DB Network, network: lab-db-net, keepMac: true }
vms:
  - name: $VM
PLAN

step "v2o plan $DIR/plan.yaml (read-only)"
v2o plan "$DIR/plan.yaml" --vm "$VM"

step "v2o migrate $DIR/plan.yaml --vm $VM"
# Not piped: on a terminal the CLI draws progress bars (listr2); elsewhere it prints lines.
set +e
v2o migrate "$DIR/plan.yaml" --vm "$VM"
code=$?
set -e
run=$(v2o list --json | node -e '
  const runs = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const r = runs.find((x) => x.subject === process.argv[1]);
  if (r) console.log(r.id);' "$VM")
[ -n "$run" ] && echo "$run" >"$DIR/last-run"
if [ "$code" -ne 0 ]; then
  echo "migrate exited $code; inspect with: node dist/src/cli/main.js --state-dir $STATE status $run" >&2
  exit "$code"
fi

step "the new server"
v2o status "$run" --json | node -e '
  const view = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const s = view.steps.find((x) => x.stepId === "finish").output;
  const l = view.steps.find((x) => x.stepId === "launch").output;
  console.log(`server   ${s.server.name}  ${s.server.id}  ${s.server.status}`);
  for (const p of s.ports) console.log(`port     ${p.name}  MAC ${p.macAddress}  ${p.ips.join(", ")}`);
  for (const i of s.images) console.log(`image    ${i.name}  ${i.id}`);
  for (const v of s.volumes) console.log(`volume   ${v.name}  ${v.id}`);
  console.log(`moved    ${(s.bytes / 1048576).toFixed(1)} MiB in ${s.transferSeconds.toFixed(1)} s (${s.rateMBps} MB/s); source ${s.source}`);
  const b = s.boot;
  if (b && b.marker) {
    console.log(`boot     ${b.outcome} on ${b.bus} (${b.attempts} attempt(s)): Windows build ${b.marker.osBuild}, ${b.marker.hostname}, at ${b.marker.time}`);
    console.log(`marker   v2o-firstboot: ${JSON.stringify(b.marker)}`);
  } else if (b) console.log(`boot     ${b.outcome} (bootCheck: none)`);
  if (b && b.warning) console.log(`warning  ${b.warning}`);
  if (l.consoleTail) console.log(`console  ${l.consoleTail.trim().split("\n").slice(-3).join("\n         ")}`);
'
echo
echo "undo it all with: node dist/src/cli/main.js --state-dir $STATE cancel $run --rollback"
