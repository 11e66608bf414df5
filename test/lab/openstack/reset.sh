#!/usr/bin/env bash
# Delete what earlier tests left in the lab's demo project: servers, ports, volume snapshots,
# volumes and images owned by demo. Shared resources made by the bootstrap (flavors, lab-net,
# lab-db-net, volume type) are kept. Only ever acts on this checkout's lab: Keystone on
# 127.0.0.1 with the credentials generated in $LAB_DIR/openstack/secrets.env.
#
# usage: test/lab/openstack/reset.sh   (LAB_DIR defaults to <checkout>/.lab, as in lab.sh)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
[ -f "$SECRETS" ] || { echo "openstack lab reset: no lab state in $STATE (run: npm run lab -- up openstack)" >&2; exit 1; }
is_running keystone || { echo "openstack lab reset: this checkout's lab is not running (npm run lab -- up openstack)" >&2; exit 1; }
. "$SECRETS"
unset OS_CLOUD OS_CLIENT_CONFIG_FILE PYTHONPATH PYTHONHOME
exec env KS="$KS" ADMIN_PW="$ADMIN_PW" DEMO_PW="$DEMO_PW" $PY "$HERE/py/reset.py"
