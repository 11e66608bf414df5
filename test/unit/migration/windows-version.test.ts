import { describe, expect, it } from 'vitest';
import { planDrivers } from '../../../src/migration/drivers.js';
import { bootImageProperties } from '../../../src/migration/image-properties.js';
import { detectWindows } from '../../../src/migration/windows-version.js';

describe('Windows version → virtio-win folder', () => {
  it.each([
    ['windows8Server64Guest', 'Microsoft Windows Server 2012 R2 (64-bit)', '2k12R2'],
    ['windows9Server64Guest', 'Microsoft Windows Server 2016 (64-bit)', '2k16'],
    ['windows2019srv_64Guest', 'Microsoft Windows Server 2019 Datacenter', '2k19'],
    ['windows2019srvNext_64Guest', undefined, '2k22'],
    ['windows2019srv_64Guest', 'Microsoft Windows Server 2022 Standard', '2k22'], // tools know better
    ['windows9_64Guest', 'Microsoft Windows 10 Pro', 'w10'],
    ['windows9_64Guest', 'Microsoft Windows 11 Enterprise', 'w11'],
    ['windows11_64Guest', undefined, 'w11'],
    ['windows9Server64Guest', 'Microsoft Windows Server 2016 or later (64-bit)', '2k16'], // vSphere label: use guestId
  ])('%s / %s → %s', (guestId, name, folder) => {
    const d = detectWindows(guestId, name);
    expect(d.ok && d.version.folder).toBe(folder);
  });

  it('knows where the answer came from', () => {
    const d = detectWindows('windows2019srv_64Guest', 'Microsoft Windows Server 2022 Standard');
    expect(d.ok && d.version.from).toBe('guestFullName');
    const e = detectWindows('windows2019srv_64Guest');
    expect(e.ok && e.version.from).toBe('guestId');
  });

  it.each([
    ['windows8Server64Guest', 'Microsoft Windows Server 2012 Datacenter', '2k12', '2012'],
    ['windows8Server64Guest', 'Microsoft Windows Server 2012 R2 Standard', '2k12R2', '2012r2'],
    ['windows2022srvNext_64Guest', undefined, '2k25', '2025'],
    ['windows2019srvNext_64Guest', 'Microsoft Windows Server 2025 Datacenter', '2k25', '2025'],
  ])('%s / %s → its own folder %s', (guestId, name, folder, osVersion) => {
    const d = detectWindows(guestId, name);
    expect(d.ok && d.version).toMatchObject({ folder, osVersion });
    expect(d.ok && d.warning).toBeUndefined();
  });

  it('windows8Server64Guest without a full name: 2012 R2, with a warning that it may be 2012', () => {
    const d = detectWindows('windows8Server64Guest');
    expect(d.ok && d.version.folder).toBe('2k12R2');
    expect(d.ok && d.warning).toMatch(/2012 or 2012 R2/);
  });

  it.each([
    ['ubuntu64Guest', 'Ubuntu Linux (64-bit)', false],
    ['windows7Server64Guest', 'Microsoft Windows Server 2008 R2 (64-bit)', true],
    ['windows9Guest', 'Microsoft Windows 10 (32-bit)', true],
    ['windows7Server64Guest', undefined, true],
    ['windowsHyperVGuest', undefined, true],
  ])('refuses %s / %s', (guestId, name, isWindows) => {
    const d = detectWindows(guestId, name);
    expect(d.ok).toBe(false);
    expect(!d.ok && d.windows).toBe(isWindows);
  });
});

describe('drivers per bus', () => {
  it('virtio → viostor boot-critical; scsi → vioscsi; folders per version', () => {
    const v = planDrivers('virtio', 'w11', { vifModel: 'virtio', balloon: false, bootFallback: 'sata' });
    expect(v.install).toEqual([
      { name: 'viostor', isoDir: 'viostor\\w11\\amd64', inf: 'viostor.inf' },
      { name: 'netkvm', isoDir: 'NetKVM\\w11\\amd64', inf: 'netkvm.inf' },
    ]);
    expect(v.bootCriticalService).toBe('viostor');
    expect(
      planDrivers('scsi', '2k16', { vifModel: 'virtio', balloon: true, bootFallback: 'sata' }).install.map(
        (d) => d.isoDir,
      ),
    ).toEqual(['vioscsi\\2k16\\amd64', 'NetKVM\\2k16\\amd64', 'Balloon\\2k16\\amd64']);
  });
});

describe('boot image properties', () => {
  const windows = { folder: '2k19', osVersion: '2019', label: 'x', server: true, from: 'guestId' } as const;
  it('BIOS + virtio: no firmware or machine type', () => {
    const p = bootImageProperties({
      windows,
      bus: 'virtio',
      firmware: 'bios',
      secureBoot: false,
      vtpm: false,
      vifModel: 'virtio',
      guestAgent: true,
    });
    expect(p.hw_qemu_guest_agent).toBe('yes');
    expect(p.hw_firmware_type).toBeUndefined();
    expect(p.hw_machine_type).toBeUndefined();
    expect(p.os_secure_boot).toBeUndefined();
    expect(p.hw_scsi_model).toBeUndefined();
    expect(p).toMatchObject({ os_type: 'windows', hw_disk_bus: 'virtio', hw_vif_model: 'virtio' });
  });
  it('EFI without secure boot: uefi + q35 only', () => {
    const p = bootImageProperties({
      windows,
      bus: 'sata',
      firmware: 'efi',
      secureBoot: false,
      vtpm: false,
      vifModel: 'e1000',
      guestAgent: false,
    });
    expect(p.hw_qemu_guest_agent).toBe('no');
    expect(p).toMatchObject({
      hw_firmware_type: 'uefi',
      hw_machine_type: 'q35',
      hw_disk_bus: 'sata',
      hw_vif_model: 'e1000',
    });
    expect(p.os_secure_boot).toBeUndefined();
  });
});
