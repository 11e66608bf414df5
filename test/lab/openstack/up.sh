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
  # the conversion host (issue 14): the server v2o runs on, what its metadata service says, where
  # its guest's /dev/disk/by-id is (a booted guest has one: made here before any volume), and the
  # volume type whose volumes are encrypted; then a second conversion host (a fleet's other worker,
  # issue 15), named and found by name (the metadata service answers for the first only)
  CH_ID=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$CONVERSION_HOST_FILE")
  CH2_ID=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$CONVERSION_HOST_2_FILE")
  mkdir -p "$DEVICES/$CH_ID" "$DEVICES/$CH2_ID"
  echo "V2O_LAB_CONVERSION_HOST=$CH_ID"
  echo "V2O_LAB_CONVERSION_HOST_NAME=$CONVERSION_HOST_NAME"
  echo "V2O_LAB_METADATA_URL=$METADATA_URL"
  echo "V2O_LAB_CONVERSION_DEVICE_DIR=$DEVICES/$CH_ID"
  echo "V2O_LAB_CONVERSION_HOST_2=$CH2_ID"
  echo "V2O_LAB_CONVERSION_HOST_2_NAME=$CONVERSION_HOST_2_NAME"
  echo "V2O_LAB_CONVERSION_DEVICE_DIR_2=$DEVICES/$CH2_ID"
  echo "V2O_LAB_VOLUME_TYPE_ENCRYPTED=$ENCRYPTED_VOLUME_TYPE"
  # v2o's journal (issue 15) in the lab's PostgreSQL: over TCP with TLS, verified against the lab CA
  # (host name included), and the same database through the Unix socket. Quoted: the URLs hold `&`.
  V2O_DB_PW=$(sed -n 's/^V2O_DB_PW=//p' "$SECRETS")
  echo "V2O_LAB_JOURNAL='postgres://v2o:$V2O_DB_PW@$H:$PG_PORT/v2o?sslmode=verify-full&sslrootcert=$PG_TLS/ca.pem'"
  echo "V2O_LAB_PG_CA=$PG_TLS/ca.pem"
  echo "V2O_LAB_JOURNAL_SOCKET='postgres://v2o:$V2O_DB_PW@/v2o?host=$PG_SOCKET_DIR&port=$PG_PORT'"
} >"$LAB_DIR/openstack.env.tmp"
mv "$LAB_DIR/openstack.env.tmp" "$LAB_DIR/openstack.env"
echo "openstack lab: up in $(($(date +%s) - t0)) s (clouds v2o-lab, v2o-lab-admin in $STATE/clouds.yaml)"
