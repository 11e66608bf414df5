// What v2o learns inside the running Windows guest before anything goes down (issue 13): the
// readiness facts the guest rules judge, and the network identity and disk layout the first-boot
// task replays on OpenStack. capture.ts gathers it read-only through guest operations, parse.ts
// turns Windows PowerShell's ConvertTo-Json output into this shape. Plain data, journaled as
// preflight's output and stored in the run's plan.

/** One IP address with its prefix, as Get-NetIPAddress reports it. */
export interface GuestAddress {
  address: string;
  prefixLength: number;
}

export interface GuestGateway {
  nextHop: string;
  /** RouteMetric of the 0.0.0.0/0 (or ::/0) route. */
  metric: number;
}

export interface GuestRoute {
  /** CIDR, e.g. 203.0.113.0/24. */
  destination: string;
  nextHop: string;
  metric: number;
}

/** Windows' network location (NetConnectionProfile NetworkCategory). */
export type NetworkCategory = 'Public' | 'Private' | 'DomainAuthenticated';

/** An adapter's IP configuration: what Windows ties to the adapter, not to its MAC. */
export interface GuestIpConfig {
  dhcp: boolean;
  /** Every IPv4 address (static ones when dhcp is false). */
  ipv4: GuestAddress[];
  /** Manually set IPv6 addresses only (PrefixOrigin Manual): link-local and SLAAC ones are not configuration. */
  ipv6: GuestAddress[];
  gateways: GuestGateway[];
  /** Persistent routes (PersistentStore) on this interface, default routes excluded. */
  routes: GuestRoute[];
  dnsServers: string[];
  /** Connection-specific DNS suffix; undefined when none. */
  dnsSuffix?: string;
  registerInDns: boolean;
  /** NlMtu of the IPv4 interface, bytes. */
  mtu: number;
  category?: NetworkCategory;
}

export interface GuestAdapter extends GuestIpConfig {
  /** The connection name ("Prod LAN"): what the replay renames the new adapter to. */
  name: string;
  /** InterfaceDescription, e.g. "vmxnet3 Ethernet Adapter". */
  description: string;
  /** Lower case, colon separated (00:50:56:a1:20:01), as vSphere and Neutron write it. */
  mac: string;
  ifIndex: number;
  /** Up, Disconnected, Disabled … */
  status: string;
  /** VLAN id set inside the guest (0 or undefined: none). */
  vlanId?: number;
}

/** A non-present network device (a "ghost"): an adapter Windows remembers but no longer sees. */
export interface GuestGhostAdapter {
  name: string;
  description: string;
  instanceId: string;
}

export interface GuestVolume {
  /** \\?\Volume{…}\ */
  guid: string;
  /** A single letter, undefined when the volume has none. */
  driveLetter?: string;
  label?: string;
  fileSystem?: string;
  sizeBytes: number;
  freeBytes: number;
}

export interface GuestDisk {
  number: number;
  online: boolean;
  system: boolean;
  boot: boolean;
  partitionStyle: 'MBR' | 'GPT' | 'RAW';
  sizeBytes: number;
  /** A dynamic (LDM) disk: Win32_DiskPartition type "Logical Disk Manager". */
  dynamic: boolean;
  volumes: GuestVolume[];
}

/** MSFT_StorageSetting NewDiskPolicy / VDS_SAN_POLICY. */
export type SanPolicy = 'OnlineAll' | 'OfflineShared' | 'OfflineAll' | 'OfflineInternal' | 'Unknown';

export interface GuestBitlockerVolume {
  mountPoint: string;
  /** On: protectors active; Off: decrypted or suspended. */
  protection: 'On' | 'Off' | 'Unknown';
  volumeStatus: string;
}

export interface GuestFacts {
  /** When it was captured (ISO 8601), for the plan and status outputs. */
  capturedAt: string;
  hostname: string;
  /** "5.1", "4.0" (Server 2012 R2). */
  powershellVersion: string;
  languageMode: 'FullLanguage' | 'ConstrainedLanguage' | 'RestrictedLanguage' | 'NoLanguage';
  /** The execution policy Group Policy sets (MachinePolicy/UserPolicy), undefined when none. */
  executionPolicyByGpo?: string;
  /** Device installation restricted by Group Policy (DeviceInstall\Restrictions Deny* = 1). */
  deviceInstallBlocked: boolean;
  /** SMBIOS system UUID (Win32_ComputerSystemProduct), lower case: the first-boot task never acts on this machine. */
  sourceUuid: string;
  /** Domain role 4/5 (backup/primary DC) or the NTDS service present. */
  domainController: boolean;
  partOfDomain: boolean;
  /** Each pending-reboot signal found: CBS, WindowsUpdate, PendingFileRenameOperations. */
  pendingReboot: string[];
  fastStartup: boolean;
  /** hiberfil.sys present or HibernateEnabled = 1. */
  hibernation: boolean;
  /** TimeZoneInformation RealTimeIsUniversal = 1: the guest expects a UTC clock. */
  realTimeIsUniversal: boolean;
  bitlocker: GuestBitlockerVolume[];
  adapters: GuestAdapter[];
  ghostAdapters: GuestGhostAdapter[];
  /** LBFO teams (Get-NetLbfoTeam): names and member adapters. */
  teams: { name: string; members: string[] }[];
  disks: GuestDisk[];
  sanPolicy: SanPolicy;
  /** The system volume's free bytes (C:). */
  systemFreeBytes: number;
  /** Parts the guest could not report (a cmdlet missing on this release), with Windows' words. */
  gaps: { part: string; reason: string }[];
}
