#!/usr/bin/env bash
# The labs: govmomi's vCenter simulator and a real OpenStack on 127.0.0.1.
#
#   npm run lab -- up [vsphere|openstack|all]   install (first time) and start; idempotent
#   npm run lab -- down [vsphere|openstack|all] stop only what `up` started
#   npm run lab -- status                       what runs, and the variables in .lab/lab.env
#
# Each part writes .lab/<part>.env; this script joins them into .lab/lab.env, which
# tests, the demo and a user's shell (`set -a; . .lab/lab.env`) read.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LAB_DIR=${V2O_LAB_DIR:-$ROOT/.lab}
export LAB_DIR ROOT
mkdir -p "$LAB_DIR"

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
parts() {
  case "${1:-all}" in
    all) echo "vsphere openstack" ;;
    vsphere | openstack) echo "$1" ;;
    *) echo "lab: unknown part '$1' (expected vsphere, openstack or all)" >&2; exit 2 ;;
  esac
}
join_env() {
  {
    echo "# written by test/lab/lab.sh; source with: set -a; . $LAB_DIR/lab.env; set +a"
    for p in vsphere openstack; do [ -f "$LAB_DIR/$p.env" ] && cat "$LAB_DIR/$p.env"; done
  } >"$LAB_DIR/lab.env.tmp"
  mv "$LAB_DIR/lab.env.tmp" "$LAB_DIR/lab.env"
}

cmd=${1:-}
shift || true
case "$cmd" in
  up)
    for p in $(parts "${1:-all}"); do
      bash "$ROOT/test/lab/$p/up.sh"
      join_env
    done
    echo "lab: up; variables in $LAB_DIR/lab.env"
    ;;
  down)
    for p in $(parts "${1:-all}"); do
      bash "$ROOT/test/lab/$p/down.sh" || true
      rm -f "$LAB_DIR/$p.env"
    done
    join_env
    ;;
  status)
    rc=0
    for p in vsphere openstack; do bash "$ROOT/test/lab/$p/status.sh" || rc=1; done
    # no credentials on the terminal: password variables left out, passwords in URLs masked
    [ -f "$LAB_DIR/lab.env" ] && { echo "--- $LAB_DIR/lab.env"; grep -v PASSWORD "$LAB_DIR/lab.env" | sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#' || true; }
    exit $rc
    ;;
  *) usage ;;
esac
