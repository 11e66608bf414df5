// Which Windows a VM runs, and so which virtio-win driver folder (2k12R2, 2k16, 2k19, 2k22, w10, w11)
// fits it. The guest's full name reported by VMware Tools wins over the configured guestId,
// because guestId is whatever someone picked at creation and is often stale after upgrades.

export const VIRTIO_WIN_FOLDERS = ['2k12R2', '2k16', '2k19', '2k22', 'w10', 'w11'] as const;
export type VirtioWinFolder = (typeof VIRTIO_WIN_FOLDERS)[number];

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

const BY_NAME: { re: RegExp; folder: VirtioWinFolder; osVersion: string; label: string; server: boolean }[] =
  [
    {
      re: /windows server 2022/i,
      folder: '2k22',
      osVersion: '2022',
      label: 'Windows Server 2022',
      server: true,
    },
    {
      re: /windows server 2019/i,
      folder: '2k19',
      osVersion: '2019',
      label: 'Windows Server 2019',
      server: true,
    },
    {
      re: /windows server 2016/i,
      folder: '2k16',
      osVersion: '2016',
      label: 'Windows Server 2016',
      server: true,
    },
    {
      re: /windows server 2012 r2/i,
      folder: '2k12R2',
      osVersion: '2012r2',
      label: 'Windows Server 2012 R2',
      server: true,
    },
    { re: /windows 11/i, folder: 'w11', osVersion: '11', label: 'Windows 11', server: false },
    { re: /windows 10/i, folder: 'w10', osVersion: '10', label: 'Windows 10', server: false },
  ];

const BY_GUEST_ID: Record<
  string,
  { folder: VirtioWinFolder; osVersion: string; label: string; server: boolean }
> = {
  windows8Server64Guest: {
    folder: '2k12R2',
    osVersion: '2012r2',
    label: 'Windows Server 2012 R2',
    server: true,
  },
  windows9Server64Guest: { folder: '2k16', osVersion: '2016', label: 'Windows Server 2016', server: true },
  windows2019srv_64Guest: { folder: '2k19', osVersion: '2019', label: 'Windows Server 2019', server: true },
  // vSphere 7.0U3+ names Windows Server 2022 "windows2019srvNext".
  windows2019srvNext_64Guest: {
    folder: '2k22',
    osVersion: '2022',
    label: 'Windows Server 2022',
    server: true,
  },
  windows2022srvNext_64Guest: {
    folder: '2k22',
    osVersion: '2022',
    label: 'Windows Server 2022',
    server: true,
  },
  windows9_64Guest: { folder: 'w10', osVersion: '10', label: 'Windows 10', server: false },
  windows11_64Guest: { folder: 'w11', osVersion: '11', label: 'Windows 11', server: false },
  windows12_64Guest: { folder: 'w11', osVersion: '11', label: 'Windows 11', server: false },
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
  if (/windows server 2012(?! r2)/i.test(name)) {
    return {
      ok: true,
      version: {
        folder: '2k12R2',
        osVersion: '2012',
        label: 'Windows Server 2012',
        server: true,
        from: 'guestFullName',
      },
      warning:
        'Windows Server 2012 (not R2): the 2k12R2 drivers are used; check that they load after migration',
    };
  }
  for (const m of BY_NAME) {
    if (m.re.test(name)) {
      const { re: _re, ...v } = m;
      return { ok: true, version: { ...v, from: 'guestFullName' } };
    }
  }
  const byId = BY_GUEST_ID[guestId];
  if (byId) return { ok: true, version: { ...byId, from: 'guestId' } };
  if (UNSUPPORTED_IDS.has(guestId)) {
    return { ok: false, windows: true, reason: `guestId ${guestId} is too old for the virtio-win drivers` };
  }
  return {
    ok: false,
    windows: true,
    reason: `unknown Windows version (guestId ${guestId}${name ? `, guest "${name}"` : ''})`,
  };
}
