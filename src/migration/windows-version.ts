// Which Windows a VM runs, and so which virtio-win driver folder fits it and which pnputil syntax
// it has. The guest's full name reported by VMware Tools wins over the configured guestId,
// because guestId is whatever someone picked at creation and is often stale after upgrades.

/**
 * virtio-win's folder per release (virtio-win-pkg-scripts util/filemap.py): Server 2012 has its
 * own `2k12`, not `2k12R2`; Server 2025 has `2k25` (since 2024).
 */
export const VIRTIO_WIN_FOLDERS = ['2k12', '2k12R2', '2k16', '2k19', '2k22', '2k25', 'w10', 'w11'] as const;
export type VirtioWinFolder = (typeof VIRTIO_WIN_FOLDERS)[number];

/**
 * `pnputil /add-driver` exists from Windows 10 1607 / Server 2016 on; Windows 8 / Server 2012 and
 * 2012 R2 only know `pnputil -a` / `-i -a` (Microsoft "PnPUtil Command Syntax", Windows 8 page).
 * Windows 10 before 1607 (1507/1511) is out of support and not told apart here.
 */
export type PnputilSyntax = 'add-driver' | 'legacy';

export function pnputilSyntax(folder: VirtioWinFolder): PnputilSyntax {
  return folder === '2k12' || folder === '2k12R2' ? 'legacy' : 'add-driver';
}

export interface WindowsVersion {
  folder: VirtioWinFolder;
  /** Glance os_version. */
  osVersion: string;
  label: string;
  server: boolean;
  /** Where the answer came from. */
  from: 'guestFullName' | 'guestId';
}

export type WindowsDetection =
  | { ok: true; version: WindowsVersion; warning?: string }
  | { ok: false; windows: boolean; reason: string };

type Release = Omit<WindowsVersion, 'from'>;

const S2012: Release = { folder: '2k12', osVersion: '2012', label: 'Windows Server 2012', server: true };
const S2012R2: Release = {
  folder: '2k12R2',
  osVersion: '2012r2',
  label: 'Windows Server 2012 R2',
  server: true,
};
const S2016: Release = { folder: '2k16', osVersion: '2016', label: 'Windows Server 2016', server: true };
const S2019: Release = { folder: '2k19', osVersion: '2019', label: 'Windows Server 2019', server: true };
const S2022: Release = { folder: '2k22', osVersion: '2022', label: 'Windows Server 2022', server: true };
const S2025: Release = { folder: '2k25', osVersion: '2025', label: 'Windows Server 2025', server: true };
const W10: Release = { folder: 'w10', osVersion: '10', label: 'Windows 10', server: false };
const W11: Release = { folder: 'w11', osVersion: '11', label: 'Windows 11', server: false };

// Order matters: "2012 R2" before "2012".
const BY_NAME: [RegExp, Release][] = [
  [/windows server 2025/i, S2025],
  [/windows server 2022/i, S2022],
  [/windows server 2019/i, S2019],
  [/windows server 2016/i, S2016],
  [/windows server 2012 r2/i, S2012R2],
  [/windows server 2012/i, S2012],
  [/windows 11/i, W11],
  [/windows 10/i, W10],
];

/** vim25 guest ids (govmomi vim25/types/enum.go VirtualMachineGuestOsIdentifier). */
const BY_GUEST_ID: Record<string, Release> = {
  // One id for Server 2012 and 2012 R2: only the Tools-reported full name tells them apart.
  windows8Server64Guest: S2012R2,
  windows9Server64Guest: S2016,
  windows2019srv_64Guest: S2019,
  // vSphere 7.0U3+ names Server 2022 "windows2019srvNext" and Server 2025 "windows2022srvNext".
  windows2019srvNext_64Guest: S2022,
  windows2022srvNext_64Guest: S2025,
  windows9_64Guest: W10,
  windows11_64Guest: W11,
  windows12_64Guest: W11,
};

/** Too old for current virtio-win drivers. */
const UNSUPPORTED =
  /windows server 2008|windows server 2003|windows 7|windows 8(?!\d)|windows xp|windows vista/i;
const UNSUPPORTED_IDS = new Set([
  'windows7Server64Guest',
  'windows7_64Guest',
  'windows8_64Guest',
  'winNetStandardGuest',
]);

export function detectWindows(guestId: string, guestFullName?: string): WindowsDetection {
  // "Windows Server 2016 or later" is vSphere's label for the guestId, not what the guest runs.
  const name = /or later/i.test(guestFullName ?? '') ? '' : (guestFullName?.trim() ?? '');
  const looksWindows = /^win/i.test(guestId) || /windows/i.test(name);
  if (!looksWindows) {
    return {
      ok: false,
      windows: false,
      reason: `not a Windows VM (guestId ${guestId}${name ? `, guest "${name}"` : ''})`,
    };
  }
  if (/\(32-bit\)/i.test(name) || (/^win/i.test(guestId) && !/64/.test(guestId) && !name)) {
    return { ok: false, windows: true, reason: `32-bit Windows is not supported (guestId ${guestId})` };
  }
  if (name && UNSUPPORTED.test(name)) {
    return { ok: false, windows: true, reason: `${name} is too old for the virtio-win drivers` };
  }
  for (const [re, release] of BY_NAME) {
    if (re.test(name)) return { ok: true, version: { ...release, from: 'guestFullName' } };
  }
  const byId = BY_GUEST_ID[guestId];
  if (byId) {
    return {
      ok: true,
      version: { ...byId, from: 'guestId' },
      ...(guestId === 'windows8Server64Guest'
        ? {
            warning:
              'guestId windows8Server64Guest is Server 2012 or 2012 R2 and VMware Tools did not report which: the 2012 R2 drivers (2k12R2) are planned',
          }
        : {}),
    };
  }
  if (UNSUPPORTED_IDS.has(guestId)) {
    return { ok: false, windows: true, reason: `guestId ${guestId} is too old for the virtio-win drivers` };
  }
  return {
    ok: false,
    windows: true,
    reason: `unknown Windows version (guestId ${guestId}${name ? `, guest "${name}"` : ''})`,
  };
}
