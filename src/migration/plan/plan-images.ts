// The images part: one Glance image per disk (Windows properties on the boot image only), and a
// Cinder volume for every data disk and for the boot disk when booting from a volume.
import { bootImageProperties } from '../image-properties.js';
import type { SourceDisk, SourceVm } from '../inventory.js';
import type { VmMigrationConfig } from '../plan-file.js';
import { type Finding, warning } from '../rules/types.js';
import type { WindowsVersion } from '../windows-version.js';
import { localSpaceFor } from './plan-local-space.js';
import { resourceName } from './resource-names.js';
import type { Planned, PlannedDisk } from './types.js';

const GiB = 1024 ** 3;

export interface ImageInput {
  vm: SourceVm;
  cfg: VmMigrationConfig;
  windows?: WindowsVersion;
  /** Boot disk first (plan-disks.ts). */
  ordered: SourceDisk[];
  bootFromVolume: boolean;
  existingImageNames?: string[];
}

function bootProperties({ vm, cfg, windows }: ImageInput): Record<string, string> {
  if (!windows) return {};
  return bootImageProperties({
    windows,
    bus: cfg.diskBus,
    firmware: vm.firmware,
    secureBoot: vm.secureBoot,
    vtpm: vm.vtpm,
    vifModel: cfg.vifModel,
    guestAgent: cfg.guestAgent,
  });
}

function plannedDisk(inp: ImageInput, d: SourceDisk, index: number, bootProps: Record<string, string>) {
  const { vm, cfg } = inp;
  const role = index === 0 ? 'boot' : 'data';
  const sizeGiB = Math.max(1, Math.ceil(d.capacityBytes / GiB));
  const imageName = resourceName(vm.name, 'disk', index);
  const planned: PlannedDisk = {
    index,
    key: d.key,
    label: d.label,
    role,
    sizeBytes: d.capacityBytes,
    sourceFile: d.fileName,
    datastore: d.datastore,
    controller: d.controllerType,
    image: {
      name: imageName,
      diskFormat: cfg.imageFormat,
      containerFormat: 'bare',
      properties: { ...(role === 'boot' ? bootProps : {}), v2o_source_vm: vm.name, v2o_source_disk: d.label },
      minDiskGiB: role === 'boot' ? sizeGiB : 0,
      minRamMiB: role === 'boot' ? Math.min(vm.memoryMiB, 2048) : 0,
    },
    localSpaceBytes: localSpaceFor(cfg.imageFormat, d.capacityBytes),
    // plan-routes.ts decides; through Glance unless it says otherwise.
    route: 'image',
    resumesMidDisk: false,
  };
  if (role === 'data' || inp.bootFromVolume) {
    planned.volume = {
      name: resourceName(vm.name, 'vol', index),
      sizeGiB,
      fromImage: imageName,
      volumeType: cfg.volumeType,
      bootable: role === 'boot',
    };
  }
  return planned;
}

export function planImages(inp: ImageInput): Planned<{ disks: PlannedDisk[] }> {
  const bootProps = bootProperties(inp);
  const disks = inp.ordered.map((d, i) => plannedDisk(inp, d, i, bootProps));
  const existing = new Set(inp.existingImageNames ?? []);
  const findings: Finding[] = disks
    .filter((d) => existing.has(d.image.name))
    .map((d) =>
      warning(
        'image-name-exists',
        `an image named ${d.image.name} already exists in Glance`,
        'harmless (v2o finds its images by run tag), but delete stale ones to avoid confusion',
      ),
    );
  return { disks, findings };
}
