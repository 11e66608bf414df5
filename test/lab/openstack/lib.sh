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
# OpenStack's default ports: normally the lab is a single shared instance per machine. A second
# lab (another checkout) needs V2O_LAB_OS_PORT_OFFSET (e.g. 10000) on its first `up`; it is
# remembered in the state directory, as the catalog holds the ports.
OFFSET=${V2O_LAB_OS_PORT_OFFSET:-$(cat "$STATE/port-offset" 2>/dev/null || echo 0)}
KEYSTONE_PORT=$((5000 + OFFSET)) GLANCE_PORT=$((9292 + OFFSET)) PLACEMENT_PORT=$((8778 + OFFSET))
NOVA_PORT=$((8774 + OFFSET)) CINDER_PORT=$((8776 + OFFSET)) NEUTRON_PORT=$((9696 + OFFSET))
EPMD_PORT=$((4369 + OFFSET))
# Nova's metadata API (its default port 8775) and the lab's stand-in for Neutron's metadata proxy
# (Neutron's metadata_port default 9697), which is what the conversion host's 169.254.169.254 is
NOVA_METADATA_PORT=$((8775 + OFFSET)) METADATA_PORT=$((9697 + OFFSET))
# RabbitMQ's distribution port is the AMQP port + 20000 (25672): with offsets in steps of 10000 a
# second lab's AMQP port (20000 + 5672) would be the default lab's distribution port, so offset labs
# keep both RabbitMQ ports next to their epmd instead.
RABBIT_PORT=$((OFFSET == 0 ? 5672 : 4371 + OFFSET)) RABBIT_DIST_PORT=$((OFFSET == 0 ? 25672 : 4370 + OFFSET))
# PostgreSQL: the services keep the Unix socket; v2o's journal (issue 15) also gets TCP on 127.0.0.1,
# TLS only, on PostgreSQL's default port + offset. The port also names the socket file
# (<socket dir>/.s.PGSQL.<port>), so every socket client passes it too.
PG_PORT=$((5432 + OFFSET))
PG_SOCKET_DIR="$RUN/pg"
# the lab CA and the server certificate of the journal's TLS (ca.pem is what clients pin)
PG_TLS="$STATE/pg-tls"
KS="http://$H:$KEYSTONE_PORT"
METADATA_URL="http://$H:$METADATA_PORT/openstack/latest/meta_data.json"
# the devices each lab server's guest sees for its volumes: <DEVICES>/<instance uuid>/virtio-<id[:20]>
DEVICES="$STATE/devices"
# written by py/bootstrap_cloud.py: {"id", "name", "project_id"} of each conversion host (the
# second: a fleet's other worker, where `v2o reassign` moves a warm run's volumes)
CONVERSION_HOST_FILE="$STATE/conversion-host.json"
CONVERSION_HOST_NAME=v2o-conversion-host
CONVERSION_HOST_2_FILE="$STATE/conversion-host-2.json"
CONVERSION_HOST_2_NAME=v2o-conversion-host-2
ENCRYPTED_VOLUME_TYPE=lab-encrypted
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
SERVICES="epmd rabbitmq postgres keystone glance-api placement neutron-server nova-api nova-conductor nova-scheduler cinder-api cinder-scheduler cinder-volume nova-compute metadata-proxy"
