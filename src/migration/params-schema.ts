// The shape of MigrationParams as zod, checked when a stored run is resumed or rolled back (the
// workflow's parseParams): a run made by another v2o version is refused with the field that does
// not fit, instead of steps meeting undefined settings half-way. Typed against MigrationParams, so
// a field the types require but this schema lacks fails the typecheck. Plan objects are loose:
// fields added later by the planners are kept as they are, not stripped.
import { z } from 'zod';
import type { MigrationParams } from './params.js';
import {
  BITLOCKER_MODES,
  BOOT_CHECKS,
  BOOT_FALLBACKS,
  CLOCK_MODES,
  DEFAULT_WARM,
  DOMAIN_CONTROLLER_MODES,
  IMAGE_FORMATS,
  MIGRATION_KINDS,
  SourceSettingsSchema,
  TargetSettingsSchema,
  UPLOAD_HASHES,
  VmMigrationConfigSchema,
} from './plan-file.js';
import { VIRTIO_WIN_FOLDERS } from './windows-version.js';

const IssueSchema = z.looseObject({ code: z.string(), message: z.string(), fix: z.string() });

const SettingsSchema = z.looseObject({
  exportMethod: z.enum(['lease', 'datastore']),
  uploadHashes: z.array(z.enum(UPLOAD_HASHES)),
  transferStallSeconds: z.number().positive(),
  stagingDir: z.string().optional(),
  guestCredentials: z.looseObject({ usernameEnv: z.string(), passwordEnv: z.string() }),
  bootCheck: z.enum(BOOT_CHECKS),
  bootFallback: z.enum(BOOT_FALLBACKS),
  bootTimeoutSeconds: z.number().positive(),
  // A run stored before issue 13 has neither: what it did then (no agent, Tools kept).
  guestAgent: z.boolean().default(false),
  removeVmwareTools: z.boolean().default(false),
  bitlocker: z.enum(BITLOCKER_MODES),
  domainController: z.enum(DOMAIN_CONTROLLER_MODES),
  clock: z.enum(CLOCK_MODES),
  // A run stored before issue 14 was cold, without a conversion host.
  migration: z.enum(MIGRATION_KINDS).default('cold'),
  warm: z
    .looseObject({
      passIntervalMinutes: z.number().min(0),
      maxPasses: z.int().positive(),
      cutoverAt: z.string().optional(),
    })
    .default({ ...DEFAULT_WARM }),
  conversionHost: z
    .looseObject({
      server: z.string(),
      metadataUrl: z.string(),
      deviceDir: z.string(),
      attachmentSlots: z.int().positive(),
      deviceTimeoutSeconds: z.number().positive(),
    })
    .optional(),
});

const LayoutSchema = z.looseObject({
  createType: z.string(),
  flatExtent: z.string().optional(),
  notFlatReason: z.string().optional(),
});

const SourceSchema = z.looseObject({
  moref: z.string(),
  instanceUuid: z.string().optional(),
  guestId: z.string(),
  guestFullName: z.string().optional(),
  firmware: z.enum(['bios', 'efi']),
  secureBoot: z.boolean(),
  vtpm: z.boolean(),
  cpus: z.number(),
  memoryMiB: z.number(),
  powerState: z.enum(['poweredOn', 'poweredOff', 'suspended']),
  toolsRunning: z.boolean(),
  wasPoweredOn: z.boolean(),
  datacenter: z.string().optional(),
  host: z.string().optional(),
});

const WindowsSchema = z.looseObject({
  folder: z.enum(VIRTIO_WIN_FOLDERS),
  osVersion: z.string(),
  label: z.string(),
  server: z.boolean(),
  from: z.enum(['guestFullName', 'guestId']),
});

const DriversSchema = z.looseObject({
  bus: z.enum(['virtio', 'scsi', 'sata']),
  install: z.array(
    z.looseObject({
      name: z.enum(['viostor', 'vioscsi', 'netkvm', 'balloon', 'vioserial']),
      isoDir: z.string(),
      inf: z.string(),
    }),
  ),
  bootCriticalService: z.enum(['viostor', 'vioscsi', 'storahci']),
  serviceKey: z.string(),
  pnputil: z.enum(['add-driver', 'legacy']),
  bootFallback: z.enum(BOOT_FALLBACKS),
  bootServices: z.array(
    z.looseObject({
      name: z.enum(['viostor', 'vioscsi', 'storahci']),
      bus: z.enum(['virtio', 'scsi', 'sata']),
      key: z.string(),
      fromIso: z.looseObject({ isoDir: z.string(), inf: z.string(), sys: z.string() }).optional(),
      sys: z.string(),
      values: z.array(
        z.looseObject({
          key: z.string(),
          name: z.string(),
          type: z.enum(['REG_DWORD', 'REG_SZ', 'REG_EXPAND_SZ']),
          data: z.union([z.number(), z.string()]),
        }),
      ),
      startOverrideKey: z.string().optional(),
    }),
  ),
  guestAgentMsi: z.string().optional(),
  mode: z.enum(['auto', 'manual']),
  iso: z
    .looseObject({
      path: z.string().optional(),
      url: z.string().optional(),
      sha256: z.string().optional(),
      datastore: z.string().optional(),
    })
    .optional(),
});

const DiskSchema = z.looseObject({
  index: z.number(),
  key: z.number(),
  label: z.string(),
  role: z.enum(['boot', 'data']),
  sizeBytes: z.number(),
  sourceFile: z.string(),
  datastore: z.string(),
  controller: z.string(),
  image: z.looseObject({
    name: z.string(),
    diskFormat: z.enum(IMAGE_FORMATS),
    containerFormat: z.literal('bare'),
    properties: z.record(z.string(), z.string()),
    minDiskGiB: z.number(),
    minRamMiB: z.number(),
  }),
  volume: z
    .looseObject({
      name: z.string(),
      sizeGiB: z.number(),
      fromImage: z.string(),
      volumeType: z.string().optional(),
      bootable: z.boolean(),
    })
    .optional(),
  localSpaceBytes: z.number(),
  // Runs planned before issue 14 sent every disk through Glance.
  route: z.enum(['volume', 'image']).default('image'),
  resumesMidDisk: z.boolean().default(false),
  layout: LayoutSchema.optional(),
});

const PortSchema = z.looseObject({
  name: z.string(),
  nicKey: z.number(),
  nicLabel: z.string(),
  sourceMac: z.string(),
  portGroup: z.string(),
  networkId: z.string(),
  networkName: z.string(),
  macAddress: z.string().optional(),
  fixedIp: z.string().optional(),
  subnetId: z.string().optional(),
  fixedIps: z
    .array(z.looseObject({ subnetId: z.string(), ipAddress: z.string(), prefixLength: z.number() }))
    .optional(),
  allowedAddressPairs: z.array(z.looseObject({ ipAddress: z.string() })).optional(),
});

const FlavorSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  vcpus: z.number(),
  ramMiB: z.number(),
  diskGiB: z.number(),
  chosenBy: z.enum(['plan', 'best-match']),
});

const AddressSchema = z.looseObject({ address: z.string(), prefixLength: z.number() });
const CATEGORIES = ['Public', 'Private', 'DomainAuthenticated'] as const;

/** GuestFacts (guest/facts.ts) as the plan stores them. */
const GuestFactsSchema = z.looseObject({
  capturedAt: z.string(),
  hostname: z.string(),
  powershellVersion: z.string(),
  languageMode: z.enum(['FullLanguage', 'ConstrainedLanguage', 'RestrictedLanguage', 'NoLanguage']),
  executionPolicyByGpo: z.string().optional(),
  deviceInstallBlocked: z.boolean(),
  sourceUuid: z.string(),
  domainController: z.boolean(),
  partOfDomain: z.boolean(),
  pendingReboot: z.array(z.string()),
  fastStartup: z.boolean(),
  hibernation: z.boolean(),
  realTimeIsUniversal: z.boolean(),
  bitlocker: z.array(
    z.looseObject({
      mountPoint: z.string(),
      protection: z.enum(['On', 'Off', 'Unknown']),
      volumeStatus: z.string(),
    }),
  ),
  adapters: z.array(
    z.looseObject({
      name: z.string(),
      description: z.string(),
      mac: z.string(),
      ifIndex: z.number(),
      status: z.string(),
      dhcp: z.boolean(),
      ipv4: z.array(AddressSchema),
      ipv6: z.array(AddressSchema),
      gateways: z.array(z.looseObject({ nextHop: z.string(), metric: z.number() })),
      routes: z.array(z.looseObject({ destination: z.string(), nextHop: z.string(), metric: z.number() })),
      dnsServers: z.array(z.string()),
      dnsSuffix: z.string().optional(),
      registerInDns: z.boolean(),
      mtu: z.number(),
      category: z.enum(CATEGORIES).optional(),
      vlanId: z.number().optional(),
    }),
  ),
  ghostAdapters: z.array(
    z.looseObject({ name: z.string(), description: z.string(), instanceId: z.string() }),
  ),
  teams: z.array(z.looseObject({ name: z.string(), members: z.array(z.string()) })),
  disks: z.array(
    z.looseObject({
      number: z.number(),
      online: z.boolean(),
      system: z.boolean(),
      boot: z.boolean(),
      partitionStyle: z.enum(['MBR', 'GPT', 'RAW']),
      sizeBytes: z.number(),
      dynamic: z.boolean(),
      volumes: z.array(
        z.looseObject({
          guid: z.string(),
          driveLetter: z.string().optional(),
          label: z.string().optional(),
          fileSystem: z.string().optional(),
          sizeBytes: z.number(),
          freeBytes: z.number(),
        }),
      ),
    }),
  ),
  sanPolicy: z.enum(['OnlineAll', 'OfflineShared', 'OfflineAll', 'OfflineInternal', 'Unknown']),
  systemFreeBytes: z.number(),
  gaps: z.array(z.looseObject({ part: z.string(), reason: z.string() })),
});

const PlanSchema = z.looseObject({
  vm: z.string(),
  ready: z.boolean(),
  blockers: z.array(IssueSchema),
  warnings: z.array(IssueSchema),
  source: SourceSchema.optional(),
  windows: WindowsSchema.optional(),
  drivers: DriversSchema.optional(),
  disks: z.array(DiskSchema),
  flavor: FlavorSchema.optional(),
  bootFromVolume: z.boolean(),
  ports: z.array(PortSchema),
  server: z.looseObject({ name: z.string(), metadata: z.record(z.string(), z.string()) }),
  localSpaceBytes: z.number(),
  sourceAfter: z.enum(['keep-off', 'power-on']),
  guest: GuestFactsSchema.optional(),
  settings: SettingsSchema,
});

const limits = z.looseObject({
  overall: z.int().positive(),
  perSource: z.int().positive(),
  perTarget: z.int().positive(),
});

export const MigrationParamsSchema: z.ZodType<MigrationParams> = z.looseObject({
  vm: z.string(),
  planFile: z.string().optional(),
  source: SourceSettingsSchema,
  target: TargetSettingsSchema,
  plan: PlanSchema,
  inputs: VmMigrationConfigSchema,
  options: z.looseObject({
    forcePoweroff: z.boolean(),
    shutdownTimeoutMs: z.number().positive(),
    disksInParallel: z.int().positive(),
    transferLimits: limits,
  }),
});

/** The stored params, checked; throws naming the first fields that do not fit. */
export function parseMigrationParams(raw: unknown): MigrationParams {
  const r = MigrationParamsSchema.safeParse(raw);
  if (r.success) return r.data;
  const problems = r.error.issues.slice(0, 3).map((i) => {
    const at = i.path.map(String).join('.') || '(the params)';
    const missing = i.code === 'invalid_type' && i.input === undefined;
    return `${at}: ${missing ? `missing (${i.expected})` : i.message}`;
  });
  const more = r.error.issues.length > 3 ? ` (and ${r.error.issues.length - 3} more)` : '';
  throw new Error(`${problems.join('; ')}${more}`);
}
