#!/usr/bin/env bash
# Starts the vSphere lab: govmomi's vCenter simulator with the v2o add-ons on
# https://127.0.0.1:$V2O_LAB_VSPHERE_PORT (default 18989) with a lab CA, the seeded Windows
# inventory, and the virtio-win ISO on http://127.0.0.1:$V2O_LAB_VIRTIO_WIN_PORT (default 18990).
# Writes $LAB_DIR/vsphere.env; the simulator writes $LAB_DIR/vsphere-disks.json and keeps it true
# as guests' state reaches their disks. Idempotent: installs Debian
# packages only when missing, rebuilds only when sources changed, reuses a live instance.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
t0=$(now_ms)
mkdir -p "$STATE"

# Several helpers may run `lab up` at once: one at a time.
exec 9>"$STATE/.up.lock"
flock -w 600 9 || { log "another 'up' holds $STATE/.up.lock"; exit 1; }

# --- packages -------------------------------------------------------------------------------
ensure_packages() {
  local missing=() p
  for p in golang-go golang-github-vmware-govmomi-dev qemu-utils xorriso openssl curl ca-certificates; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  log "installing ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
ensure_packages
command -v node >/dev/null || { log "node is required (the project's own runtime)"; exit 1; }

# --- write the env file (also when reusing) --------------------------------------------------
write_env() {
  local iso_sha cert_sha
  iso_sha=$(cat "$STATE/iso/virtio-win.iso.sha256")
  cert_sha=$(openssl x509 -in "$STATE/certs/server.pem" -noout -fingerprint -sha256 | cut -d= -f2)
  {
    echo "# vSphere lab (test/lab/vsphere/up.sh): vcsim $(dpkg-query -W -f='${Version}' golang-github-vmware-govmomi-dev) + v2o add-ons"
    echo "GOVC_URL=https://127.0.0.1:$PORT/sdk"
    echo "GOVC_USERNAME=$LAB_USER"
    echo "GOVC_PASSWORD=$(cat "$STATE/password")"
    echo "GOVC_TLS_CA_CERTS=$STATE/certs/ca.pem"
    echo "GOVC_DATACENTER=DC0"
    echo "GOVC_DATASTORE=LocalDS_0"
    echo "GOVC_RESOURCE_POOL=DC0_C0/Resources"
    echo "V2O_LAB_VSPHERE_CERT_SHA256=$cert_sha"
    echo "V2O_LAB_VSPHERE_EXT_URL=https://127.0.0.1:$PORT/v2o-ext"
    echo "V2O_LAB_VSPHERE_DISKS=$LAB_DIR/vsphere-disks.json"
    echo "V2O_LAB_VSPHERE_DATASTORE_DIR=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).datastoreDir)' "$RUN/seeded.json")"
    echo "V2O_LAB_VSPHERE_VM=win2019-app01"
    echo "V2O_LAB_VSPHERE_VM_EFI=win2022-db01"
    echo "V2O_LAB_VSPHERE_VM_2012R2=win2012r2-legacy01"
    echo "V2O_LAB_VSPHERE_VM_2012=win2012-legacy02"
    echo "V2O_LAB_VSPHERE_VM_2025=win2025-core01"
    echo "V2O_LAB_VSPHERE_VM_WIN10=win10-desk02"
    echo "V2O_LAB_VSPHERE_VM_WIN11=win11-desk01"
    echo "V2O_LAB_VSPHERE_VM_NOTOOLS=win2019-notools01"
    echo "V2O_LAB_VSPHERE_VM_SNAPSHOT=win2016-snap01"
    echo "V2O_LAB_VSPHERE_VM_STATIC=win2022-static01"
    echo "V2O_LAB_VSPHERE_VM_WARM=win2022-warm01"
    echo "V2O_LAB_VSPHERE_VM_WARM2=win2022-warm02"
    echo "V2O_LAB_VSPHERE_VM_WARM3=win2022-warm03"
    echo "V2O_LAB_VSPHERE_VM_BENCH=win2022-bench01"
    echo "V2O_LAB_VSPHERE_VM_UNICODE='Finanz Server 01 – Müller & Söhne'"
    # issue 15's wave: eight small VMs over the cluster's two hosts (odd numbers on the first)
    echo "V2O_LAB_VSPHERE_WAVE_VMS=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).vms.map((v) => v.name).filter((n) => /^win2019-wave\d+$/.test(n)).join(","))' "$HERE/inventory.json")"
    echo "V2O_LAB_GUEST_USERNAME=Administrator"
    echo "V2O_LAB_GUEST_PASSWORD='V2o-Guest-Pass1!'"
    echo "V2O_LAB_VIRTIO_WIN_URL=http://127.0.0.1:$ISO_PORT/virtio-win.iso"
    echo "V2O_LAB_VIRTIO_WIN_SHA256=$iso_sha"
  } >"$LAB_DIR/vsphere.env.tmp"
  mv "$LAB_DIR/vsphere.env.tmp" "$LAB_DIR/vsphere.env"
}

# Source fingerprint: rebuild when it changes; warn when the running instance is older.
SIM=/usr/share/gocode/src/github.com/vmware/govmomi/simulator
mkdir -p "$STATE/bin/patched"
# vcsim's ShutdownGuest powers off at once; simext/zz_v2o_shutdown.go replaces it; the snapshot
# methods are wrapped by simext/zz_v2o_cbt.go (frozen flat extents, CBT). So the overlay carries
# copies of virtual_machine.go and snapshot.go with those upstream methods renamed.
sed -e 's/^func (vm \*VirtualMachine) ShutdownGuest(/func (vm *VirtualMachine) upstreamShutdownGuest(/' \
  -e 's/^func (vm \*VirtualMachine) CreateSnapshotTask(/func (vm *VirtualMachine) upstreamCreateSnapshotTask(/' \
  -e 's/^func (vm \*VirtualMachine) RemoveAllSnapshotsTask(/func (vm *VirtualMachine) upstreamRemoveAllSnapshotsTask(/' \
  "$SIM/virtual_machine.go" >"$STATE/bin/patched/virtual_machine.go"
sed 's/^func (v \*VirtualMachineSnapshot) RemoveSnapshotTask(/func (v *VirtualMachineSnapshot) upstreamRemoveSnapshotTask(/' \
  "$SIM/snapshot.go" >"$STATE/bin/patched/snapshot.go"
for m in upstreamShutdownGuest upstreamCreateSnapshotTask upstreamRemoveAllSnapshotsTask; do
  grep -q "$m(" "$STATE/bin/patched/virtual_machine.go" || { log "cannot patch $SIM/virtual_machine.go ($m)"; exit 1; }
done
grep -q 'upstreamRemoveSnapshotTask(' "$STATE/bin/patched/snapshot.go" || { log "cannot patch $SIM/snapshot.go"; exit 1; }
src_hash=$( (cd "$HERE/vcsim" && cat main.go seed.go simext/*.go "$STATE/bin/patched/virtual_machine.go" "$STATE/bin/patched/snapshot.go"; go version) | sha256sum | cut -d' ' -f1)
run_hash=$(cat "$STATE/bin/patched/virtual_machine.go" "$STATE/bin/patched/snapshot.go" "$HERE/inventory.json" "$HERE/make-disks.mjs" - <<<"$src_hash" | sha256sum | cut -d' ' -f1)

if vpid=$(our_pid "$STATE/vcsim.pid") && vcsim_answers && our_pid "$STATE/iso.pid" >/dev/null && iso_answers; then
  write_env
  log "already running (vcsim pid $vpid); reused in $(($(now_ms) - t0)) ms"
  if [ "$(cat "$RUN/sources.hash" 2>/dev/null)" != "$run_hash" ]; then
    log "note: the running simulator predates changes to test/lab/vsphere; restart it (down + up) to use them"
  fi
  exit 0
fi

# --- build (only when sources or the toolchain changed) ---------------------------------------
if [ ! -x "$STATE/bin/v2o-vcsim" ] || [ "$(cat "$STATE/bin/v2o-vcsim.hash" 2>/dev/null)" != "$src_hash" ]; then
  tb=$(now_ms)
  {
    printf '{"Replace":{"%s/virtual_machine.go":"%s","%s/snapshot.go":"%s"' "$SIM" "$STATE/bin/patched/virtual_machine.go" "$SIM" "$STATE/bin/patched/snapshot.go"
    sep=,
    for f in "$HERE"/vcsim/simext/*.go; do
      printf '%s"%s/%s":"%s"' "$sep" "$SIM" "$(basename "$f")" "$f"
      sep=,
    done
    printf '}}\n'
  } >"$STATE/bin/overlay.json"
  (cd "$HERE/vcsim" && GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off GOFLAGS= CGO_ENABLED=0 \
    go build -overlay "$STATE/bin/overlay.json" -o "$STATE/bin/v2o-vcsim.new" .)
  mv "$STATE/bin/v2o-vcsim.new" "$STATE/bin/v2o-vcsim"
  echo "$src_hash" >"$STATE/bin/v2o-vcsim.hash"
  log "built the simulator in $(($(now_ms) - tb)) ms"
fi

# --- certificates and credentials --------------------------------------------------------------
CERTS=$STATE/certs
if [ ! -f "$CERTS/server.pem" ] || [ ! -f "$CERTS/ca.pem" ]; then
  mkdir -p "$CERTS"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=v2o lab CA" \
    -keyout "$CERTS/ca.key" -out "$CERTS/ca.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$CERTS/server.key" -out "$CERTS/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >"$CERTS/server.ext"
  openssl x509 -req -in "$CERTS/server.csr" -CA "$CERTS/ca.pem" -CAkey "$CERTS/ca.key" -CAcreateserial \
    -days 825 -extfile "$CERTS/server.ext" -out "$CERTS/server.pem" 2>/dev/null
  chmod 600 "$CERTS"/*.key
  log "generated the lab CA and server certificate in $CERTS"
fi
if [ ! -s "$STATE/password" ]; then
  (umask 077 && openssl rand -hex 12 >"$STATE/password")
fi

# --- disks and ISO (cached) --------------------------------------------------------------------
node "$HERE/make-disks.mjs" "$HERE/inventory.json" "$STATE/disks"
bash "$HERE/make-iso.sh" "$STATE/iso"

# --- start -------------------------------------------------------------------------------------
# Leftovers of an instance that died (or was killed): stop what is ours, refuse foreign ones.
stop_pid "$STATE/vcsim.pid" vcsim
stop_pid "$STATE/iso.pid" iso-server
if curl -sk -o /dev/null --max-time 2 "https://127.0.0.1:$PORT/about" || curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/"; then
  log "port $PORT is taken by a process this lab did not start; set V2O_LAB_VSPHERE_PORT"; exit 1
fi
if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$ISO_PORT/"; then
  log "port $ISO_PORT is taken by a process this lab did not start; set V2O_LAB_VIRTIO_WIN_PORT"; exit 1
fi
rm -rf "$RUN"
mkdir -p "$RUN/tmp"
echo "$run_hash" >"$RUN/sources.hash"
echo "$PORT" >"$STATE/port"
echo "$ISO_PORT" >"$STATE/iso-port"

ts=$(now_ms)
TMPDIR="$RUN/tmp" setsid "$STATE/bin/v2o-vcsim" -listen "127.0.0.1:$PORT" \
  -cert "$CERTS/server.pem" -key "$CERTS/server.key" -ca "$CERTS/ca.pem" \
  -username "$LAB_USER" -password "$(cat "$STATE/password")" \
  -inventory "$HERE/inventory.json" -disks "$STATE/disks" -iso-files "$STATE/iso/virtio-win-files.txt" -iso "$STATE/iso/virtio-win.iso" \
  -ready "$RUN/seeded.json" -manifest "$LAB_DIR/vsphere-disks.json" >"$RUN/vcsim.out" 2>"$RUN/vcsim.log" </dev/null 9>&- &
record_pid "$STATE/vcsim.pid" $!
setsid node "$HERE/iso-server.mjs" "$STATE/iso" "$ISO_PORT" >"$RUN/iso-server.log" 2>&1 </dev/null 9>&- &
record_pid "$STATE/iso.pid" $!

deadline=$(($(date +%s) + 120))
until grep -q '^ready ' "$RUN/vcsim.out" 2>/dev/null; do
  if ! our_pid "$STATE/vcsim.pid" >/dev/null; then
    log "the simulator exited during start-up:"; tail -20 "$RUN/vcsim.log" >&2; rm -f "$STATE/vcsim.pid"
    stop_pid "$STATE/iso.pid" iso-server; exit 1
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    log "the simulator was not ready within 120 s:"; tail -20 "$RUN/vcsim.log" >&2
    stop_pid "$STATE/vcsim.pid" vcsim; stop_pid "$STATE/iso.pid" iso-server; exit 1
  fi
  sleep 0.05
done
for _ in $(seq 1 100); do iso_answers && break; sleep 0.05; done
iso_answers || { log "the ISO server did not answer:"; cat "$RUN/iso-server.log" >&2; exit 1; }
vcsim_answers || { log "the simulator does not answer over TLS with the lab CA"; exit 1; }
log "simulator $(sed -n 's/^ready //p' "$RUN/vcsim.out") (start + seed $(($(now_ms) - ts)) ms)"

write_env
log "up in $(($(now_ms) - t0)) ms: https://127.0.0.1:$PORT/sdk, ISO http://127.0.0.1:$ISO_PORT/virtio-win.iso"
