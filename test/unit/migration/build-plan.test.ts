import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../../src/migration/build-plan.js';
import { ipInCidr } from '../../../src/migration/plan/plan-ports.js';
import { resourceName } from '../../../src/migration/plan/resource-names.js';
import { bios2019, config, efi2022, inventory } from './fixtures.js';

const GiB = 1024 ** 3;
const codes = (issues: { code: string }[]) => issues.map((i) => i.code).sort();

describe('buildPlan', () => {
  it('plans a BIOS Windows 2019 VM onto the smallest fitting flavor, booting from an image', () => {
    const p = buildPlan(inventory(bios2019()), config());
    expect(p.blockers).toEqual([]);
    expect(p.ready).toBe(true);
    expect(p.windows).toMatchObject({ folder: '2k19', osVersion: '2019' });
    expect(p.flavor).toMatchObject({ name: 'win.small', chosenBy: 'best-match' });
    expect(p.bootFromVolume).toBe(false);
    expect(p.disks).toHaveLength(1);
    expect(p.disks[0]).toMatchObject({ role: 'boot', sizeBytes: 40 * GiB, localSpaceBytes: 0 });
    expect(p.disks[0]!.volume).toBeUndefined();
    expect(p.disks[0]!.image).toEqual({
      name: 'v2o-win2019-app01-disk0',
      diskFormat: 'vmdk',
      containerFormat: 'bare',
      minDiskGiB: 40,
      minRamMiB: 2048,
      properties: {
        os_type: 'windows',
        os_distro: 'windows',
        os_version: '2019',
        hw_disk_bus: 'virtio',
        hw_vif_model: 'virtio',
        // guestAgent: true by default: the first-boot task installs it (vioserial staged).
        hw_qemu_guest_agent: 'yes',
        hw_video_model: 'vga',
        v2o_source_vm: 'win2019-app01',
        v2o_source_disk: 'Hard disk 1',
      },
    });
    expect(p.ports).toEqual([
      {
        name: 'v2o-win2019-app01-nic0',
        nicKey: 4000,
        nicLabel: 'Network adapter 1',
        sourceMac: '00:50:56:AA:BB:01',
        portGroup: 'VM Network',
        networkId: 'net-1',
        networkName: 'lab-net',
        macAddress: '00:50:56:aa:bb:01',
        fixedIp: undefined,
        subnetId: undefined,
      },
    ]);
    expect(p.drivers).toMatchObject({
      mode: 'auto',
      bootCriticalService: 'viostor',
      serviceKey: 'HKLM\\SYSTEM\\CurrentControlSet\\Services\\viostor',
      iso: { datastore: 'LocalDS_0', url: 'http://127.0.0.1:1/virtio-win.iso' },
    });
    expect(p.drivers!.install.map((d) => d.isoDir)).toEqual([
      'viostor\\2k19\\amd64',
      'NetKVM\\2k19\\amd64',
      'Balloon\\2k19\\amd64',
      'vioserial\\2k19\\amd64',
    ]);
    expect(p.source).toMatchObject({ wasPoweredOn: true, firmware: 'bios' });
  });

  it('plans the EFI + secure boot VM with three disks: UEFI/q35/secure boot, data disks as volumes', () => {
    const p = buildPlan(inventory(efi2022()), config('    diskBus: scsi\n'));
    expect(p.blockers).toEqual([]);
    // Windows Server 2022 with secure boot may have turned BitLocker on by itself.
    expect(codes(p.warnings)).toEqual(['bitlocker-risk', 'secure-boot']);
    expect(p.windows!.folder).toBe('2k22');
    const boot = p.disks[0]!;
    expect(boot.image.properties).toMatchObject({
      hw_disk_bus: 'scsi',
      hw_scsi_model: 'virtio-scsi',
      hw_firmware_type: 'uefi',
      hw_machine_type: 'q35',
      os_secure_boot: 'required',
      os_version: '2022',
    });
    expect(p.flavor!.name).toBe('win.medium');
    expect(p.bootFromVolume).toBe(false);
    expect(p.disks.map((d) => [d.role, d.image.name, d.volume?.name, d.volume?.sizeGiB])).toEqual([
      ['boot', 'v2o-win2022-db01-disk0', undefined, undefined],
      ['data', 'v2o-win2022-db01-disk1', 'v2o-win2022-db01-vol1', 100],
      ['data', 'v2o-win2022-db01-disk2', 'v2o-win2022-db01-vol2', 100],
    ]);
    // Data images carry no Windows boot properties.
    expect(p.disks[1]!.image.properties).toEqual({
      v2o_source_vm: 'win2022-db01',
      v2o_source_disk: 'Hard disk 2',
    });
    expect(p.drivers!.install.map((d) => d.name)).toEqual(['vioscsi', 'netkvm', 'balloon', 'vioserial']);
    expect(p.drivers!.install.at(-1)).toEqual({
      name: 'vioserial',
      isoDir: 'vioserial\\2k22\\amd64',
      inf: 'vioser.inf',
    });
    expect(p.drivers!.guestAgentMsi).toBe('guest-agent\\qemu-ga-x86_64.msi');
    expect(p.drivers!.bootCriticalService).toBe('vioscsi');
    expect(p.ports[0]).toMatchObject({ networkName: 'lab-db-net', macAddress: '00:50:56:aa:bb:02' });
  });

  it('boots from a volume when the boot disk is larger than every fitting flavor disk', () => {
    const vm = bios2019();
    vm.disks[0]!.capacityBytes = 200 * GiB;
    const p = buildPlan(inventory(vm), config());
    expect(p.bootFromVolume).toBe(true);
    expect(p.flavor!.name).toBe('win.small');
    expect(p.disks[0]!.volume).toEqual({
      name: 'v2o-win2019-app01-vol0',
      sizeGiB: 200,
      fromImage: 'v2o-win2019-app01-disk0',
      volumeType: undefined,
      bootable: true,
    });
  });

  it('prefers a 0-disk flavor when the plan says bootFromVolume: true', () => {
    const vm = efi2022();
    const p = buildPlan(inventory(vm), config('    bootFromVolume: true\n    volumeType: fast\n'));
    expect(p.flavor!.name).toBe('win.bfv');
    expect(p.bootFromVolume).toBe(true);
    expect(p.disks.every((d) => d.volume?.volumeType === 'fast')).toBe(true);
    expect(p.disks[0]!.volume!.bootable).toBe(true);
  });

  it('blocks a named flavor whose disk is too small when bootFromVolume is false', () => {
    const vm = bios2019();
    vm.disks[0]!.capacityBytes = 70 * GiB;
    const p = buildPlan(inventory(vm), config('    flavor: win.small\n    bootFromVolume: false\n'));
    expect(codes(p.blockers)).toEqual(['boot-disk-too-large']);
    expect(p.blockers[0]!.fix).toMatch(/bootFromVolume/);
  });

  it('blocks an unknown flavor and names the known ones', () => {
    const p = buildPlan(inventory(bios2019()), config('    flavor: m1.huge\n'));
    expect(p.blockers[0]).toMatchObject({ code: 'flavor' });
    expect(p.blockers[0]!.fix).toContain('win.small');
  });

  it('warns when a named flavor is smaller than the VM', () => {
    const p = buildPlan(inventory(efi2022()), config('    flavor: win.small\n    bootFromVolume: true\n'));
    expect(codes(p.warnings)).toContain('flavor-smaller');
  });

  it('sata: no virtio storage driver, storahci made boot-critical, NetKVM still installed', () => {
    const p = buildPlan(inventory(bios2019()), config('    diskBus: sata\n'));
    expect(p.drivers!.install.map((d) => d.name)).toEqual(['netkvm', 'balloon', 'vioserial']);
    expect(p.drivers!.bootCriticalService).toBe('storahci');
    expect(p.disks[0]!.image.properties.hw_disk_bus).toBe('sata');
    expect(p.disks[0]!.image.properties.hw_scsi_model).toBeUndefined();
  });

  it('keeps e1000 when asked and does not install NetKVM; warns about vmxnet3', () => {
    const p = buildPlan(
      inventory(bios2019()),
      config('    vifModel: e1000\n    drivers: { balloon: false }\n    guestAgent: false\n'),
    );
    expect(p.disks[0]!.image.properties.hw_vif_model).toBe('e1000');
    // guestAgent: false: no vioserial, no MSI, and Nova is not told to expect an agent.
    expect(p.drivers!.install.map((d) => d.name)).toEqual(['viostor']);
    expect(p.drivers!.guestAgentMsi).toBeUndefined();
    expect(p.disks[0]!.image.properties.hw_qemu_guest_agent).toBe('no');
    expect(codes(p.warnings)).toEqual(['e1000-from-vmxnet3']);
  });

  it('lists every blocker with a fix: snapshots, RDM, shared, non-persistent, tools, unmapped NIC', () => {
    const vm = bios2019();
    vm.snapshots = ['a', 'b'];
    vm.toolsRunning = false;
    vm.toolsStatus = 'toolsNotRunning';
    vm.disks.push(
      { ...vm.disks[0]!, key: 2001, unitNumber: 1, label: 'Hard disk 2', rdm: true },
      { ...vm.disks[0]!, key: 2002, unitNumber: 2, label: 'Hard disk 3', sharing: 'sharingMultiWriter' },
      {
        ...vm.disks[0]!,
        key: 2003,
        unitNumber: 3,
        label: 'Hard disk 4',
        diskMode: 'independent_nonpersistent',
      },
    );
    vm.nics.push({
      key: 4001,
      label: 'Network adapter 2',
      macAddress: '00:50:56:aa:bb:99',
      network: 'Backup',
      adapterType: 'e1000e',
    });
    // The datastore route, where snapshots block (the lease only warns about them).
    const p = buildPlan(inventory(vm), config('    exportMethod: datastore\n    imageFormat: qcow2\n'));
    expect(p.ready).toBe(false);
    expect(codes(p.blockers)).toEqual([
      'independent-nonpersistent',
      'rdm-disk',
      'shared-disk',
      'snapshots',
      'tools-not-running',
      'unmapped-network',
    ]);
    for (const b of p.blockers) expect(b.fix.length).toBeGreaterThan(10);
    expect(p.blockers.find((b) => b.code === 'unmapped-network')!.fix).toContain('portGroup: Backup');
  });

  it('manual mode with tools off is allowed, and says the approval is the verification', () => {
    const vm = bios2019();
    vm.toolsRunning = false;
    const p = buildPlan(inventory(vm), config('    drivers: { mode: manual }\n'));
    expect(p.ready).toBe(true);
    expect(codes(p.warnings)).toEqual(['manual-unverified']);
  });

  it('blocks auto mode on a powered-off VM and a missing ISO', () => {
    const vm = bios2019();
    vm.powerState = 'poweredOff';
    const cfg = config();
    cfg.drivers.virtioWin = undefined;
    const p = buildPlan(inventory(vm), cfg);
    expect(codes(p.blockers)).toEqual(['no-virtio-win', 'powered-off-auto-drivers']);
    expect(p.source!.wasPoweredOn).toBe(false);
  });

  it('blocks a missing VM, a Linux VM and an old Windows', () => {
    expect(codes(buildPlan(inventory(undefined), config()).blockers)).toEqual(['vm-not-found']);
    const linux = { ...bios2019(), guestId: 'ubuntu64Guest', guestFullName: 'Ubuntu Linux (64-bit)' };
    expect(codes(buildPlan(inventory(linux), config()).blockers)).toEqual(['not-windows']);
    const w2008 = {
      ...bios2019(),
      guestId: 'windows7Server64Guest',
      guestFullName: 'Microsoft Windows Server 2008 R2 (64-bit)',
    };
    expect(codes(buildPlan(inventory(w2008), config()).blockers)).toEqual(['windows-unsupported']);
  });

  it('keeps MAC only when asked, checks fixed IPs against the subnets', () => {
    const vm = bios2019();
    const ok = buildPlan(
      inventory(vm),
      config(
        '    networks: [{ portGroup: VM Network, network: lab-net, keepMac: false, fixedIp: 10.10.0.50 }]\n',
      ),
    );
    // The older `fixedIp` is folded into a one-element fixedIps.
    expect(ok.ports[0]).toMatchObject({
      macAddress: undefined,
      fixedIps: [{ subnetId: 'sub-1', ipAddress: '10.10.0.50', prefixLength: 24 }],
    });
    const bad = buildPlan(
      inventory(vm),
      config('    networks: [{ portGroup: VM Network, network: lab-net, fixedIp: 10.99.0.5 }]\n'),
    );
    expect(codes(bad.blockers)).toEqual(['fixed-ip-outside']);
    const missing = buildPlan(
      inventory(vm),
      config('    networks: [{ portGroup: VM Network, network: nope }]\n'),
    );
    expect(codes(missing.blockers)).toEqual(['network-not-found']);
  });

  it('blocks a kept MAC that a port in the target already uses, not when the MAC is not kept', () => {
    const inv = inventory(bios2019());
    inv.macsInUse = { '00:50:56:aa:bb:01': 'port-9' };
    const p = buildPlan(inv, config());
    expect(codes(p.blockers)).toEqual(['mac-in-use']);
    expect(p.blockers[0]!.fix).toContain('openstack port delete port-9');
    const q = buildPlan(
      inv,
      config('    networks: [{ portGroup: VM Network, network: lab-net, keepMac: false }]\n'),
    );
    expect(q.blockers).toEqual([]);
  });

  it('qcow2 and raw need local staging space, vmdk none', () => {
    const vm = efi2022();
    expect(buildPlan(inventory(vm), config()).localSpaceBytes).toBe(0);
    const q = buildPlan(inventory(vm), config('    imageFormat: qcow2\n'));
    // The staged export plus the converted qcow2 (metadata overhead included), per disk.
    expect(q.localSpaceBytes).toBeGreaterThan(2 * 260 * GiB);
    expect(q.localSpaceBytes).toBeLessThan(2.01 * 260 * GiB);
    const raw = buildPlan(inventory(vm), config('    imageFormat: raw\n'));
    expect(raw.localSpaceBytes).toBe(2 * 260 * GiB);
    expect(q.disks[0]!.image.diskFormat).toBe('qcow2');
  });

  it('the datastore export route needs a converted format', () => {
    const bad = buildPlan(inventory(efi2022()), config('    exportMethod: datastore\n'));
    expect(codes(bad.blockers)).toEqual(['datastore-needs-conversion']);
    expect(
      buildPlan(inventory(efi2022()), config('    exportMethod: datastore\n    imageFormat: qcow2\n'))
        .blockers,
    ).toEqual([]);
  });

  it('warns when uploads would be checked by size only', () => {
    expect(codes(buildPlan(inventory(efi2022()), config('    uploadHashes: []\n')).warnings)).toContain(
      'upload-unverified',
    );
    expect(codes(buildPlan(inventory(efi2022()), config()).warnings)).not.toContain('upload-unverified');
  });

  it('checks quota when known', () => {
    const inv = inventory(efi2022());
    inv.quota = { cores: 2, volumeGiB: 150 };
    const p = buildPlan(inv, config());
    expect(p.blockers.map((b) => b.message)).toEqual([
      'quota: cores needs 4, 2 left',
      'quota: volumeGiB needs 200, 150 left',
    ]);
  });

  it('judges what vSphere reports (template, encryption, shared bus), and warns about vTPM and name clashes', () => {
    const vm = { ...bios2019(), vtpm: true, template: true, encrypted: true };
    vm.disks = [{ ...vm.disks[0]!, controllerSharedBus: 'physicalSharing' }];
    const inv = inventory(vm);
    inv.existingImageNames = ['v2o-win2019-app01-disk0'];
    const p = buildPlan(inv, config());
    expect(codes(p.blockers)).toEqual(['encrypted', 'shared-disk', 'template']);
    expect(p.blockers.find((b) => b.code === 'shared-disk')!.message).toContain(
      'SCSI bus sharing physicalSharing',
    );
    expect(codes(p.warnings)).toEqual(['image-name-exists', 'vtpm-bitlocker']);
    expect(p.disks[0]!.image.properties).toMatchObject({ hw_tpm_version: '2.0', hw_tpm_model: 'tpm-crb' });
  });

  it('a snapshot warns on the export lease and blocks the datastore route', () => {
    const vm = { ...bios2019(), snapshots: ['before patch'] };
    const lease = buildPlan(inventory(vm), config());
    expect(lease.ready).toBe(true);
    expect(lease.warnings.find((w) => w.code === 'snapshots')!.message).toContain('before patch');
    const ds = buildPlan(inventory(vm), config('    exportMethod: datastore\n    imageFormat: qcow2\n'));
    expect(codes(ds.blockers)).toEqual(['snapshots']);
  });

  it('is deterministic and pure', () => {
    const inv = inventory(efi2022());
    const before = JSON.stringify(inv);
    expect(buildPlan(inv, config())).toEqual(buildPlan(inv, config()));
    expect(JSON.stringify(inv)).toBe(before);
  });
});

describe('helpers', () => {
  it('names resources deterministically, readably and without collisions', () => {
    expect(resourceName('win2019-app01', 'disk', 0)).toBe('v2o-win2019-app01-disk0');
    // Accents are dropped, not split; a name that changed gets a hash of the exact name.
    expect(resourceName('Ünïcode', 'disk', 0)).toMatch(/^v2o-Unicode-[0-9a-f]{6}-disk0$/);
    expect(resourceName('Buchhaltung Server (Ä)', 'nic', 1)).toMatch(
      /^v2o-Buchhaltung-Server-A-[0-9a-f]{6}-nic1$/,
    );
    expect(resourceName('web 01', 'vol', 1)).not.toBe(resourceName('web-01', 'vol', 1));
    expect(resourceName('web 01', 'vol', 1)).toBe(resourceName('web 01', 'vol', 1));
    expect(resourceName('Ünïcode', 'disk', 0)).not.toBe(resourceName('Unicode', 'disk', 0));
    expect(resourceName('Straße Øst', 'disk', 0)).toMatch(/^v2o-Strasse-Ost-[0-9a-f]{6}-disk0$/);
    expect(resourceName('日本', 'disk', 0)).toMatch(/^v2o-vm-[0-9a-f]{6}-disk0$/);
  });
  it('checks IPv4 membership', () => {
    expect(ipInCidr('10.0.0.5', '10.0.0.0/24')).toBe(true);
    expect(ipInCidr('10.0.1.5', '10.0.0.0/24')).toBe(false);
    expect(ipInCidr('192.0.2.1', '0.0.0.0/0')).toBe(true);
  });
});
