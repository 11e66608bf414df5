// What the first-boot task does on the target before it reports (issue 13), as data: firstboot.json
// (version 2) lists the actions, firstboot.ps1 carries them out in this order, each idempotent, at
// most FIRSTBOOT_MAX_BOOTS boots, and writes what it applied into its `v2o-firstboot:` line
// (marker.ts). The lab's Nova applies the same data to the guest state it booted
// (test/lab/openstack/py/v2o_lab_nova.py), so a wrong replay shows in a test. Types only here.

import type { GuestAddress, GuestGateway, GuestRoute, NetworkCategory, SanPolicy } from '../guest/facts.js';
import type { DiskBus } from '../plan-file.js';

export const FIRSTBOOT_MAX_BOOTS = 3;

/** How the ghost adapters are removed on a release (pnputil /remove-device needs Windows 10 2004 / build 19041). */
export type GhostRemoval = 'pnputil' | 'setupapi';

/** One NetKVM (or e1000) adapter to configure: found by MAC when the port keeps it, else by its position. */
export interface AdapterReplay {
  match: { mac?: string; order: number };
  /** The captured connection name the adapter gets. */
  name: string;
  dhcp: boolean;
  ipv4: GuestAddress[];
  ipv6: GuestAddress[];
  gateways: GuestGateway[];
  routes: GuestRoute[];
  dnsServers: string[];
  dnsSuffix?: string;
  registerInDns: boolean;
  mtu: number;
  /** DomainAuthenticated cannot be set: Windows' NLA sets it once the domain is reachable. */
  category?: NetworkCategory;
}

export interface FirstbootConfigV2 {
  version: 2;
  runId: string;
  expectBus: DiskBus;
  /** The source's SMBIOS UUID: the task does nothing on that machine (rollback, sourceAfter: power-on). */
  sourceUuid?: string;
  /** In order: ghosts, rename, static configuration, category. Absent: nothing to replay. */
  network?: {
    removeGhosts: { mechanism: GhostRemoval; descriptions: string[] };
    adapters: AdapterReplay[];
  };
  disks?: {
    sanPolicy: SanPolicy;
    /** Data disks to bring online, and the letters their volumes had (by volume GUID). */
    online: boolean;
    letters: { volumeGuid: string; driveLetter: string }[];
  };
  /** The QEMU guest agent MSI copied into the guest before shutdown. */
  guestAgent?: { msi: string };
  removeVmwareTools: boolean;
}

/** What the task reports it applied, read back from Windows after applying (not what it meant to do). */
export interface FirstbootResult {
  boot: number;
  adapters: {
    name: string;
    mac: string;
    dhcp: boolean;
    ipv4: GuestAddress[];
    ipv6: GuestAddress[];
    gateways: GuestGateway[];
    routes: GuestRoute[];
    dnsServers: string[];
    dnsSuffix?: string;
    category?: NetworkCategory;
  }[];
  ghostsRemoved: string[];
  sanPolicy?: SanPolicy;
  disks: { number: number; online: boolean; letters: string[] }[];
  guestAgent?: 'installed' | 'failed';
  vmwareTools?: 'removed' | 'kept' | 'failed';
  /** Every action that failed, with Windows' message; empty when all applied. */
  failed: { action: string; target?: string; message: string }[];
}
