// The disks in the order they become images, the boot disk first.
//
// Which disk boots:
// 1. The first disk that the VM's boot order names (config.bootOptions.bootOrder, its
//    VirtualMachineBootOptionsBootableDiskDevice entries by deviceKey). The vim API reference
//    for VirtualMachineBootOptions says the listed devices are tried first, in list order, and the
//    default BIOS boot device algorithm only after the list is exhausted.
// 2. Otherwise the firmware's default: VMware documents no more than that a VM's first disk is
//    node (0:0) of controller 0 (vSphere docs, "virtual device node") and that bios.hddOrder
//    overrides the order (VMware KB 326326). v2o takes controller order, then unit number:
//    controllers by device key, which vSphere allots by kind (IDE 200+, SCSI 1000+ in bus order,
//    SATA 15000+, NVMe 31000+), or by bus number when the key is unknown.
// The disk device key alone says nothing: a disk added later, or moved, can have a lower key.
import type { SourceDisk, SourceVm } from '../inventory.js';

const GiB = 1024 ** 3;

function firmwareOrder(a: SourceDisk, b: SourceDisk): number {
  return (
    (a.controllerKey ?? a.busNumber) - (b.controllerKey ?? b.busNumber) ||
    a.busNumber - b.busNumber ||
    a.unitNumber - b.unitNumber ||
    a.key - b.key
  );
}

export interface DiskOrder {
  /** Boot disk first, then the data disks in firmware order. */
  ordered: SourceDisk[];
  boot?: SourceDisk;
  bootGiB: number;
}

export function planDisks(vm: SourceVm): DiskOrder {
  const byFirmware = [...vm.disks].sort(firmwareOrder);
  const named = (vm.bootDiskOrder ?? [])
    .map((key) => vm.disks.find((d) => d.key === key))
    .find((d) => d !== undefined);
  const boot = named ?? byFirmware[0];
  const ordered = boot ? [boot, ...byFirmware.filter((d) => d !== boot)] : [];
  return { ordered, boot, bootGiB: boot ? Math.ceil(boot.capacityBytes / GiB) : 0 };
}
