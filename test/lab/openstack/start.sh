#!/usr/bin/env bash
# Configure, start and bootstrap the lab OpenStack (Zed, Debian 12 packages) on 127.0.0.1,
# without systemd: PostgreSQL (private cluster), RabbitMQ, Keystone, Glance (file store,
# interoperable import), Placement, Nova (fake virt driver that reports the secure-boot and vTPM
# traits), Neutron (ML2, bind-anything mechanism driver, no agents) and Cinder (file-backed fake
# driver). Run setup.sh first.
# Waits until every API answers and nova-compute is mapped, then bootstraps (see py/).
# Idempotent: a second run starts only what is not running and re-checks the bootstrap.
#
# State (configs, databases, images, volumes, logs, pidfile, secrets) is in $LAB_DIR/openstack.
# Processes are started with setsid; "name pid starttime" lines go to run/pids, which stop.sh uses.
# env: V2O_LAB_OS_DEBUG=1  debug logging in the services
#      V2O_LAB_OS_PORT_OFFSET  added to every port (first start only; see lib.sh)
set -euo pipefail
umask 022
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
DEBUG=$([ "${V2O_LAB_OS_DEBUG:-0}" = 1 ] && echo True || echo False)
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
dburl() { echo "postgresql+psycopg2://postgres@/$1?host=$PG_SOCKET_DIR&port=$PG_PORT"; }
cd /
T0=$(date +%s.%N)
say() { printf '[openstack lab %5.1fs] %s\n' "$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{print b-a}')" "$*"; }
die() { echo "openstack lab: ERROR: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (PostgreSQL runs as user postgres; services bind system ports)"
for c in keystone-manage placement-manage uwsgi epmd curl qemu-img openssl; do
  command -v "$c" >/dev/null || [ -x "/usr/bin/$c" ] || die "$c missing: run test/lab/openstack/setup.sh first"
done
[ -x "$PGBIN/postgres" ] || die "postgresql server missing: run test/lab/openstack/setup.sh first"
# keep the caller's environment (pyenv, OS_CLOUD, ...) out of the services
unset PYTHONPATH PYTHONHOME OS_CLOUD OS_AUTH_URL OS_USERNAME OS_PASSWORD OS_PROJECT_NAME OS_TOKEN OS_CLIENT_CONFIG_FILE || true
export PATH="/usr/sbin:/usr/bin:/sbin:/bin"

STARTED=0
start_proc() {  # name cmd... ; detached, own session/process group, logs to $LOG/name.log
  local name=$1; shift
  if is_running "$name"; then say "$name already running"; return 0; fi
  STARTED=$((STARTED + 1))
  if [ -f "$PIDFILE" ]; then  # forget a dead earlier instance
    awk -v n="$name" '$1!=n' "$PIDFILE" >"$PIDFILE.tmp"; mv "$PIDFILE.tmp" "$PIDFILE"
  fi
  setsid "$@" >>"$LOG/$name.log" 2>&1 </dev/null &
  local pid=$!
  echo "$name $pid $(starttime $pid)" >>"$PIDFILE"
}
wait_http() {  # name url [timeout] : any HTTP answer < 500 counts
  local name=$1 url=$2 to=${3:-120} i=0 code
  while :; do
    code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$url") || code=000
    case "$code" in 2??|3??|401|404) return 0;; esac
    is_running "$name" || { tail -n 60 "$LOG/$name.log" >&2; die "$name died (see $LOG/$name.log)"; }
    i=$((i+1)); [ $i -gt $((to*4)) ] && { tail -n 60 "$LOG/$name.log" >&2; die "$name not answering on $url"; }
    sleep 0.25
  done
}
wait_port() {  # name port [timeout]
  local name=$1 port=$2 to=${3:-120} i=0
  until (exec 3<>"/dev/tcp/$H/$port") 2>/dev/null; do
    is_running "$name" || { tail -n 60 "$LOG/$name.log" >&2; die "$name died (see $LOG/$name.log)"; }
    i=$((i+1)); [ $i -gt $((to*4)) ] && die "$name not listening on $port"
    sleep 0.25
  done
}
port_taken_by_other() {  # name port : a listener we did not start holds the port
  is_running "$1" && return 1
  (exec 3<>"/dev/tcp/$H/$2") 2>/dev/null
}
console() {  # console-script wrapper (the service packages that ship them are not installed): name module
  printf '#!/usr/bin/python3\nimport sys\nfrom %s import main\nsys.exit(main())\n' "$2" >"$BIN/$1"
  chmod +x "$BIN/$1"
}

mkdir -p "$STATE" "$DATA" "$LOG" "$RUN" "$BIN" "$PYLIB"
if [ -f "$STATE/port-offset" ] && [ "$(cat "$STATE/port-offset")" != "$OFFSET" ]; then
  die "this lab was set up with V2O_LAB_OS_PORT_OFFSET=$(cat "$STATE/port-offset"); remove $STATE to change it"
fi
echo "$OFFSET" >"$STATE/port-offset"
mkdir -p "$DEVICES" "$DATA"/{rabbitmq/home,glance/images,glance/staging,glance/tasks,glance/lock,nova/instances,nova/lock,cinder/lock,cinder/volumes,cinder/conversion,neutron/lock}
# configs and secrets hold passwords: root only (postgres needs only DATA/pg and its socket directory RUN/pg)
(umask 077; mkdir -p "$ETC"/{keystone,glance,placement,nova,cinder,neutron,rabbitmq,postgres})
chmod 700 "$ETC"
for n in epmd:$EPMD_PORT rabbitmq:$RABBIT_PORT keystone:$KEYSTONE_PORT glance-api:$GLANCE_PORT \
  placement:$PLACEMENT_PORT nova-api:$NOVA_PORT nova-api:$NOVA_METADATA_PORT cinder-api:$CINDER_PORT \
  neutron-server:$NEUTRON_PORT metadata-proxy:$METADATA_PORT postgres:$PG_PORT; do
  port_taken_by_other "${n%%:*}" "${n#*:}" &&
    die "port ${n#*:} (${n%%:*}) is taken by a process this lab did not start (another OpenStack or lab checkout?); stop it first"
done

# Passwords: generated once per lab state, kept in secrets.env (mode 600). Keystone's
# bootstrap sets admin's on the first start; the demo and service users are updated each start.
if [ ! -f "$SECRETS" ]; then
  gen() { head -c 24 /dev/urandom | base64 | tr -d '/+=' | head -c 24; }
  (umask 077; printf 'ADMIN_PW=%s\nDEMO_PW=%s\nSVC_PW=%s\n' "$(gen)" "$(gen)" "$(gen)" >"$SECRETS")
fi
# added later than the first three: a lab made before gets them on its next start
grep -q '^METADATA_SECRET=' "$SECRETS" || printf 'METADATA_SECRET=%s\n' "$(head -c 24 /dev/urandom | base64 | tr -d '/+=' | head -c 24)" >>"$SECRETS"
# v2o's journal role (issue 15): alphanumeric, so it sits in a URL unescaped
grep -q '^V2O_DB_PW=' "$SECRETS" || printf 'V2O_DB_PW=%s\n' "$(head -c 24 /dev/urandom | base64 | tr -d '/+=' | head -c 24)" >>"$SECRETS"
grep -q '^FIXED_KEY=' "$SECRETS" || printf 'FIXED_KEY=%s\n' "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >>"$SECRETS"
# shellcheck disable=SC1090
. "$SECRETS"

# ---------------------------------------------------------------- configs
authtoken() {  # service user
cat <<EOF
[keystone_authtoken]
www_authenticate_uri = $KS
auth_url = $KS
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = $1
password = $SVC_PW
service_token_roles_required = true
EOF
}
ksauth() {  # [section] for a keystoneauth password plugin (service user)
cat <<EOF
[$1]
auth_type = password
auth_url = $KS/v3
project_domain_name = Default
user_domain_name = Default
project_name = service
username = $2
password = $SVC_PW
region_name = RegionOne
EOF
}

cat >"$ETC/keystone/keystone.conf" <<EOF
[DEFAULT]
debug = $DEBUG
[database]
connection = $(dburl keystone)
[identity]
# bcrypt cost 4 instead of 12: token issue ~15 ms instead of ~300 ms (test cloud only)
password_hash_rounds = 4
[token]
provider = fernet
expiration = 14400
[fernet_tokens]
key_repository = $DATA/keystone-fernet-keys
[fernet_receipts]
key_repository = $DATA/keystone-fernet-keys
[credential]
key_repository = $DATA/keystone-credential-keys
EOF
cat >"$ETC/keystone/wsgi.py" <<'EOF'
from keystone.server.wsgi import initialize_public_application
application = initialize_public_application()
EOF

cat >"$ETC/glance/glance-api.conf" <<EOF
[DEFAULT]
debug = $DEBUG
bind_host = $H
bind_port = $GLANCE_PORT
workers = 0
enabled_backends = fs:file
enabled_import_methods = [glance-direct,web-download,copy-image]
public_endpoint = http://$H:$GLANCE_PORT
[glance_store]
default_backend = fs
[fs]
filesystem_store_datadir = $DATA/glance/images/
[os_glance_staging_store]
filesystem_store_datadir = $DATA/glance/staging/
[os_glance_tasks_store]
filesystem_store_datadir = $DATA/glance/tasks/
[database]
connection = $(dburl glance)
[paste_deploy]
flavor = keystone
config_file = $ETC/glance/glance-api-paste.ini
[image_import_opts]
# image_conversion turns an imported VMDK/qcow2 into raw with qemu-img and, unlike a plain
# PUT, rejects unsafe images (e.g. a VMDK whose extent points at a host file)
image_import_plugins = [image_conversion]
[image_conversion]
output_format = raw
[oslo_concurrency]
lock_path = $DATA/glance/lock
$(authtoken glance)
EOF
cat >"$ETC/glance/glance-api-paste.ini" <<'EOF'
[pipeline:glance-api-keystone]
pipeline = cors healthcheck http_proxy_to_wsgi versionnegotiation osprofiler authtoken context rootapp
[composite:rootapp]
paste.composite_factory = glance.api:root_app_factory
/: apiversions
/v2: apiv2app
[app:apiversions]
paste.app_factory = glance.api.versions:create_resource
[app:apiv2app]
paste.app_factory = glance.api.v2.router:API.factory
[filter:healthcheck]
paste.filter_factory = oslo_middleware:Healthcheck.factory
[filter:versionnegotiation]
paste.filter_factory = glance.api.middleware.version_negotiation:VersionNegotiationFilter.factory
[filter:context]
paste.filter_factory = glance.api.middleware.context:ContextMiddleware.factory
[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
delay_auth_decision = true
[filter:osprofiler]
paste.filter_factory = osprofiler.web:WsgiMiddleware.factory
[filter:cors]
paste.filter_factory = oslo_middleware.cors:filter_factory
oslo_config_project = glance
oslo_config_program = glance-api
[filter:http_proxy_to_wsgi]
paste.filter_factory = oslo_middleware:HTTPProxyToWSGI.factory
EOF

cat >"$ETC/placement/placement.conf" <<EOF
[DEFAULT]
debug = $DEBUG
[api]
auth_strategy = keystone
[placement_database]
connection = $(dburl placement)
$(authtoken placement)
EOF
cat >"$ETC/placement/wsgi.py" <<'EOF'
from placement.wsgi import init_application
application = init_application()
EOF

cat >"$ETC/nova/nova.conf" <<EOF
[DEFAULT]
debug = $DEBUG
host = lab-compute-1
my_ip = $H
state_path = $DATA/nova
instances_path = $DATA/nova/instances
transport_url = rabbit://guest:guest@$H:$RABBIT_PORT/
# Nova's FakeDriver plus the traits Windows images ask for (py/v2o_lab_nova.py)
compute_driver = v2o_lab_nova.LabFakeDriver
# the metadata API too (Nova's default enabled_apis), behind the lab's metadata proxy
# (py/v2o_lab_metadata_proxy.py), which plays Neutron's metadata agent for the conversion host
enabled_apis = osapi_compute,metadata
osapi_compute_listen = $H
osapi_compute_listen_port = $NOVA_PORT
osapi_compute_workers = 1
metadata_listen = $H
metadata_listen_port = $NOVA_METADATA_PORT
metadata_workers = 1
use_rootwrap_daemon = false
# no random 0-60 s delay before periodic tasks (resource tracker etc.)
periodic_fuzzy_delay = 0
graceful_shutdown_timeout = 3
# the fake driver reports 1000 vCPU / 800 GB RAM / 600 TB disk
[api]
auth_strategy = keystone
[wsgi]
api_paste_config = $ETC/nova/api-paste.ini
[conductor]
workers = 1
[scheduler]
workers = 1
[oslo_concurrency]
lock_path = $DATA/nova/lock
[oslo_messaging_notifications]
driver = noop
[vnc]
enabled = false
[cinder]
os_region_name = RegionOne
$(authtoken nova)
$(ksauth placement nova)
valid_interfaces = public
$(ksauth neutron nova)
valid_interfaces = public
# requests come through a metadata proxy that names the instance (X-Instance-ID) and signs it
# (nova/api/metadata/handler.py _handle_instance_id_request), as Neutron's metadata agent does
service_metadata_proxy = true
metadata_proxy_shared_secret = $METADATA_SECRET
$(ksauth glance nova)
valid_interfaces = public
# cinder (OSSA-2023-003 fix) only lets nova delete in-use attachments when the call
# carries a service token of a user with the "service" role
$(ksauth service_user nova)
send_service_user_token = true
EOF
# DB settings only for the controller services: nova-compute must not have them
cat >"$ETC/nova/nova-db.conf" <<EOF
[api_database]
connection = $(dburl nova_api)
[database]
connection = $(dburl nova_cell1)
EOF
cat >"$ETC/nova/api-paste.ini" <<'EOF'
[composite:osapi_compute]
use = call:nova.api.openstack.urlmap:urlmap_factory
/: oscomputeversions
/v2.1: oscomputeversion_v2
/v2.1/+: openstack_compute_api_v21
[composite:openstack_compute_api_v21]
use = call:nova.api.auth:pipeline_factory_v21
keystone = cors http_proxy_to_wsgi compute_req_id faultwrap request_log sizelimit osprofiler authtoken keystonecontext osapi_compute_app_v21
[filter:request_log]
paste.filter_factory = nova.api.openstack.requestlog:RequestLog.factory
[filter:compute_req_id]
paste.filter_factory = nova.api.compute_req_id:ComputeReqIdMiddleware.factory
[filter:faultwrap]
paste.filter_factory = nova.api.openstack:FaultWrapper.factory
[filter:osprofiler]
paste.filter_factory = nova.profiler:WsgiMiddleware.factory
[filter:sizelimit]
paste.filter_factory = oslo_middleware:RequestBodySizeLimiter.factory
[filter:http_proxy_to_wsgi]
paste.filter_factory = oslo_middleware.http_proxy_to_wsgi:HTTPProxyToWSGI.factory
[app:osapi_compute_app_v21]
paste.app_factory = nova.api.openstack.compute:APIRouterV21.factory
[pipeline:oscomputeversions]
pipeline = cors faultwrap request_log http_proxy_to_wsgi oscomputeversionapp
[pipeline:oscomputeversion_v2]
pipeline = cors compute_req_id faultwrap request_log http_proxy_to_wsgi oscomputeversionapp_v2
[app:oscomputeversionapp]
paste.app_factory = nova.api.openstack.compute.versions:Versions.factory
[app:oscomputeversionapp_v2]
paste.app_factory = nova.api.openstack.compute.versions:VersionsV2.factory
[filter:cors]
paste.filter_factory = oslo_middleware.cors:filter_factory
oslo_config_project = nova
[filter:keystonecontext]
paste.filter_factory = nova.api.auth:NovaKeystoneContext.factory
[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
# the metadata API, as Nova's own etc/nova/api-paste.ini has it
[composite:metadata]
use = call:nova.api.openstack.urlmap:urlmap_factory
/: meta
[pipeline:meta]
pipeline = cors http_proxy_to_wsgi metaapp
[app:metaapp]
paste.app_factory = nova.api.metadata.handler:MetadataRequestHandler.factory
EOF

cat >"$ETC/cinder/cinder.conf" <<EOF
[DEFAULT]
debug = $DEBUG
host = lab-volume-1
graceful_shutdown_timeout = 3
state_path = $DATA/cinder
transport_url = rabbit://guest:guest@$H:$RABBIT_PORT/
auth_strategy = keystone
osapi_volume_listen = $H
osapi_volume_listen_port = $CINDER_PORT
osapi_volume_workers = 1
api_paste_config = $ETC/cinder/api-paste.ini
enabled_backends = lab
default_volume_type = lab
glance_api_servers = http://$H:$GLANCE_PORT
image_conversion_dir = $DATA/cinder/conversion
rootwrap_config = /nonexistent
[lab]
volume_driver = v2o_lab_cinder.FileBackedFakeDriver
volume_backend_name = lab
[database]
connection = $(dburl cinder)
[oslo_concurrency]
lock_path = $DATA/cinder/lock
[oslo_messaging_notifications]
driver = noop
[key_manager]
# Cinder's fixed-key manager (cinder/keymgr/conf_key_mgr.py, "insecure, not for production"): every
# encrypted volume gets the key id 00000000-0000-0000-0000-000000000000 and the key fixed_key, so
# a volume type with an encryption spec works without Barbican; its volumes show encrypted: true
backend = cinder.keymgr.conf_key_mgr.ConfKeyManager
fixed_key = $FIXED_KEY
$(authtoken cinder)
$(ksauth nova cinder)
EOF
cat >"$ETC/cinder/api-paste.ini" <<'EOF'
[composite:osapi_volume]
use = call:cinder.api:root_app_factory
/: apiversions
/healthcheck: healthcheck
/v3: openstack_volume_api_v3
[composite:openstack_volume_api_v3]
use = call:cinder.api.middleware.auth:pipeline_factory
keystone = cors http_proxy_to_wsgi request_id faultwrap sizelimit osprofiler authtoken keystonecontext apiv3
[filter:request_id]
paste.filter_factory = oslo_middleware.request_id:RequestId.factory
[filter:http_proxy_to_wsgi]
paste.filter_factory = oslo_middleware.http_proxy_to_wsgi:HTTPProxyToWSGI.factory
[filter:cors]
paste.filter_factory = oslo_middleware.cors:filter_factory
oslo_config_project = cinder
[filter:faultwrap]
paste.filter_factory = cinder.api.middleware.fault:FaultWrapper.factory
[filter:osprofiler]
paste.filter_factory = osprofiler.web:WsgiMiddleware.factory
[filter:sizelimit]
paste.filter_factory = oslo_middleware.sizelimit:RequestBodySizeLimiter.factory
[app:apiv3]
paste.app_factory = cinder.api.v3.router:APIRouter.factory
[pipeline:apiversions]
pipeline = cors http_proxy_to_wsgi faultwrap osvolumeversionapp
[app:osvolumeversionapp]
paste.app_factory = cinder.api.versions:Versions.factory
[filter:keystonecontext]
paste.filter_factory = cinder.api.middleware.auth:CinderKeystoneContext.factory
[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
[app:healthcheck]
paste.app_factory = oslo_middleware:Healthcheck.app_factory
backends = disable_by_file
disable_by_file_path = /nonexistent
EOF

cat >"$ETC/rabbitmq/rabbitmq.conf" <<EOF
listeners.tcp.1 = $H:$RABBIT_PORT
loopback_users.guest = true
log.console = true
log.console.level = warning
log.file = false
disk_free_limit.absolute = 50MB
EOF
echo '[].' >"$ETC/rabbitmq/enabled_plugins"
: >"$ETC/rabbitmq/rabbitmq-env.conf"


for c in glance-api:glance.cmd.api glance-manage:glance.cmd.manage nova-manage:nova.cmd.manage \
  nova-api:nova.cmd.api nova-conductor:nova.cmd.conductor nova-scheduler:nova.cmd.scheduler \
  nova-compute:nova.cmd.compute cinder-manage:cinder.cmd.manage cinder-api:cinder.cmd.api \
  cinder-scheduler:cinder.cmd.scheduler cinder-volume:cinder.cmd.volume \
  neutron-server:neutron.cmd.eventlet.server neutron-db-manage:neutron.db.migration.cli; do
  console "${c%%:*}" "${c#*:}"
done
# Nova loads compute_driver only from the nova.virt package: register the lab driver there,
# after nova.cmd has done its eventlet monkey-patching (which must come before other imports)
cat >"$BIN/nova-compute" <<'PYEOF'
#!/usr/bin/python3
import sys
from nova.cmd.compute import main
import v2o_lab_nova
sys.modules["nova.virt.v2o_lab_nova"] = v2o_lab_nova
sys.exit(main())
PYEOF

cat >"$ETC/neutron/neutron.conf" <<EOF
[DEFAULT]
debug = $DEBUG
bind_host = $H
bind_port = $NEUTRON_PORT
state_path = $DATA/neutron
core_plugin = ml2
service_plugins =
auth_strategy = keystone
transport_url = rabbit://guest:guest@$H:$RABBIT_PORT/
api_workers = 1
rpc_workers = 1
rpc_state_report_workers = 0
api_paste_config = $ETC/neutron/api-paste.ini
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
dhcp_agent_notification = false
graceful_shutdown_timeout = 3
[database]
connection = $(dburl neutron)
[oslo_concurrency]
lock_path = $DATA/neutron/lock
[ml2]
type_drivers = local,flat,vlan
tenant_network_types = local
mechanism_drivers = v2o_lab_bind
extension_drivers = port_security
[ml2_type_flat]
flat_networks = *
[ml2_type_vlan]
network_vlan_ranges = physnet1:100:199
[securitygroup]
enable_security_group = true
$(authtoken neutron)
EOF
cat >"$ETC/neutron/api-paste.ini" <<'EOF'
[composite:neutron]
use = egg:Paste#urlmap
/: neutronversions_composite
/v2.0: neutronapi_v2_0
[composite:neutronapi_v2_0]
use = call:neutron.auth:pipeline_factory
keystone = cors http_proxy_to_wsgi request_id catch_errors osprofiler authtoken keystonecontext extensions neutronapiapp_v2_0
[composite:neutronversions_composite]
use = call:neutron.auth:pipeline_factory
keystone = cors http_proxy_to_wsgi neutronversions
[filter:request_id]
paste.filter_factory = oslo_middleware:RequestId.factory
[filter:catch_errors]
paste.filter_factory = oslo_middleware:CatchErrors.factory
[filter:cors]
paste.filter_factory = oslo_middleware.cors:filter_factory
oslo_config_project = neutron
[filter:http_proxy_to_wsgi]
paste.filter_factory = oslo_middleware.http_proxy_to_wsgi:HTTPProxyToWSGI.factory
[filter:keystonecontext]
paste.filter_factory = neutron.auth:NeutronKeystoneContext.factory
[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
[filter:extensions]
paste.filter_factory = neutron.api.extensions:plugin_aware_extension_middleware_factory
[app:neutronversions]
paste.app_factory = neutron.pecan_wsgi.app:versions_factory
[app:neutronapiapp_v2_0]
paste.app_factory = neutron.api.v2.router:APIRouter.factory
[filter:osprofiler]
paste.filter_factory = osprofiler.web:WsgiMiddleware.factory
EOF

# the lab's own Python plugins (py/), importable by neutron-server, cinder-volume and nova-compute via
# PYTHONPATH; ML2 finds mechanism drivers only through entry points, hence the dist-info
cp "$HERE/py/v2o_lab_ml2.py" "$HERE/py/v2o_lab_cinder.py" "$HERE/py/v2o_lab_nova.py" \
  "$HERE/py/v2o_lab_firstboot.py" "$HERE/py/v2o_lab_metadata_proxy.py" "$PYLIB/"
mkdir -p "$PYLIB/v2o_lab_ml2-1.0.dist-info"
printf 'Metadata-Version: 2.1\nName: v2o-lab-ml2\nVersion: 1.0\n' >"$PYLIB/v2o_lab_ml2-1.0.dist-info/METADATA"
printf '[neutron.ml2.mechanism_drivers]\nv2o_lab_bind = v2o_lab_ml2:BindAnythingMechanismDriver\n' \
  >"$PYLIB/v2o_lab_ml2-1.0.dist-info/entry_points.txt"

cat >"$ETC/rabbitmq/rabbitmq.conf" <<EOF
listeners.tcp.1 = $H:$RABBIT_PORT
loopback_users.guest = true
log.console = true
log.console.level = warning
log.file = false
disk_free_limit.absolute = 50MB
EOF
echo '[].' >"$ETC/rabbitmq/enabled_plugins"
: >"$ETC/rabbitmq/rabbitmq-env.conf"

# ---------------------------------------------------------------- postgresql: v2o's journal (issue 15)
# The services keep the Unix socket (trust, as before). v2o's journal gets a `v2o` role with a
# password and TCP on 127.0.0.1 with TLS only, so that the URL v2o is tested with is one a fleet
# uses: postgres://v2o:<pw>@127.0.0.1:<port>/v2o?sslmode=verify-full&sslrootcert=<lab CA>.
# A lab CA of its own (pg-tls/ca.pem) and a server certificate for 127.0.0.1 and localhost signed
# by it: verify-full checks both the chain and that the host name is in the certificate (libpq:
# https://www.postgresql.org/docs/15/libpq-ssl.html, "SSL Mode Descriptions").
mkdir -p "$PG_TLS"
if [ ! -f "$PG_TLS/server.pem" ] || [ ! -f "$PG_TLS/ca.pem" ] || [ ! -f "$PG_TLS/server.key" ]; then
  (umask 077
   openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=v2o lab PostgreSQL CA" \
     -keyout "$PG_TLS/ca.key" -out "$PG_TLS/ca.pem" \
     -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
   openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$PG_TLS/server.key" \
     -out "$PG_TLS/server.csr" 2>/dev/null
   printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >"$PG_TLS/server.ext"
   openssl x509 -req -in "$PG_TLS/server.csr" -CA "$PG_TLS/ca.pem" -CAkey "$PG_TLS/ca.key" -CAcreateserial \
     -days 825 -extfile "$PG_TLS/server.ext" -out "$PG_TLS/server.pem" 2>/dev/null)
  chmod 644 "$PG_TLS/ca.pem" "$PG_TLS/server.pem"
  say "generated the PostgreSQL lab CA and server certificate in $PG_TLS"
fi
chmod 755 "$PG_TLS"
# pg_hba.conf: the first line matching connection type, database, user and address decides, and no
# match is a refusal (https://www.postgresql.org/docs/15/auth-pg-hba-conf.html). `hostssl` matches
# only TCP connections made with SSL, so v2o over TCP without TLS matches nothing and is refused;
# scram-sha-256 is the challenge-response password method that never sends the password and stores
# only a salted verifier (https://www.postgresql.org/docs/15/auth-password.html). The v2o role needs
# its password on the socket too, so the socket URL is tested with the same credentials.
cat >"$ETC/postgres/pg_hba.conf" <<EOF
# written by test/lab/openstack/start.sh
# TYPE     DATABASE  USER  ADDRESS       METHOD
local      all       v2o                 scram-sha-256
local      all       all                 trust
hostssl    all       v2o   127.0.0.1/32  scram-sha-256
host       all       all   0.0.0.0/0     reject
host       all       all   ::/0          reject
EOF

# A service keeps the config and plugin code it started with: when they changed since the running
# services started (a checkout with new lab code, e.g. the metadata API), restart them all.
CONFIG_SUM=$(cat "$ETC"/*/*.conf "$ETC"/*/*.ini "$PYLIB"/*.py "$PG_TLS/server.pem" "$0" | sha256sum | cut -d' ' -f1)
any_running=0
for s in $SERVICES; do is_running "$s" && any_running=1; done
if [ $any_running = 1 ] && [ "$(cat "$RUN/config-sum" 2>/dev/null)" != "$CONFIG_SUM" ]; then
  say "the lab's configs or plugins changed since its services started: restarting them"
  bash "$HERE/stop.sh"
  STARTED=0
fi
mkdir -p "$RUN"
echo "$CONFIG_SUM" >"$RUN/config-sum"

# ---------------------------------------------------------------- rabbitmq
say "starting epmd + rabbitmq"
start_proc epmd /usr/bin/epmd -address $H -port "$EPMD_PORT"
mkdir -p "$DATA/rabbitmq/home"
start_proc rabbitmq env HOME="$DATA/rabbitmq/home" ERL_EPMD_ADDRESS=$H ERL_EPMD_PORT="$EPMD_PORT" \
  RABBITMQ_CONF_ENV_FILE="$ETC/rabbitmq/rabbitmq-env.conf" \
  RABBITMQ_CONFIG_FILE="$ETC/rabbitmq/rabbitmq.conf" \
  RABBITMQ_ENABLED_PLUGINS_FILE="$ETC/rabbitmq/enabled_plugins" \
  RABBITMQ_NODENAME=rabbit@localhost RABBITMQ_NODE_IP_ADDRESS=$H RABBITMQ_NODE_PORT="$RABBIT_PORT" \
  RABBITMQ_DIST_PORT="$RABBIT_DIST_PORT" RABBITMQ_MNESIA_BASE="$DATA/rabbitmq/mnesia" \
  RABBITMQ_LOG_BASE="$LOG" RABBITMQ_LOGS=- RABBITMQ_PID_FILE="$RUN/rabbitmq.pid" \
  RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1} +sbwt none +sbwtdcpu none +sbwtdio none" \
  /usr/lib/rabbitmq/bin/rabbitmq-server

# ---------------------------------------------------------------- postgresql
# SQLite is not usable: nova-conductor/-api/-compute hit "database is locked", and so does
# Keystone under uwsgi. A private cluster on a unix socket only (no TCP port to collide with).
AS_PG="setpriv --reuid=postgres --regid=postgres --init-groups"
mkdir -p "$PG_SOCKET_DIR"; chown postgres:postgres "$PG_SOCKET_DIR"
# a unix socket path is limited to 107 bytes
[ ${#RUN} -le 80 ] || die "lab directory path too long for PostgreSQL's socket ($RUN); set V2O_LAB_DIR to a shorter path"
$AS_PG test -x "$PG_SOCKET_DIR" ||
  die "user postgres cannot reach $RUN (every parent directory needs o+x); set V2O_LAB_DIR to e.g. /var/tmp/v2o-lab"
if [ ! -f "$DATA/pg/PG_VERSION" ]; then
  say "initdb"
  mkdir -p "$DATA/pg"; chown postgres:postgres "$DATA/pg"; chmod 700 "$DATA/pg"
  $AS_PG "$PGBIN/initdb" -D "$DATA/pg" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$LOG/initdb.log" 2>&1 ||
    { cat "$LOG/initdb.log"; die "initdb failed (see above)"; }
fi
# The server's key must belong to the server's user with mode 0600 or less (else it refuses to start:
# https://www.postgresql.org/docs/15/ssl-tcp.html, 19.9.1 "Basic Setup"), so the cluster gets copies.
install -o postgres -g postgres -m 600 "$PG_TLS/server.key" "$DATA/pg/v2o-lab-server.key"
install -o postgres -g postgres -m 644 "$PG_TLS/server.pem" "$DATA/pg/v2o-lab-server.pem"
install -o postgres -g postgres -m 600 "$ETC/postgres/pg_hba.conf" "$DATA/pg/pg_hba.conf"
# Durability off: this is a throw-away test cloud. TCP on 127.0.0.1 only; ssl = on makes the server
# accept TLS on that port with the given certificate and key, and password_encryption = scram-sha-256
# makes ALTER ROLE … PASSWORD store a SCRAM verifier
# (https://www.postgresql.org/docs/15/runtime-config-connection.html: listen_addresses, port, ssl,
# ssl_cert_file, ssl_key_file, ssl_min_protocol_version, password_encryption).
start_proc postgres $AS_PG "$PGBIN/postgres" -D "$DATA/pg" -c listen_addresses=$H -c port="$PG_PORT" \
  -c unix_socket_directories="$PG_SOCKET_DIR" -c max_connections=400 -c shared_buffers=64MB \
  -c ssl=on -c ssl_cert_file="$DATA/pg/v2o-lab-server.pem" -c ssl_key_file="$DATA/pg/v2o-lab-server.key" \
  -c ssl_min_protocol_version=TLSv1.2 -c password_encryption=scram-sha-256 \
  -c hba_file="$DATA/pg/pg_hba.conf" \
  -c fsync=off -c synchronous_commit=off -c full_page_writes=off
psql_pg() { "$PGBIN/psql" -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U postgres "$@"; }
for _ in $(seq 1 240); do
  "$PGBIN/pg_isready" -q -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U postgres && break
  is_running postgres || { tail -n 30 "$LOG/postgres.log"; die "postgres died (see $LOG/postgres.log)"; }
  sleep 0.25
done
"$PGBIN/pg_isready" -q -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U postgres || die "postgres not ready"
for d in keystone glance placement nova_api nova_cell0 nova_cell1 cinder neutron; do
  [ "$(psql_pg -tAc "SELECT 1 FROM pg_database WHERE datname='$d'")" = 1 ] ||
    psql_pg -q -c "CREATE DATABASE $d"
done
# v2o's role and database, on every start (the password follows secrets.env). CREATEDB: tests make
# databases of their own (one per test run or suite) and drop them. The password travels in this
# statement over the socket; the server stores only its SCRAM verifier.
psql_pg -q -v ON_ERROR_STOP=1 -v pw="$V2O_DB_PW" >/dev/null <<'SQL' || die "could not create the v2o role and database"
SELECT 'CREATE ROLE v2o' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'v2o')\gexec
ALTER ROLE v2o WITH LOGIN CREATEDB NOSUPERUSER NOCREATEROLE PASSWORD :'pw';
SELECT 'CREATE DATABASE v2o OWNER v2o' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'v2o')\gexec
SQL
# Nova keeps each cell's database URL in nova_api.cell_mappings (written once, by map_cell0 and
# create_cell). A lab made before the socket URLs carried the port has URLs without it, which in an
# offset lab name a socket file (.s.PGSQL.5432) that no longer exists: bring them to dburl's.
if [ -f "$DATA/.db-initialized" ]; then
  for c in nova_cell0 nova_cell1; do
    psql_pg -d nova_api -q -v ON_ERROR_STOP=1 -c "UPDATE cell_mappings SET database_connection = '$(dburl $c)'
      WHERE database_connection LIKE '%/$c?%' AND database_connection <> '$(dburl $c)'" >/dev/null ||
      die "could not update Nova's cell mapping of $c"
  done
fi
say "postgres up"

# ---------------------------------------------------------------- databases (first start only)
# four independent chains run in parallel; each service starts as soon as its chain is done
FRESH=0; [ -f "$DATA/.db-initialized" ] || FRESH=1
declare -A DBJOB=()
dbjob() { local n=$1; shift; ( set -e; "$@" ) >"$LOG/db-$n.log" 2>&1 & DBJOB[$n]=$!; }
dbwait() {
  [ -n "${DBJOB[$1]:-}" ] || return 0
  wait "${DBJOB[$1]}" || { tail -n 40 "$LOG/db-$1.log" >&2; die "db init '$1' failed (see $LOG/db-$1.log)"; }
  unset "DBJOB[$1]"
}
KM="keystone-manage --config-file $ETC/keystone/keystone.conf"
NM="$BIN/nova-manage --config-file $ETC/nova/nova.conf --config-file $ETC/nova/nova-db.conf"
init_keystone() {
  $KM db_sync
  $KM fernet_setup --keystone-user root --keystone-group root
  $KM credential_setup --keystone-user root --keystone-group root
  $KM bootstrap --bootstrap-password "$ADMIN_PW" --bootstrap-username admin --bootstrap-project-name admin \
    --bootstrap-role-name admin --bootstrap-service-name keystone --bootstrap-region-id RegionOne \
    --bootstrap-admin-url "$KS/v3" --bootstrap-public-url "$KS/v3" --bootstrap-internal-url "$KS/v3"
}
init_misc() {
  "$BIN/glance-manage" --config-file "$ETC/glance/glance-api.conf" db_sync
  placement-manage --config-file "$ETC/placement/placement.conf" db sync
  "$BIN/cinder-manage" --config-file "$ETC/cinder/cinder.conf" db sync
}
init_nova() {
  $NM api_db sync
  $NM cell_v2 map_cell0 --database_connection "$(dburl nova_cell0)"
  $NM cell_v2 create_cell --name cell1 --verbose >/dev/null
  $NM db sync
}
init_neutron() {
  env PYTHONPATH="$PYLIB" "$BIN/neutron-db-manage" --config-file "$ETC/neutron/neutron.conf" upgrade heads
}
if [ $FRESH = 1 ]; then
  say "initialising databases"
  dbjob keystone init_keystone
  dbjob misc init_misc
  dbjob nova init_nova
  dbjob neutron init_neutron
fi

# ---------------------------------------------------------------- API services
# one thread per uwsgi worker (as the services expect). uwsgi's --http-socket answers one
# request per connection but does not say so: without an explicit "Connection: close",
# keep-alive clients (Node's fetch/undici, python-requests) reuse a socket uwsgi already closed.
UW="uwsgi --plugins python3 --master --lazy-apps --threads 1 --enable-threads --die-on-term --need-app --buffer-size 65535 --socket-timeout 300 --add-header Connection:close"
dbwait keystone
start_proc keystone $UW --processes 2 --http-socket "$H:$KEYSTONE_PORT" --wsgi-file "$ETC/keystone/wsgi.py" --env "OS_KEYSTONE_CONFIG_DIR=$ETC/keystone"
wait_port rabbitmq "$RABBIT_PORT" 120 &
wr=$!
wait_http keystone "$KS/v3" 120
say "keystone up"
# The bootstrap is idempotent but takes ~10 s; skip it when nothing had to be started and it
# already ran to the end with the same scripts and secrets (a second `up` is then ~1 s).
BOOTSTRAP_SUM=$(cat "$HERE"/py/bootstrap_*.py "$SECRETS" | sha256sum | cut -d' ' -f1)
BOOTSTRAPPED=0
[ "$(cat "$DATA/.bootstrapped" 2>/dev/null)" = "$BOOTSTRAP_SUM" ] && [ -f "$CONVERSION_HOST_FILE" ] &&
  [ -f "$CONVERSION_HOST_2_FILE" ] && BOOTSTRAPPED=1
if [ $STARTED = 0 ] && [ $BOOTSTRAPPED = 1 ]; then
  say "keystone bootstrap already done"
else
  rm -f "$DATA/.bootstrapped"
  env KS="$KS" H="$H" ADMIN_PW="$ADMIN_PW" DEMO_PW="$DEMO_PW" SVC_PW="$SVC_PW" GLANCE_PORT=$GLANCE_PORT \
    PLACEMENT_PORT=$PLACEMENT_PORT NOVA_PORT=$NOVA_PORT CINDER_PORT=$CINDER_PORT NEUTRON_PORT=$NEUTRON_PORT \
    $PY "$HERE/py/bootstrap_identity.py"
fi

dbwait misc
start_proc glance-api "$BIN/glance-api" --config-file "$ETC/glance/glance-api.conf"
start_proc placement $UW --processes 1 --http-socket "$H:$PLACEMENT_PORT" --wsgi-file "$ETC/placement/wsgi.py" --env "OS_PLACEMENT_CONFIG_DIR=$ETC/placement"
dbwait neutron
# Nova calls Neutron even for servers with "networks": "none" (ports on every server GET and
# delete), so a real neutron-server always runs.
start_proc neutron-server env PYTHONPATH="$PYLIB" "$BIN/neutron-server" --config-file "$ETC/neutron/neutron.conf"
wait $wr || die "rabbitmq did not come up (see $LOG/rabbitmq.log)"
say "rabbitmq up"
dbwait nova
touch "$DATA/.db-initialized"
say "databases ready"
# nova-compute must NOT get the DB settings (nova-db.conf): it reaches the DB only through
# nova-conductor and blocks direct DB access
NC="--config-file $ETC/nova/nova.conf --config-file $ETC/nova/nova-db.conf"
start_proc nova-api "$BIN/nova-api" $NC
start_proc nova-conductor "$BIN/nova-conductor" $NC
start_proc nova-scheduler "$BIN/nova-scheduler" $NC
CC="--config-file $ETC/cinder/cinder.conf"
start_proc cinder-api "$BIN/cinder-api" $CC
start_proc cinder-scheduler "$BIN/cinder-scheduler" $CC
start_proc cinder-volume env PYTHONPATH="$PYLIB" "$BIN/cinder-volume" $CC
wait_http placement "http://$H:$PLACEMENT_PORT/" 180
say "placement up"
# the lab driver reads boot disks from Glance's file store and the Cinder driver's files, and
# records each boot decision for tests (py/v2o_lab_nova.py)
start_proc nova-compute env PYTHONPATH="$PYLIB" V2O_LAB_GLANCE_IMAGES="$DATA/glance/images" \
  V2O_LAB_CINDER_VOLUMES="$DATA/cinder/volumes" V2O_LAB_NOVA_BOOT_LOG="$STATE/nova-boot.log" \
  V2O_LAB_DEVICES="$DEVICES" "$BIN/nova-compute" --config-file "$ETC/nova/nova.conf"
start_proc metadata-proxy env V2O_LAB_METADATA_LISTEN="$METADATA_PORT" \
  V2O_LAB_NOVA_METADATA="http://$H:$NOVA_METADATA_PORT" V2O_LAB_METADATA_SECRET="$METADATA_SECRET" \
  V2O_LAB_CONVERSION_HOST_FILE="$CONVERSION_HOST_FILE" $PY "$PYLIB/v2o_lab_metadata_proxy.py"
wait_http glance-api "http://$H:$GLANCE_PORT/healthcheck" 180
say "glance up"
wait_http nova-api "http://$H:$NOVA_PORT/" 180
say "nova-api up"
wait_http neutron-server "http://$H:$NEUTRON_PORT/" 180
say "neutron-server up"
wait_http cinder-api "http://$H:$CINDER_PORT/" 180
say "cinder-api up"
wait_http nova-api "http://$H:$NOVA_METADATA_PORT/" 60
wait_http metadata-proxy "http://$H:$METADATA_PORT/" 60
say "metadata up"

if [ $STARTED = 0 ] && [ $BOOTSTRAPPED = 1 ]; then
  say "cloud bootstrap already done"
else
  env KS="$KS" ADMIN_PW="$ADMIN_PW" DEMO_PW="$DEMO_PW" NOVA_MANAGE="$NM" METADATA_URL="$METADATA_URL" \
    CONVERSION_HOST_FILE="$CONVERSION_HOST_FILE" CONVERSION_HOST_NAME="$CONVERSION_HOST_NAME" \
    CONVERSION_HOST_2_FILE="$CONVERSION_HOST_2_FILE" CONVERSION_HOST_2_NAME="$CONVERSION_HOST_2_NAME" \
    ENCRYPTED_VOLUME_TYPE="$ENCRYPTED_VOLUME_TYPE" $PY "$HERE/py/bootstrap_cloud.py"
  echo "$BOOTSTRAP_SUM" >"$DATA/.bootstrapped"
  say "nova-compute registered and discovered; flavors, quotas, networks, volume types, conversion host ready"
fi

# ---------------------------------------------------------------- credentials for clients
cloud() {  # name user password project
cat <<YAML
  $1:
    auth:
      auth_url: $KS/v3
      username: $2
      password: '$3'
      project_name: $4
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    interface: public
    identity_api_version: 3
YAML
}
(umask 077
 { echo "# written by test/lab/openstack/start.sh; the lab's own credentials (127.0.0.1 only)"
   echo "clouds:"
   cloud v2o-lab demo "$DEMO_PW" demo
   cloud v2o-lab-admin admin "$ADMIN_PW" admin
 } >"$STATE/clouds.yaml.tmp"
 mv "$STATE/clouds.yaml.tmp" "$STATE/clouds.yaml")
say "all services up; clouds.yaml in $STATE; logs in $LOG"
