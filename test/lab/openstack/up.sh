#!/usr/bin/env bash
# `npm run lab -- up openstack`: install (first time), start and bootstrap the OpenStack lab,
# then write $LAB_DIR/openstack.env for lab.sh. Idempotent: a second run reuses what runs.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
t0=$(date +%s)
bash "$HERE/setup.sh"
bash "$HERE/start.sh"
{
  echo "OS_CLIENT_CONFIG_FILE=$STATE/clouds.yaml"
  echo "OS_CLOUD=v2o-lab"
  echo "V2O_LAB_OS_ADMIN_CLOUD=v2o-lab-admin"
  echo "V2O_LAB_NOVA_BOOT_LOG=$STATE/nova-boot.log"
} >"$LAB_DIR/openstack.env.tmp"
mv "$LAB_DIR/openstack.env.tmp" "$LAB_DIR/openstack.env"
echo "openstack lab: up in $(($(date +%s) - t0)) s (clouds v2o-lab, v2o-lab-admin in $STATE/clouds.yaml)"
