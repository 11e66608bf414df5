// The migration plan file (YAML): schema, parsing with line numbers in every error, and the
// per-VM view that merges `defaults` with each VM's overrides. No secrets live in the file:
// vSphere credentials come from GOVC_* variables, OpenStack ones from clouds.yaml, guest ones
// from the environment variables the file names.
import { readFileSync } from 'node:fs';
import { isMap, LineCounter, type Node, parseDocument } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { DEFAULT_STALL_TIMEOUT_MS } from '../transfer/stall-watchdog.js';

export const DISK_BUSES = ['virtio', 'scsi', 'sata'] as const;
export const IMAGE_FORMATS = ['vmdk', 'qcow2', 'raw'] as const;
export const UPLOAD_HASHES = ['md5', 'sha256', 'sha512'] as const;
/** md5 alone is what comparing with Glance's `checksum` needs, at the least CPU per byte. */
export const DEFAULT_UPLOAD_HASHES: UploadHash[] = ['md5'];
/** A disk copy with no bytes moving for this long is reconnected (source) or retried (upload). */
export const DEFAULT_TRANSFER_STALL_SECONDS = DEFAULT_STALL_TIMEOUT_MS / 1000;
export type UploadHash = (typeof UPLOAD_HASHES)[number];
export const BOOT_FALLBACKS = ['sata', 'none'] as const;
export const BOOT_CHECKS = ['marker', 'none'] as const;
export type BootFallback = (typeof BOOT_FALLBACKS)[number];
export type BootCheck = (typeof BOOT_CHECKS)[number];
/** Windows on a slow cloud can take minutes to its first logon screen (driver install, sysprep-like specialize). */
export const DEFAULT_BOOT_TIMEOUT_SECONDS = 900;
export const DEFAULT_BOOT_FALLBACK: BootFallback = 'sata';
export const DEFAULT_BOOT_CHECK: BootCheck = 'marker';
export const DEFAULT_GUEST_AGENT = true;
export const DEFAULT_REMOVE_VMWARE_TOOLS = false;
export type DiskBus = (typeof DISK_BUSES)[number];
/** What v2o does about BitLocker in the guest: refuse (block) or suspend it just before shutdown. */
export const BITLOCKER_MODES = ['block', 'suspend'] as const;
/** A domain controller: refused (block), or migrated on the promise that the source never runs again (allow). */
export const DOMAIN_CONTROLLER_MODES = ['block', 'allow'] as const;
/** The clock Windows expects on OpenStack: localtime (Nova's RTC for os_type=windows) or utc. */
export const CLOCK_MODES = ['localtime', 'utc'] as const;
export type BitlockerMode = (typeof BITLOCKER_MODES)[number];
export type DomainControllerMode = (typeof DOMAIN_CONTROLLER_MODES)[number];
export type ClockMode = (typeof CLOCK_MODES)[number];
export const DEFAULT_BITLOCKER: BitlockerMode = 'block';
export const DEFAULT_DOMAIN_CONTROLLER: DomainControllerMode = 'block';
export const DEFAULT_CLOCK: ClockMode = 'localtime';
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');
const sha256 = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hexadecimal characters (a sha256)')
  .transform((s) => s.toLowerCase());

const VirtioWinSchema = z
  .strictObject({
    /** A local file, or an http(s) URL downloaded (resumably) into the state dir cache. */
    path: z.string().min(1).optional(),
    url: z.url({ protocol: /^https?$/ }).optional(),
    sha256: sha256.optional(),
  })
  .refine((v) => (v.path === undefined) !== (v.url === undefined), {
    message: 'give exactly one of `path` or `url`',
  });

const IpSchema = z.union([z.ipv4(), z.ipv6()]);
export const OUTSIDE_ADDRESSES = ['warn', 'allowed-address-pairs'] as const;
/** `keep`: the guest's captured addresses; `none`: Neutron chooses; a list replaces them one by one. */
export type FixedIps = 'keep' | 'none' | string[];

const NetworkMappingSchema = z
  .strictObject({
    /** The source port group (vSphere network name) of the NIC. */
    portGroup: z.string().min(1),
    /** Target Neutron network, by name or id. */
    network: z.string().min(1),
    keepMac: z.boolean().default(true),
    /** The older one-address form; resolvePlan folds it into `fixedIps: [X]`. */
    fixedIp: IpSchema.optional(),
    /**
     * The port's fixed IPs: `keep` (default) the addresses captured in the guest that lie in a subnet
     * of the network, `none` Neutron's choice, or a list that replaces the captured ones in order.
     */
    fixedIps: z.union([z.literal('keep'), z.literal('none'), z.array(IpSchema).min(1)]).optional(),
    /** Captured addresses in no subnet of the network: a warning, or allowed address pairs on the port. */
    outsideAddresses: z.enum(OUTSIDE_ADDRESSES).optional(),
    subnet: z.string().min(1).optional(),
  })
  .refine((m) => m.fixedIp === undefined || m.fixedIps === undefined, {
    message: 'give `fixedIps` (a list) or the older `fixedIp`, not both',
  });

/** The mapping's fixed IPs with the older `fixedIp` folded in (stored runs may still have it). */
export function fixedIpsOf(m: Pick<NetworkMapping, 'fixedIp' | 'fixedIps'>): FixedIps {
  return m.fixedIps ?? (m.fixedIp ? [m.fixedIp] : 'keep');
}

const GuestCredentialsSchema = z.strictObject({
  usernameEnv: envName,
  passwordEnv: envName,
});

// Each setting's schema once, for the file (where every setting is optional) and for the resolved
// per-VM settings a run stores (where every setting has its value).
const VifModelSchema = z.enum(['virtio', 'e1000']);
const DriverModeSchema = z.enum(['auto', 'manual']);
const SourceAfterSchema = z.enum(['keep-off', 'power-on']);
const ExportMethodSchema = z.enum(['lease', 'datastore']);
const BootFromVolumeSchema = z.union([z.boolean(), z.literal('auto')]);
const UploadHashesSchema = z
  .array(z.enum(UPLOAD_HASHES))
  .refine((a) => new Set(a).size === a.length, { message: 'lists a hash twice' });
const TransferStallSecondsSchema = z.int().min(5).max(3600);
const BootFallbackSchema = z.enum(BOOT_FALLBACKS);
const BootCheckSchema = z.enum(BOOT_CHECKS);
const BootTimeoutSecondsSchema = z.int().min(1).max(86_400);
const BitlockerSchema = z.enum(BITLOCKER_MODES);
const DomainControllerSchema = z.enum(DOMAIN_CONTROLLER_MODES);
const ClockSchema = z.enum(CLOCK_MODES);

/** `cold`: shut down, then copy; `warm`: copy while Windows runs (CBT), shut down for the last delta. */
export const MIGRATION_KINDS = ['cold', 'warm'] as const;
export type MigrationKind = (typeof MIGRATION_KINDS)[number];
export const DEFAULT_MIGRATION: MigrationKind = 'cold';
export const DEFAULT_WARM = { passIntervalMinutes: 60, maxPasses: 24 } as const;
/** Nova's metadata service as a guest sees it (link-local, the same on every OpenStack cloud). */
export const DEFAULT_METADATA_URL = 'http://169.254.169.254/openstack/latest/meta_data.json';
export const DEFAULT_CONVERSION_HOST = {
  server: 'auto',
  metadataUrl: DEFAULT_METADATA_URL,
  // udev's names for a virtio-blk disk's serial (= the Cinder volume id, first 20 bytes).
  deviceDir: '/dev/disk/by-id',
  // A q35 guest hot-plugs into free PCIe root ports: Nova's [libvirt] num_pcie_ports (default 16 in
  // recent releases); an i440fx guest has 32 PCI slots. Assume the smaller.
  attachmentSlots: 16,
  deviceTimeoutSeconds: 60,
} as const;
const MigrationKindSchema = z.enum(MIGRATION_KINDS);
// 0: the next pass is due as soon as the run waits (each `v2o resume` runs one; `--wait` runs them back to back).
const PassIntervalMinutesSchema = z.int().min(0).max(1440);
const MaxPassesSchema = z.int().min(1).max(1000);
/** An ISO 8601 time with its offset (or Z): a cutover time without a zone would depend on the host's. */
const CutoverAtSchema = z.iso.datetime({
  offset: true,
  message: 'must be an ISO 8601 time with an offset, e.g. 2026-12-02T22:00:00+01:00',
});
const AttachmentSlotsSchema = z.int().min(1).max(256);
const DeviceTimeoutSecondsSchema = z.int().min(5).max(3600);
const ConversionHostFileSchema = z.strictObject({
  /** `auto`: the server the metadata service says v2o runs on; else a server name or id in the target project. */
  server: z.string().min(1).optional(),
  metadataUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** Where attached volumes appear by id; the labs point this at their own device directory. */
  deviceDir: z.string().min(1).optional(),
  attachmentSlots: AttachmentSlotsSchema.optional(),
  deviceTimeoutSeconds: DeviceTimeoutSecondsSchema.optional(),
});
const ConversionHostSchema = z.strictObject({
  server: z.string().min(1),
  metadataUrl: z.url({ protocol: /^https?$/ }),
  deviceDir: z.string().min(1),
  attachmentSlots: AttachmentSlotsSchema,
  deviceTimeoutSeconds: DeviceTimeoutSecondsSchema,
});
export type ConversionHostSettings = z.infer<typeof ConversionHostSchema>;
const WarmSchema = z.strictObject({
  passIntervalMinutes: PassIntervalMinutesSchema,
  maxPasses: MaxPassesSchema,
  cutoverAt: CutoverAtSchema.optional(),
});
export type WarmSettings = z.infer<typeof WarmSchema>;

/** Everything a VM entry may override; `defaults` has the same shape. */
const VmSettingsShape = {
  /** A flavor name or id, or `auto` for the smallest that fits CPUs, RAM and disk. */
  flavor: z.string().min(1).optional(),
  networks: z.array(NetworkMappingSchema).optional(),
  diskBus: z.enum(DISK_BUSES).optional(),
  imageFormat: z.enum(IMAGE_FORMATS).optional(),
  /** `auto`: from a volume only when the boot disk is larger than the flavor's disk. */
  bootFromVolume: BootFromVolumeSchema.optional(),
  volumeType: z.string().min(1).optional(),
  /** NIC model on the target: virtio (NetKVM) unless the plan keeps e1000. */
  vifModel: VifModelSchema.optional(),
  drivers: z
    .strictObject({
      mode: DriverModeSchema.optional(),
      virtioWin: VirtioWinSchema.optional(),
      balloon: z.boolean().optional(),
    })
    .optional(),
  guestCredentials: GuestCredentialsSchema.optional(),
  /** What happens to the source VM after a successful migration. */
  sourceAfter: SourceAfterSchema.optional(),
  /** Datastore for the virtio-win ISO; default: the datastore of the VM's first disk. */
  isoDatastore: z.string().min(1).optional(),
  /**
   * How disks leave vSphere: `lease` (ExportVm / HttpNfcLease, any disk type) or `datastore`
   * (the VMDK files over the datastore HTTP endpoint, converted locally: needs qcow2 or raw).
   */
  exportMethod: ExportMethodSchema.optional(),
  /** Where qcow2/raw conversions are staged; default: <state dir>/staging. */
  stagingDir: z.string().min(1).optional(),
  /**
   * Hashes computed over every uploaded byte and compared with what Glance stored: md5 with its
   * `checksum`, sha512 or sha256 with its `os_hash_value` (when that is Glance's os_hash_algo).
   * Each costs CPU on the conversion host; [] checks the size only.
   */
  uploadHashes: UploadHashesSchema.optional(),
  /**
   * Seconds without a byte moving before a disk copy counts as stalled: a stalled source is reopened
   * at the offset reached (HTTP Range), a stalled upload is aborted and the step retries it.
   */
  transferStallSeconds: TransferStallSecondsSchema.optional(),
  /**
   * `sata`: when Windows does not come up on the planned bus, boot the same disk on SATA (Windows'
   * own storahci, prepared and verified before shutdown whatever the bus). `none`: fail instead.
   */
  bootFallback: BootFallbackSchema.optional(),
  /** `marker`: wait for the first-boot task's line on the console log; `none`: trust ACTIVE (a warning). */
  bootCheck: BootCheckSchema.optional(),
  /** How long each server may take to report its first boot on the console log. */
  bootTimeoutSeconds: BootTimeoutSecondsSchema.optional(),
  /**
   * The QEMU guest agent: vioserial staged with the other drivers, its MSI copied into the guest
   * before shutdown and installed by the first-boot task, hw_qemu_guest_agent=yes on the image.
   */
  guestAgent: z.boolean().optional(),
  /** The first-boot task uninstalls VMware Tools on OpenStack (msiexec /x of its product code). */
  removeVmwareTools: z.boolean().optional(),
  /**
   * BitLocker on a guest volume: `block` the migration, or `suspend` protection (-RebootCount 0)
   * just before shutdown; it stays suspended on OpenStack until you protect the disk again.
   */
  bitlocker: BitlockerSchema.optional(),
  /**
   * A domain controller: `block`, or `allow` on the promise that the source never runs again once
   * the target booted (sourceAfter: power-on refused; a rollback after that needs --force).
   */
  domainController: DomainControllerSchema.optional(),
  /**
   * `localtime`: a guest keeping its hardware clock in UTC (RealTimeIsUniversal=1) has it cleared
   * before shutdown, as Nova gives Windows a local-time clock; `utc`: kept (a warning).
   */
  clock: ClockSchema.optional(),
  /** `warm`: copy while the VM runs (CBT passes to volumes on the conversion host), cut over on `v2o cutover`. */
  migration: MigrationKindSchema.optional(),
  warm: z
    .strictObject({
      passIntervalMinutes: PassIntervalMinutesSchema.optional(),
      /** Then the run waits at the cutover gate, with a warning. */
      maxPasses: MaxPassesSchema.optional(),
      /** Cut over on its own at that time (as `v2o cutover --at`). */
      cutoverAt: CutoverAtSchema.optional(),
    })
    .optional(),
  /** The OpenStack server v2o runs on, which the volumes are attached to while they are written. */
  conversionHost: ConversionHostFileSchema.optional(),
};

const VmEntrySchema = z.strictObject({
  name: z.string().min(1),
  ...VmSettingsShape,
});

/** Where the VMs come from; `source:` with only comments under it parses as null: empty (GOVC_* decide). */
export const SourceSettingsSchema = z.strictObject({
  /** vCenter or ESXi SDK URL; default: $GOVC_URL. Never put a password in it. */
  url: z
    .url({ protocol: /^https?$/ })
    .refine((u) => !new URL(u).password, {
      message: 'must not contain a password; set GOVC_PASSWORD in the environment',
    })
    .optional(),
  datacenter: z.string().min(1).optional(),
  insecure: z.boolean().optional(),
  caFile: z.string().min(1).optional(),
  thumbprint: z.string().min(1).optional(),
});

export const TargetSettingsSchema = z.strictObject({
  /** A cloud in clouds.yaml; default: $OS_CLOUD. */
  cloud: z.string().min(1).optional(),
  region: z.string().min(1).optional(),
});

/** The only copy of the concurrency defaults (`disks` defaults to vms × disksPerVm). */
export const DEFAULT_CONCURRENCY = { vms: 1, disksPerVm: 2, perSourceHost: 4, perTarget: 4 } as const;

export const PlanFileSchema = z.strictObject({
  version: z.literal(1),
  source: z.preprocess((v) => v ?? {}, SourceSettingsSchema),
  target: z.preprocess((v) => v ?? {}, TargetSettingsSchema),
  defaults: z.strictObject(VmSettingsShape).optional(),
  concurrency: z
    .strictObject({
      vms: z.int().min(1).max(64).optional(),
      disksPerVm: z.int().min(1).max(16).optional(),
      /** Disk copies at once over all VMs; default vms × disksPerVm. */
      disks: z.int().min(1).max(256).optional(),
      perSourceHost: z.int().min(1).max(64).optional(),
      perTarget: z.int().min(1).max(64).optional(),
    })
    .optional(),
  vms: z.array(VmEntrySchema).min(1, 'list at least one VM to migrate'),
});

export type PlanFile = z.infer<typeof PlanFileSchema>;
export type NetworkMapping = z.infer<typeof NetworkMappingSchema>;

/**
 * One VM's settings with defaults applied: what build-plan reads. A run stores them as its plan's
 * inputs (params.ts), so the same schema checks them when the run is resumed.
 */
export const VmMigrationConfigSchema = z.strictObject({
  name: z.string().min(1),
  /** 'auto' or a flavor name/id. */
  flavor: z.string().min(1),
  networks: z.array(NetworkMappingSchema),
  diskBus: z.enum(DISK_BUSES),
  imageFormat: z.enum(IMAGE_FORMATS),
  bootFromVolume: BootFromVolumeSchema,
  volumeType: z.string().min(1).optional(),
  vifModel: VifModelSchema,
  drivers: z.strictObject({
    mode: DriverModeSchema,
    virtioWin: VirtioWinSchema.optional(),
    balloon: z.boolean(),
  }),
  guestCredentials: GuestCredentialsSchema,
  sourceAfter: SourceAfterSchema,
  isoDatastore: z.string().min(1).optional(),
  stagingDir: z.string().min(1).optional(),
  exportMethod: ExportMethodSchema,
  uploadHashes: UploadHashesSchema,
  transferStallSeconds: TransferStallSecondsSchema,
  bootFallback: BootFallbackSchema,
  bootCheck: BootCheckSchema,
  bootTimeoutSeconds: BootTimeoutSecondsSchema,
  // Defaults here too: the stored inputs of a run made before these settings existed still parse.
  guestAgent: z.boolean().default(DEFAULT_GUEST_AGENT),
  removeVmwareTools: z.boolean().default(DEFAULT_REMOVE_VMWARE_TOOLS),
  bitlocker: BitlockerSchema,
  domainController: DomainControllerSchema,
  clock: ClockSchema,
  // Defaults: inputs stored before issue 14 are cold runs without a conversion host.
  migration: MigrationKindSchema.default(DEFAULT_MIGRATION),
  warm: WarmSchema.default({ ...DEFAULT_WARM }),
  conversionHost: ConversionHostSchema.optional(),
});
export type VmMigrationConfig = z.infer<typeof VmMigrationConfigSchema>;

export interface ResolvedPlan {
  file?: string;
  source: PlanFile['source'];
  target: PlanFile['target'];
  concurrency: { vms: number; disksPerVm: number; disks: number; perSourceHost: number; perTarget: number };
  vms: VmMigrationConfig[];
}

export const DEFAULT_GUEST_CREDENTIALS = {
  usernameEnv: 'V2O_GUEST_USERNAME',
  passwordEnv: 'V2O_GUEST_PASSWORD',
};

/** Merge defaults with each VM's overrides. Pure. */
export function resolvePlan(plan: PlanFile, file?: string): ResolvedPlan {
  const d = plan.defaults ?? {};
  const vms = plan.vms.map((vm): VmMigrationConfig => {
    const drivers = { ...d.drivers, ...vm.drivers };
    return {
      name: vm.name,
      flavor: vm.flavor ?? d.flavor ?? 'auto',
      networks: (vm.networks ?? d.networks ?? []).map(({ fixedIp: _old, ...m }) => ({
        ...m,
        fixedIps: fixedIpsOf({ fixedIp: _old, fixedIps: m.fixedIps }),
        outsideAddresses: m.outsideAddresses ?? 'warn',
      })),
      diskBus: vm.diskBus ?? d.diskBus ?? 'virtio',
      imageFormat: vm.imageFormat ?? d.imageFormat ?? 'vmdk',
      bootFromVolume: vm.bootFromVolume ?? d.bootFromVolume ?? 'auto',
      volumeType: vm.volumeType ?? d.volumeType,
      vifModel: vm.vifModel ?? d.vifModel ?? 'virtio',
      drivers: {
        mode: drivers.mode ?? 'auto',
        virtioWin: drivers.virtioWin,
        balloon: drivers.balloon ?? true,
      },
      guestCredentials: vm.guestCredentials ?? d.guestCredentials ?? DEFAULT_GUEST_CREDENTIALS,
      sourceAfter: vm.sourceAfter ?? d.sourceAfter ?? 'keep-off',
      isoDatastore: vm.isoDatastore ?? d.isoDatastore,
      stagingDir: vm.stagingDir ?? d.stagingDir,
      exportMethod: vm.exportMethod ?? d.exportMethod ?? 'lease',
      uploadHashes: vm.uploadHashes ?? d.uploadHashes ?? DEFAULT_UPLOAD_HASHES,
      transferStallSeconds:
        vm.transferStallSeconds ?? d.transferStallSeconds ?? DEFAULT_TRANSFER_STALL_SECONDS,
      bootFallback: vm.bootFallback ?? d.bootFallback ?? DEFAULT_BOOT_FALLBACK,
      bootCheck: vm.bootCheck ?? d.bootCheck ?? DEFAULT_BOOT_CHECK,
      bootTimeoutSeconds: vm.bootTimeoutSeconds ?? d.bootTimeoutSeconds ?? DEFAULT_BOOT_TIMEOUT_SECONDS,
      guestAgent: vm.guestAgent ?? d.guestAgent ?? DEFAULT_GUEST_AGENT,
      removeVmwareTools: vm.removeVmwareTools ?? d.removeVmwareTools ?? DEFAULT_REMOVE_VMWARE_TOOLS,
      bitlocker: vm.bitlocker ?? d.bitlocker ?? DEFAULT_BITLOCKER,
      domainController: vm.domainController ?? d.domainController ?? DEFAULT_DOMAIN_CONTROLLER,
      clock: vm.clock ?? d.clock ?? DEFAULT_CLOCK,
      migration: vm.migration ?? d.migration ?? DEFAULT_MIGRATION,
      warm: resolveWarm(d.warm, vm.warm),
      ...resolveConversionHost(d.conversionHost, vm.conversionHost),
    };
  });
  const c = { ...DEFAULT_CONCURRENCY, ...plan.concurrency };
  return {
    file,
    source: plan.source,
    target: plan.target,
    concurrency: {
      vms: c.vms,
      disksPerVm: c.disksPerVm,
      disks: c.disks ?? c.vms * c.disksPerVm,
      perSourceHost: c.perSourceHost,
      perTarget: c.perTarget,
    },
    vms,
  };
}

type WarmFile = NonNullable<PlanFile['defaults']>['warm'];
type ConversionHostFile = NonNullable<PlanFile['defaults']>['conversionHost'];

/** Field by field: a VM may change one warm setting and keep the others from `defaults`. */
function resolveWarm(d: WarmFile, vm: WarmFile): WarmSettings {
  const w = { ...d, ...vm };
  return {
    passIntervalMinutes: w.passIntervalMinutes ?? DEFAULT_WARM.passIntervalMinutes,
    maxPasses: w.maxPasses ?? DEFAULT_WARM.maxPasses,
    ...(w.cutoverAt === undefined ? {} : { cutoverAt: w.cutoverAt }),
  };
}

/** No `conversionHost` in the VM nor in `defaults`: none (cold goes through Glance as before). */
function resolveConversionHost(
  d: ConversionHostFile,
  vm: ConversionHostFile,
): { conversionHost?: ConversionHostSettings } {
  if (!d && !vm) return {};
  return { conversionHost: { ...DEFAULT_CONVERSION_HOST, ...d, ...vm } };
}

/** A plan file that failed to parse or validate; every problem carries its line. */
export class PlanFileError extends ConfigError {
  readonly problems: { line?: number; path: string; message: string }[];
  constructor(file: string, problems: { line?: number; path: string; message: string }[]) {
    const lines = problems.map(
      (p) => `  ${file}${p.line ? `:${p.line}` : ''}: ${p.path ? `${p.path}: ` : ''}${p.message}`,
    );
    super(`invalid plan file ${file}:\n${lines.join('\n')}`, {
      hint: 'fix the lines above (`v2o init` writes a commented example plan)',
    });
    this.problems = problems;
  }
}

/** Parse and validate plan text. `file` names the source in messages. */
export function parsePlanText(text: string, file = 'plan.yaml'): ResolvedPlan {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new PlanFileError(
      file,
      doc.errors.map((e) => ({
        line: e.linePos?.[0]?.line ?? lineCounter.linePos(e.pos[0]).line,
        path: '',
        message: e.message.split('\n')[0]!,
      })),
    );
  }
  const data = doc.toJS();
  const res = PlanFileSchema.safeParse(data);
  if (res.success) return resolvePlan(res.data, file);
  const lineOf = (offset: number | undefined) =>
    offset === undefined ? undefined : lineCounter.linePos(offset).line;
  const problems = res.error.issues.map((issue) => {
    const path = issue.path.map((p) => (typeof p === 'number' ? p : String(p)));
    if (issue.code === 'unrecognized_keys') {
      // Point at the unknown key itself, not at the map holding it.
      const key = issue.keys[0]!;
      const map = path.length ? doc.getIn(path, true) : doc.contents;
      const pair = isMap(map)
        ? map.items.find((it) => (it.key as { value?: unknown })?.value === key)
        : undefined;
      return {
        line: lineOf((pair?.key as Node | undefined)?.range?.[0]),
        path: formatPath([...path, key]),
        message: `unknown field \`${key}\`${issue.keys.length > 1 ? ` (and ${issue.keys.slice(1).join(', ')})` : ''}`,
      };
    }
    return { line: lineOf(nodeOffset(doc, path)), path: formatPath(path), message: describeIssue(issue) };
  });
  throw new PlanFileError(file, problems);
}

export function loadPlanFile(file: string): ResolvedPlan {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read plan file ${file}: ${(err as Error).message}`, {
      cause: err,
      hint: 'give the path of a plan file; `v2o init plan.yaml` writes an example',
    });
  }
  return parsePlanText(text, file);
}

/** The start offset of the deepest node along `path` that exists (a missing field points at its parent). */
function nodeOffset(doc: ReturnType<typeof parseDocument>, path: (string | number)[]): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = (n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true)) as Node | null | undefined;
    if (node?.range) return node.range[0];
  }
  return undefined;
}

function formatPath(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && issue.input === undefined) return `is required (${issue.expected})`;
  if (issue.code === 'invalid_value')
    return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  return issue.message;
}
