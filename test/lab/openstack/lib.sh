# Shared settings of the OpenStack lab scripts (sourced, not run).
# Everything lives under $LAB_DIR/openstack, so each checkout has its own lab state.
ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
LAB_DIR=${LAB_DIR:-${V2O_LAB_DIR:-$ROOT/.lab}}
HERE="$ROOT/test/lab/openstack"
STATE="$LAB_DIR/openstack"
ETC="$STATE/etc"; DATA="$STATE/data"; LOG="$STATE/log"; RUN="$STATE/run"; BIN="$STATE/bin"; PYLIB="$STATE/lib"
PIDFILE="$RUN/pids"
SECRETS="$STATE/secrets.env"
H=127.0.0.1
# Fixed ports (OpenStack defaults): the lab is a single shared instance per machine.
KEYSTONE_PORT=5000 GLANCE_PORT=9292 PLACEMENT_PORT=8778 NOVA_PORT=8774 CINDER_PORT=8776
NEUTRON_PORT=9696 RABBIT_PORT=5672 EPMD_PORT=4369 RABBIT_DIST_PORT=25672
KS="http://$H:$KEYSTONE_PORT"
# Debian's interpreter: a pyenv python3 earlier on PATH does not see Debian's python3-* packages.
PY=/usr/bin/python3

starttime() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null; }
# name -> 0 if the PID recorded for it is alive and still the process we started
is_running() {
  [ -f "$PIDFILE" ] || return 1
  local n p s
  read -r n p s < <(awk -v n="$1" '$1==n' "$PIDFILE" | tail -1) || return 1
  [ -n "${p:-}" ] && [ -d "/proc/$p" ] && [ "$(starttime "$p")" = "$s" ]
}
# the service processes, in start order
SERVICES="epmd rabbitmq postgres keystone glance-api placement neutron-server nova-api nova-conductor nova-scheduler cinder-api cinder-scheduler cinder-volume nova-compute"
