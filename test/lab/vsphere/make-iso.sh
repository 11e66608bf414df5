#!/usr/bin/env bash
# Builds a small ISO with virtio-win's real layout (fake file contents) with xorriso:
#   <Driver>/<OS>/amd64/<driver>.{inf,sys,cat}  for viostor, vioscsi, NetKVM, Balloon, vioserial
#   (vioser.*: the VirtIO serial driver the QEMU guest agent talks through) and OS folders 2k12 2k12R2 2k16 2k19 2k22 2k25 w10 w11 (virtio-win-pkg-scripts util/filemap.py:
#   Server 2012 has its own 2k12, Server 2025 has 2k25), guest-agent/qemu-ga-{x86_64,i386}.msi
#   (virtio-win's guest-agent folder), plus a few root files.
#   usage: make-iso.sh <out-dir>   -> <out-dir>/virtio-win.iso, .sha256, virtio-win-files.txt
# Rebuilt only when this script changes (its sha256 is stored next to the ISO).
set -euo pipefail
OUT=$1
VERSION=0.1.262
self_sum=$(sha256sum "$0" | cut -d' ' -f1)
if [ -f "$OUT/virtio-win.iso" ] && [ "$(cat "$OUT/virtio-win.stamp" 2>/dev/null)" = "$self_sum" ]; then
  exit 0
fi
mkdir -p "$OUT"
tree=$(mktemp -d "$OUT/.tree.XXXXXX")
trap 'rm -rf "$tree"' EXIT

# driver folder : file stem : INF class : service name
drivers=(
  "viostor:viostor:SCSIAdapter:viostor"
  "vioscsi:vioscsi:SCSIAdapter:vioscsi"
  "NetKVM:netkvm:Net:netkvm"
  "Balloon:balloon:System:balloon"
  "vioserial:vioser:System:vioser"
)
oses=(2k12 2k12R2 2k16 2k19 2k22 2k25 w10 w11)
for d in "${drivers[@]}"; do
  IFS=: read -r folder stem class svc <<<"$d"
  for os in "${oses[@]}"; do
    dir="$tree/$folder/$os/amd64"
    mkdir -p "$dir"
    cat >"$dir/$stem.inf" <<INF
; $stem.inf - v2o lab fake of the virtio-win $VERSION driver package ($os, amd64)
[Version]
Signature   = "\$WINDOWS NT\$"
Class       = $class
Provider    = %VENDOR%
DriverVer   = 08/30/2024,100.100.104.26200
CatalogFile = $stem.cat
PnpLockdown = 1

[Manufacturer]
%VENDOR% = VirtIO,NTamd64

[SourceDisksFiles]
$stem.sys = 1

[$svc.Service]
ServiceType  = 1
StartType    = 3
ServiceBinary = %12%\\$stem.sys

[Strings]
VENDOR = "Red Hat, Inc."
INF
    printf 'MZ fake %s.sys for %s (v2o lab)\n' "$stem" "$os" >"$dir/$stem.sys"
    printf 'fake catalog %s %s\n' "$stem" "$os" >"$dir/$stem.cat"
  done
done
printf 'fake blnsvr.exe\n' >"$tree/Balloon/w11/amd64/blnsvr.exe"
printf 'fake guest tools installer\n' >"$tree/virtio-win-guest-tools.exe"
printf 'fake msi\n' >"$tree/virtio-win-gt-x64.msi"
mkdir -p "$tree/guest-agent"
printf 'fake qemu-ga x86_64 msi (v2o lab)\n' >"$tree/guest-agent/qemu-ga-x86_64.msi"
printf 'fake qemu-ga i386 msi (v2o lab)\n' >"$tree/guest-agent/qemu-ga-i386.msi"
printf 'virtio-win %s (v2o lab fake: layout only, no real drivers)\n' "$VERSION" >"$tree/virtio-win_license.txt"

export SOURCE_DATE_EPOCH=1724976000
xorriso -as mkisofs -quiet -V "virtio-win-$VERSION" -J -joliet-long -R -o "$OUT/virtio-win.iso.tmp" "$tree" 2>/dev/null
mv "$OUT/virtio-win.iso.tmp" "$OUT/virtio-win.iso"
(cd "$tree" && find . -type f | sed 's#^\./##' | LC_ALL=C sort) >"$OUT/virtio-win-files.txt"
sha256sum "$OUT/virtio-win.iso" | cut -d' ' -f1 >"$OUT/virtio-win.iso.sha256"
echo "virtio-win-$VERSION" >"$OUT/virtio-win.iso.label"
echo "$self_sum" >"$OUT/virtio-win.stamp"
