"""Nova virt driver for the lab: Nova's FakeDriver (no hypervisor; servers go ACTIVE at once)
that also claims what a KVM host offers a Windows guest, and decides from the bytes it was given
whether the simulated Windows would have come up.

Nova turns some image properties into required placement traits: os_secure_boot=required
needs COMPUTE_SECURITY_UEFI_SECURE_BOOT and hw_tpm_version needs COMPUTE_SECURITY_TPM_*.
The plain FakeDriver reports neither, so a server from a properly tagged Windows image would
fail with "No valid host was found".

The boot decision (spawn): the lab's vSphere guests carry their state inside their boot disk
(test/lab/vsphere/vcsim/simext/zz_v2o_diskstate.go): sector 0 holds a lab boot record pointing
at a region with a header (magic, version, length, sha256) and the guest model as JSON. The
driver reads it from the Glance image file or the Cinder volume file it was given (the format
from the bytes; qemu-img dd for anything but raw) and, with the instance's image properties
(Nova copies them into the instance at creation: image_meta), decides:
  - no-boot: no disk, not a lab Windows disk, a corrupt state region, or firmware that does not
    match how the disk was set up (Microsoft, "Boot to UEFI Mode or Legacy BIOS mode": Windows on
    UEFI boots from GPT, on BIOS from MBR; the lab also wants os_secure_boot for a guest that
    had secure boot on);
  - 0x7B (INACCESSIBLE_BOOT_DEVICE): the driver for hw_disk_bus is not boot-critical (Microsoft
    "Bug Check 0x7B"; what makes it boot-critical: virt-v2v/libguestfs-common
    mlcustomize/inject_virtio_win.ml add_guestor_to_registry: the service key with Type=1,
    Start=0, ErrorControl=1, Group="SCSI miniport", ImagePath=system32\\drivers\\<drv>.sys, the
    .sys in System32\\drivers, the package in the driver store so the DriverDatabase maps the
    virtio PCI ids; storahci is inbox: Start=0 and no StartOverride\\0 other than 0), or the
    guest's brokenDrivers knob names it;
  - booted: otherwise; with the v2o first-boot task and both its files present, the console gets
    the line the task writes to COM1 (issue 12 contract section 3). A version-2 firstboot.json
    (issue 13) is also replayed on the guest model with the instance's VIFs and data volumes
    (v2o_lab_firstboot.py): its `v2o-firstboot-log:` lines, then the marker with `result`.
The server goes ACTIVE in every case: ACTIVE is not a boot. The console (os-getConsoleOutput)
shows only firmware lines besides that one: Windows writes stop codes to the serial port only
with EMS, which takes COM1 (Microsoft "Boot Parameters to Enable EMS Redirection"). Each decision
is one JSON line in $V2O_LAB_NOVA_BOOT_LOG (nova-boot.log; for tests only, v2o never reads it).

Volumes as the guest sees them (attach_volume/detach_volume, spawn, destroy): for each volume an
instance has, a symlink $V2O_LAB_DEVICES/<instance uuid>/virtio-<volume id[:20]> -> the Cinder
volume file, which is the name udev gives the disk inside a KVM guest (see guest_device_name). A
test or v2o pointed at that directory (conversionHost.deviceDir) writes through it into the volume.
"""
import base64
import datetime
import hashlib
import json
import os
import shutil
import struct
import subprocess
import tempfile

import os_traits
from oslo_log import log as logging

from nova.virt import driver as virt_driver
from nova.virt import fake

import v2o_lab_firstboot as firstboot

LOG = logging.getLogger(__name__)

LBR_MAGIC = b"V2OLBR01"
STATE_MAGIC = b"V2OGUEST"
STATE_HEADER = 64
# the storage driver Windows needs for each disk bus Nova's libvirt driver offers
BUS_DRIVER = {"virtio": "viostor", "scsi": "vioscsi", "sata": "storahci"}
SERVICES = "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\"

# Firmware console lines. SeaBIOS src/boot.c ("Booting from Hard Disk...", "Boot failed: not a
# bootable disk", "No bootable device."); OVMF MdeModulePkg/Universal/BdsDxe/BdsEntry.c
# ("BdsDxe: loading", "BdsDxe: starting", "BdsDxe: failed to load ...: Not Found").
SEABIOS = "SeaBIOS (version 1.16.2-debian-1.16.2-1)\r\n\r\nBooting from Hard Disk...\r\n"
SEABIOS_NOT_BOOTABLE = "Boot failed: not a bootable disk\r\n\r\nNo bootable device.  Retrying in 60 seconds.\r\n"
OVMF_DEV = 'Boot0001 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x4,0x0)'
OVMF_LOADING = "BdsDxe: loading %s\r\n" % OVMF_DEV
OVMF_STARTING = "BdsDxe: starting %s\r\n" % OVMF_DEV
OVMF_FAILED = "BdsDxe: failed to load %s: Not Found\r\n" % OVMF_DEV


def disk_format(path):
    """qemu-img's name for the disk's format, from its first bytes (never its name)."""
    with open(path, "rb") as f:
        head = f.read(512)
    if head[:4] == b"QFI\xfb":
        return "qcow2"
    if head[:4] == b"KDMV":
        return "vmdk"
    if head.startswith(b"# Disk DescriptorFile"):
        return None  # a descriptor whose extents point at files: never opened (CVE-2022-47951)
    return "raw"


def read_range(path, fmt, offset, length):
    """length bytes of the disk's raw content at offset."""
    if fmt == "raw":
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read(length).ljust(length, b"\0")
    bs = 1 << 20 if offset % (1 << 20) == 0 and length % (1 << 20) == 0 else 512
    with tempfile.TemporaryDirectory(prefix="v2o-lab-boot-") as tmp:
        out = os.path.join(tmp, "range.raw")
        # qemu-img dd's count bounds the input from its start, skip included (qemu-img.c img_dd)
        subprocess.run(["qemu-img", "dd", "-f", fmt, "-O", "raw", "bs=%d" % bs, "skip=%d" % (offset // bs),
                        "count=%d" % ((offset + length) // bs), "if=" + path, "of=" + out],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
        with open(out, "rb") as f:
            return f.read(length).ljust(length, b"\0")


def read_guest_state(path):
    """(state, None) or (None, why not): the guest model from the disk's raw content alone."""
    fmt = disk_format(path)
    if fmt is None:
        return None, "not a lab Windows disk: a VMDK descriptor, not a disk image"
    lbr = read_range(path, fmt, 0, 512)
    if lbr[:8] != LBR_MAGIC or lbr[510:512] != b"\x55\xaa":
        return None, "not a lab Windows disk: no lab boot record in sector 0"
    offset, length = struct.unpack_from("<QQ", lbr, 8)
    region = read_range(path, fmt, offset, length)
    if region[:8] != STATE_MAGIC:
        return None, "corrupt disk: no guest state at %d" % offset
    version, = struct.unpack_from("<I", region, 8)
    size, = struct.unpack_from("<Q", region, 16)
    if version != 1 or size > length - STATE_HEADER:
        return None, "corrupt disk: guest state version %d, length %d" % (version, size)
    body = region[STATE_HEADER:STATE_HEADER + size]
    if hashlib.sha256(body).digest() != region[24:56]:
        return None, "corrupt disk: the guest state's sha256 does not match"
    try:
        return json.loads(body), None
    except ValueError as e:
        return None, "corrupt disk: guest state is not JSON (%s)" % e


class Guest:
    """Case-insensitive views of the state's registry and files, as Windows sees them."""

    def __init__(self, state):
        self.state = state
        self.reg = {k.lower(): v for k, v in (state.get("registry") or {}).items()}
        self.files = {k.lower(): v for k, v in (state.get("files") or {}).items()}

    def value(self, key, name):
        v = self.reg.get((key + "\\" + name).lower())
        return None if v is None else v.get("data")

    def file(self, p):
        f = self.files.get(p.lower())
        if f is None:
            return None
        return base64.b64decode(f["content"]) if f.get("content") else b""


def boot_critical(g, drv):
    """None when Windows can load drv at boot, else what is missing."""
    key = SERVICES + drv
    if drv in [d.lower() for d in g.state.get("brokenDrivers") or []]:
        return "%s fails to load at boot (lab knob brokenDrivers)" % drv
    start = g.value(key, "Start")
    if drv == "storahci":  # inbox: present on every Windows; only the start type counts
        override = g.value(key + "\\StartOverride", "0")
        if start != 0:
            return "%s Start=%s, not 0 (boot)" % (key, start)
        if override not in (None, 0):
            return "%s\\StartOverride\\0=%s disables it at boot" % (key, override)
        return None
    missing = []
    for name, want in (("Type", 1), ("Start", 0), ("ErrorControl", 1)):
        got = g.value(key, name)
        if got != want:
            missing.append("%s=%s (needs %s)" % (name, got, want))
    group = g.value(key, "Group")
    if not isinstance(group, str) or group.lower() != "scsi miniport":
        missing.append('Group=%s (needs "SCSI miniport")' % group)
    image = g.value(key, "ImagePath")
    norm = image.lower().replace("\\systemroot\\", "", 1).lstrip("\\") if isinstance(image, str) else None
    if norm != "system32\\drivers\\%s.sys" % drv:
        missing.append("ImagePath=%s (needs system32\\drivers\\%s.sys)" % (image, drv))
    if missing:
        return "service %s incomplete: %s" % (drv, ", ".join(missing))
    if g.file("C:\\Windows\\System32\\drivers\\%s.sys" % drv) is None:
        return "C:\\Windows\\System32\\drivers\\%s.sys missing" % drv
    staged = [d for d in g.state.get("drivers") or [] if (d.get("originalName") or "").lower() == drv + ".inf"]
    if not staged:
        return "%s.inf not staged in the driver store (no DriverDatabase entry for the device)" % drv
    return None


def prop(image_meta, name, default=None):
    try:
        v = image_meta.properties.get(name, None)
    except Exception:  # noqa: BLE001 - a property the ImageMetaProps object does not know
        v = None
    return default if v in (None, "") else str(v)


def decide(path, image_meta, instance_uuid, network_info=(), data_volumes=()):
    """The boot decision: dict(outcome, reason, firmware, bus, marker, log, result)."""
    uefi = prop(image_meta, "hw_firmware_type") == "uefi"
    bus = prop(image_meta, "hw_disk_bus", "virtio")
    out = {"outcome": "no-boot", "firmware": "uefi" if uefi else "bios", "bus": bus, "marker": None, "log": "",
           "result": None, "hardware": None}
    if path is None:
        return dict(out, reason="no boot disk: neither a Glance image file nor a Cinder volume file")
    state, why = read_guest_state(path)
    if state is None:
        return dict(out, reason=why)
    efi = state.get("firmware") == "efi"
    if efi != uefi:
        return dict(out, reason="firmware mismatch: the disk was set up for %s, the instance boots %s"
                    % ("EFI (GPT)" if efi else "BIOS (MBR)", "UEFI (hw_firmware_type=uefi)" if uefi
                       else "BIOS (hw_firmware_type unset)"))
    if state.get("secureBoot") and prop(image_meta, "os_secure_boot") not in ("required", "optional"):
        return dict(out, reason="the source had secure boot on; the instance has no os_secure_boot")
    drv = BUS_DRIVER.get(bus)
    g = Guest(state)
    why = "no boot-critical driver for disk bus %s in the lab" % bus if drv is None else boot_critical(g, drv)
    if why:
        return dict(out, outcome="0x7B", reason="INACCESSIBLE_BOOT_DEVICE on %s: %s" % (bus, why))
    out = dict(out, outcome="booted", reason="%s is boot-critical" % drv)
    task = [t for t in state.get("tasks") or [] if (t.get("name") or "").lower() == "\\v2o-firstboot"]
    script = g.file("C:\\ProgramData\\v2o\\firstboot.ps1")
    cfg = g.file("C:\\ProgramData\\v2o\\firstboot.json")
    if not task or script is None or cfg is None:
        return dict(out, reason=out["reason"] + "; no v2o first-boot task or its files: no marker")
    try:
        config = json.loads(cfg.decode("utf-8-sig"))
        run_id = config["runId"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
        return dict(out, reason=out["reason"] + "; firstboot.json unreadable (%s): no marker" % e)
    ver = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion"
    host = g.value("HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\ComputerName\\ComputerName",
                   "ComputerName") or (state.get("seed") or {}).get("hostName")
    now = datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
    if config.get("version") != 2:  # version 1 (issue 12): the marker only
        return dict(out, marker=firstboot.marker_line(run_id, instance_uuid, host, g.value(ver, "CurrentBuild"),
                                                      bus, now))
    # Version 2 (issue 13): the task applies its actions to the new hardware, then reports what it
    # reads back (v2o_lab_firstboot.py). Nova's libvirt driver sets the SMBIOS manufacturer to
    # nova.version.vendor_string() and the UUID to the server id.
    try:
        from nova import version
        manufacturer = version.vendor_string()
    except Exception:  # noqa: BLE001 - outside nova-compute (no config loaded): Nova's default
        manufacturer = firstboot.NOVA_MANUFACTURER
    r = firstboot.replay(state, config, instance_uuid, manufacturer=manufacturer,
                         network_info=network_info, vif_model=prop(image_meta, "hw_vif_model"),
                         data_volumes=data_volumes,
                         qemu_guest_agent=prop(image_meta, "hw_qemu_guest_agent", "no").lower() in ("yes", "true"))
    if r is None:
        return dict(out, reason=out["reason"] + "; first-boot task on the source machine: does nothing")
    res = r["result"]
    return dict(out, reason=out["reason"] + "; first-boot task replayed, %d failed" % len(res["failed"]),
                log=firstboot.log_text(r["lines"]), result=res, hardware=r["hardware"],
                marker=firstboot.marker_line(run_id, instance_uuid, host, g.value(ver, "CurrentBuild"), bus, now, res))


def guest_device_name(volume_id):
    """The /dev/disk/by-id name a Linux guest of Nova's libvirt driver gets for a virtio-blk volume.

    - Nova's libvirt driver puts the volume id in the disk's <serial> (nova/virt/block_device.py sets
      connection_info['serial'] = volume_id; nova/virt/libvirt/volume/volume.py
      LibvirtBaseVolumeDriver.get_config: conf.serial = connection_info.get('serial')), which
      libvirt passes to QEMU as the virtio-blk device's serial.
    - virtio spec 1.1 section 5.2.6 (VIRTIO_BLK_T_GET_ID): "The device ID string is a NUL-padded
      ASCII string up to 20 bytes long"; QEMU hw/block/virtio-blk.c answers GET_ID with at most
      VIRTIO_BLK_ID_BYTES (20) bytes of the serial; Linux drivers/block/virtio_blk.c shows it as
      /sys/block/vdX/serial. A 36-character volume id is cut to its first 20.
    - systemd's udev rules (rules.d/60-persistent-storage.rules, "# virtio-blk"):
      KERNEL=="vd*[!0-9]", ATTRS{serial}=="?*", ENV{ID_SERIAL}="$attr{serial}",
      SYMLINK+="disk/by-id/virtio-$env{ID_SERIAL}".
    """
    return "virtio-" + str(volume_id)[:20]


def console_text(d):
    """What the serial console shows for decision d."""
    if d["firmware"] == "uefi":
        text = OVMF_LOADING + (OVMF_FAILED if d["outcome"] == "no-boot" else OVMF_STARTING)
    else:
        text = SEABIOS
        # no boot sector to jump to (a GPT disk's protective MBR has no boot code for BIOS either);
        # a corrupt disk gets as far as its boot loader, which reports on the screen, not COM1
        if d["outcome"] == "no-boot" and not d["reason"].startswith("corrupt"):
            text += SEABIOS_NOT_BOOTABLE
    return text + (d.get("log") or "") + (d["marker"] or "")


class LabFakeDriver(fake.FakeDriver):
    capabilities = dict(
        fake.FakeDriver.capabilities,
        supports_secure_boot=True,
        supports_image_type_qcow2=True,
        supports_image_type_vmdk=True,
        supports_image_type_iso=True,
    )

    def update_provider_tree(self, provider_tree, nodename, allocations=None):
        super().update_provider_tree(provider_tree, nodename, allocations=allocations)
        # vTPM traits are reported by the libvirt driver itself, not through capabilities
        provider_tree.add_traits(nodename, os_traits.COMPUTE_SECURITY_TPM_1_2, os_traits.COMPUTE_SECURITY_TPM_2_0)

    # ------------------------------------------------------------- the guest's view of its volumes
    @staticmethod
    def _devices_dir(instance):
        root = os.environ.get("V2O_LAB_DEVICES")
        return os.path.join(root, instance.uuid) if root else None

    def _link_volume(self, instance, connection_info):
        """What udev makes in the guest when the disk appears (guest_device_name)."""
        d = self._devices_dir(instance)
        vol = (connection_info or {}).get("serial")
        if not d or not vol:
            return
        os.makedirs(d, exist_ok=True)
        link = os.path.join(d, guest_device_name(vol))
        target = os.path.join(os.environ.get("V2O_LAB_CINDER_VOLUMES", ""), "volume-%s" % vol)
        tmp = link + ".tmp"
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        os.symlink(target, tmp)
        os.replace(tmp, link)  # appears whole, as udev's link does
        LOG.info("v2o lab: volume %s appears in %s as %s", vol, instance.uuid, link)

    def _unlink_volume(self, instance, connection_info):
        d = self._devices_dir(instance)
        vol = (connection_info or {}).get("serial")
        if not d or not vol:
            return
        try:
            os.unlink(os.path.join(d, guest_device_name(vol)))
        except FileNotFoundError:
            pass

    def attach_volume(self, context, connection_info, instance, mountpoint, disk_bus=None, device_type=None,
                      encryption=None):
        super().attach_volume(context, connection_info, instance, mountpoint, disk_bus=disk_bus,
                              device_type=device_type, encryption=encryption)
        # Nova's compute manager marks the attachment complete in Cinder (in-use) only after the
        # driver returns (nova/virt/block_device.py DriverVolumeBlockDevice._volume_attach), so the
        # device exists before the volume shows in-use, as a hot-plugged disk does on KVM.
        self._link_volume(instance, connection_info)

    def detach_volume(self, context, connection_info, instance, mountpoint, encryption=None):
        self._unlink_volume(instance, connection_info)
        super().detach_volume(context, connection_info, instance, mountpoint, encryption=encryption)

    def extend_volume(self, context, connection_info, instance, requested_size):
        # Nothing to do: the device is the volume file itself, which the Cinder driver has already
        # grown when Nova gets the volume-extended event (cinder/volume/manager.py extend_volume
        # calls the driver, then nova's os-server-external-events); on KVM the guest sees the new
        # capacity after the libvirt driver's blockResize.
        super().extend_volume(context, connection_info, instance, requested_size)

    @staticmethod
    def _console_path(instance):
        from nova.conf import CONF
        return os.path.join(CONF.instances_path, instance.uuid, "console.log")

    @staticmethod
    def _boot_disk(image_meta, block_device_info):
        """The file of the boot volume (boot from volume) or of the Glance image."""
        for bdm in virt_driver.block_device_info_get_mapping(block_device_info):
            if bdm.get("boot_index") in (0, "0") or bdm.get("mount_device") in ("/dev/vda", "/dev/sda"):
                vol = getattr(bdm, "volume_id", None) or (bdm.get("connection_info") or {}).get("serial")
                p = os.path.join(os.environ.get("V2O_LAB_CINDER_VOLUMES", ""), "volume-%s" % vol)
                return p if vol and os.path.isfile(p) else None
        image_id = image_meta.id if image_meta.obj_attr_is_set("id") else None
        p = os.path.join(os.environ.get("V2O_LAB_GLANCE_IMAGES", ""), str(image_id))
        return p if image_id and os.path.isfile(p) else None

    @staticmethod
    def _data_volumes(block_device_info):
        """The volume ids of the data disks in the order the guest finds them (boot_index, then the
        device name v2o's block_device_mapping_v2 gave them: vdb, vdc ...)."""
        vols = []
        for bdm in virt_driver.block_device_info_get_mapping(block_device_info):
            if bdm.get("boot_index") in (0, "0") or bdm.get("mount_device") in ("/dev/vda", "/dev/sda"):
                continue
            vol = getattr(bdm, "volume_id", None) or (bdm.get("connection_info") or {}).get("serial")
            bi = bdm.get("boot_index")
            key = int(bi) if bi not in (None, "", -1, "-1") else 1 << 30
            vols.append((key, bdm.get("mount_device") or "", vol))
        return [v for _, _, v in sorted(vols, key=lambda x: (x[0], x[1]))]

    def spawn(self, context, instance, image_meta, injected_files, admin_password, allocations,
              network_info=None, block_device_info=None, power_on=True, accel_info=None):
        super().spawn(context, instance, image_meta, injected_files, admin_password, allocations,
                      network_info=network_info, block_device_info=block_device_info, power_on=power_on,
                      accel_info=accel_info)
        # volumes the server is built with are there at boot, like hot-plugged ones
        for bdm in virt_driver.block_device_info_get_mapping(block_device_info):
            try:
                self._link_volume(instance, bdm.get("connection_info"))
            except OSError:
                LOG.exception("v2o lab: could not make the device of a volume")
        path = None
        try:
            path = self._boot_disk(image_meta, block_device_info)
            d = decide(path, image_meta, instance.uuid, network_info=list(network_info or []),
                       data_volumes=self._data_volumes(block_device_info))
        except Exception as e:  # noqa: BLE001 - a lab fault must not fail the build: say it
            LOG.exception("v2o lab boot decision failed")
            d = {"outcome": "no-boot", "reason": "lab error: %s" % e, "bus": None, "firmware": "bios", "marker": None}
        cp = self._console_path(instance)
        os.makedirs(os.path.dirname(cp), exist_ok=True)
        with open(cp, "w", newline="") as f:
            f.write(console_text(d))
        entry = {"time": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"), "instance": instance.uuid,
                 "outcome": d["outcome"], "reason": d["reason"], "bus": d["bus"], "firmware": d["firmware"],
                 "marker": bool(d["marker"]), "disk": path}
        if d.get("result") is not None:  # a version-2 first-boot task (issue 13)
            entry.update(result=d["result"], hardware=d.get("hardware"))
        log_path = os.environ.get("V2O_LAB_NOVA_BOOT_LOG")
        if log_path:
            with open(log_path, "a") as f:
                f.write(json.dumps(entry) + "\n")
        LOG.info("v2o lab boot decision: %s", entry)

    def get_console_output(self, context, instance):
        try:
            with open(self._console_path(instance), newline="") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def destroy(self, context, instance, network_info, block_device_info=None, destroy_disks=True,
                destroy_secrets=True):
        super().destroy(context, instance, network_info, block_device_info=block_device_info,
                        destroy_disks=destroy_disks, destroy_secrets=destroy_secrets)
        shutil.rmtree(os.path.dirname(self._console_path(instance)), ignore_errors=True)
        d = self._devices_dir(instance)
        if d:  # the machine is gone, and with it the devices it saw
            shutil.rmtree(d, ignore_errors=True)
