#!/usr/bin/env bash
# `npm run lab -- down openstack`: stop only what up.sh started; the state stays in
# $LAB_DIR/openstack, so the next `up` restarts it in ~20 s. To start from nothing, remove
# that directory after `down`.
set -euo pipefail
exec bash "$(dirname "$0")/stop.sh"
