#!/usr/bin/env bash
# Delete what earlier tests left in the lab's demo project: servers, ports, volume snapshots,
# volumes and images owned by demo. Shared resources made by the bootstrap (flavors, lab-net,
# lab-db-net, volume types) and the conversion hosts are kept (volumes attached to them are
# detached). Only ever acts on this checkout's lab: Keystone on
# 127.0.0.1 with the credentials generated in $LAB_DIR/openstack/secrets.env.
#
# usage: test/lab/openstack/reset.sh [--prefix NAME_PREFIX]
#   --prefix  only resources whose name starts with NAME_PREFIX (ports: also those of the deleted
#             servers). Use it when other test runs may share the lab at the same time.
#   LAB_DIR defaults to <checkout>/.lab, as in lab.sh.
set -euo pipefail
PREFIX=""
if [ "${1:-}" = --prefix ]; then
  PREFIX=${2:?--prefix needs a value}
elif [ -n "${1:-}" ]; then
  echo "usage: reset.sh [--prefix NAME_PREFIX]" >&2
  exit 2
fi
. "$(dirname "$0")/lib.sh"
[ -f "$SECRETS" ] || { echo "openstack lab reset: no lab state in $STATE (run: npm run lab -- up openstack)" >&2; exit 1; }
is_running keystone || { echo "openstack lab reset: this checkout's lab is not running (npm run lab -- up openstack)" >&2; exit 1; }
. "$SECRETS"
unset OS_CLOUD OS_CLIENT_CONFIG_FILE PYTHONPATH PYTHONHOME
exec env RESET_PREFIX="$PREFIX" CONVERSION_HOST_FILE="$CONVERSION_HOST_FILE" CONVERSION_HOST_2_FILE="$CONVERSION_HOST_2_FILE" KS="$KS" ADMIN_PW="$ADMIN_PW" DEMO_PW="$DEMO_PW" $PY "$HERE/py/reset.py"
