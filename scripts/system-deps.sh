#!/usr/bin/env bash
# Debian packages that v2o's tests and benchmarks need besides Node (the labs install their own in
# test/lab/*/up.sh). Runs before the unit tests (`pretest:unit`), so they pass on a fresh machine.
#   qemu-img  (qemu-utils)               v2o's qcow2/raw conversion; the unit tests make disks with it
#   python3   (python3)                  the lab Nova's first-boot replay tests (test/unit/lab/nova-firstboot.test.ts)
#   openstack (python3-openstackclient)  with `bench`: the manual toolchain bench:transfer compares with
#   curl      (curl)                     with `bench`: the raw curl | curl pipe
# Idempotent and quick: apt runs only when a command is missing.
set -euo pipefail
need=(qemu-img:qemu-utils python3:python3)
[ "${1:-}" = bench ] && need+=(openstack:python3-openstackclient curl:curl)
missing=()
for pair in "${need[@]}"; do
  command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "system-deps: missing ${missing[*]}; install them with your package manager" >&2
  exit 1
fi
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
echo "system-deps: installing ${missing[*]}" >&2
"${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
  --no-install-recommends "${missing[@]}" >/dev/null
