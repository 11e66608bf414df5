// What the first-boot task does on the target before it reports (issue 13), as data: firstboot.json
// (version 2) lists the actions, firstboot.ps1 carries them out in this order, each idempotent, at
// most FIRSTBOOT_MAX_BOOTS boots, and writes what it applied into its `v2o-firstboot:` line
// (marker.ts). The lab's Nova applies the same data to the guest state it booted
// (test/lab/openstack/py/v2o_lab_firstboot.py), so a wrong replay shows in a test. Types only here.

import type { GuestIpConfig, SanPolicy } from '../guest/facts.js';
import type { DiskBus } from '../plan-file.js';

export const FIRSTBOOT_MAX_BOOTS = 3;

/** How the ghost adapters are removed on a release (pnputil /remove-device needs Windows 10 2004 / build 19041). */
export type GhostRemoval = 'pnputil' | 'setupapi';

/** One NetKVM (or e1000) adapter to configure: found by MAC when the port keeps it, else by its position. */
export interface AdapterReplay extends GuestIpConfig {
  match: { mac?: string; order: number };
  /** The captured connection name the adapter gets. DomainAuthenticated (category) cannot be set: NLA sets it. */
  name: string;
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
  adapters: ({ name: string; mac: string } & Omit<GuestIpConfig, 'registerInDns' | 'mtu'>)[];
  ghostsRemoved: string[];
  sanPolicy?: SanPolicy;
  disks: { number: number; online: boolean; letters: string[] }[];
  guestAgent?: 'installed' | 'failed';
  vmwareTools?: 'removed' | 'kept' | 'failed';
  /** Every action that failed, with Windows' message; empty when all applied. */
  failed: { action: string; target?: string; message: string }[];
}
