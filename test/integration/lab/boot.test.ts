// The lab boots what arrived (issue 12, part 6): the simulated guest's state travels inside the
// boot disk's bytes, and the lab's Nova decides from those bytes and the instance's image
// properties whether Windows comes up. Each case builds a guest through the lab's hooks (so it
// does not depend on how the lab's pnputil behaves), powers the VM off (the state reaches the
// disk), uploads the disk the export lease serves to Glance and boots a server from it.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VSphereClient } from '../../../src/vsphere/objects/client.js';
import { runInGuest } from '../../../src/vsphere/objects/guest.js';
import { findVmByName, powerOff } from '../../../src/vsphere/objects/vm.js';
import { labEnv } from '../../helpers/lab-env.js';
import {
  type LabToken,
  labCloud,
  labEndpoint,
  labToken,
  resetOpenStackLab,
} from '../../helpers/openstack-lab.js';
import { guestCreds, hook, labClient, manifest, resetVm } from '../vsphere/lab.js';

const env = labEnv();
const VM = env.V2O_LAB_VSPHERE_VM ?? 'win2019-app01'; // BIOS, LSI SAS
const VM_EFI = env.V2O_LAB_VSPHERE_VM_WIN11 ?? 'win11-desk01'; // EFI + secure boot, SATA
const PREFIX = 'lab-boot-';
const NOVA = { 'OpenStack-API-Version': 'compute 2.79' };
const SVC = 'HKLM\\SYSTEM\\CurrentControlSet\\Services\\viostor';
const SYS = 'C:\\Windows\\System32\\drivers\\viostor.sys';
const PS1 = 'C:\\ProgramData\\v2o\\firstboot.ps1';
const CFG = 'C:\\ProgramData\\v2o\\firstboot.json';
const RUN_ID = 'lab-boot-run';
// virt-v2v's add_guestor_to_registry: what makes viostor boot-critical
const SERVICE: Record<string, unknown> = {
  [`${SVC}\\Type`]: 1,
  [`${SVC}\\Start`]: 0,
  [`${SVC}\\ErrorControl`]: 1,
  [`${SVC}\\Group`]: 'SCSI miniport',
  [`${SVC}\\ImagePath`]: { type: 'REG_EXPAND_SZ', data: 'system32\\drivers\\viostor.sys' },
};

let client: VSphereClient;
let demo: LabToken;
let seq = 0;

interface Change {
  registry?: Record<string, unknown>;
  files?: Record<string, string | null>;
  removeDrivers?: string[];
  brokenDrivers?: string[];
}

/** A guest with viostor made boot-critical and v2o's first-boot task, changed by `change`, then powered off. */
async function prepare(vm: string, change: Change = {}, opts: { task?: boolean } = {}): Promise<void> {
  await resetVm(vm);
  await hook('guest/state', {
    vm,
    addDrivers: ['viostor'],
    registry: SERVICE,
    files: {
      [SYS]: 'MZ viostor',
      [PS1]: '# v2o first boot',
      [CFG]: JSON.stringify({ runId: RUN_ID, version: 1 }),
    },
  });
  const ref = await findVmByName(client, vm);
  if (opts.task !== false) {
    const r = await runInGuest(client, ref, guestCreds(), {
      program: 'C:\\Windows\\System32\\cmd.exe',
      args: `/c schtasks /Create /TN "v2o-firstboot" /SC ONSTART /RU SYSTEM /RL HIGHEST /F /TR "powershell.exe -NoProfile -ExecutionPolicy Bypass -File ${PS1}"`,
      pollIntervalMs: 50,
    });
    expect(r.exitCode).toBe(0);
  }
  if (Object.keys(change).length > 0) await hook('guest/state', { vm, ...change });
  await powerOff(client, ref);
}

async function call<T>(method: string, url: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(url, {
    method,
    headers: {
      'X-Auth-Token': demo.token,
      'Content-Type': 'application/json',
      // Cinder refuses another service's microversion header
      ...(url.startsWith(labEndpoint(demo, 'compute')) ? NOVA : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : undefined) as T };
}

async function poll<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** The boot disk of `vm` as the export lease serves it now (the manifest is kept true by the lab). */
function exported(vm: string): { bytes: Buffer; region: { offset: number; length: number } } {
  const d = manifest().vms.find((v) => v.name === vm)!.disks[0]! as ReturnType<
    typeof manifest
  >['vms'][0]['disks'][0] & {
    stateRegion: { offset: number; length: number };
  };
  const bytes = readFileSync(d.export.localPath);
  expect(createHash('sha256').update(bytes).digest('hex')).toBe(d.export.sha256);
  return { bytes, region: d.stateRegion };
}

interface Boot {
  server: string;
  status: string;
  outcome: string;
  reason: string;
  console: string;
}

/**
 * Upload `bytes` to Glance with `props`, boot a server from it (or, with `fromVolume`, from a Cinder
 * volume made from the image) and return the lab Nova's decision.
 */
async function boot(
  bytes: Buffer,
  format: 'vmdk' | 'raw',
  props: Record<string, string> = {},
  opts: { fromVolume?: boolean } = {},
): Promise<Boot> {
  const glance = labEndpoint(demo, 'image');
  const nova = labEndpoint(demo, 'compute');
  const name = `${PREFIX}${process.pid}-${++seq}`;
  const img = await call<{ id: string }>('POST', `${glance}/v2/images`, {
    name,
    disk_format: format,
    container_format: 'bare',
    os_type: 'windows',
    ...props,
  });
  expect(img.status).toBe(201);
  const put = await fetch(`${glance}/v2/images/${img.json.id}/file`, {
    method: 'PUT',
    headers: { 'X-Auth-Token': demo.token, 'Content-Type': 'application/octet-stream' },
    body: bytes,
  });
  expect(put.status).toBe(204);
  const flavors = await call<{ flavors: { id: string; name: string }[] }>('GET', `${nova}/flavors`);
  const flavor = (n: string) => flavors.json.flavors.find((f) => f.name === n)!.id;
  let source: Record<string, unknown> = { imageRef: img.json.id, flavorRef: flavor('win.small') };
  if (opts.fromVolume) {
    const cinder = labEndpoint(demo, 'volumev3');
    const vol = await call<{ volume: { id: string } }>('POST', `${cinder}/volumes`, {
      volume: { name, size: 1, imageRef: img.json.id },
    });
    expect(vol.status, JSON.stringify(vol.json)).toBe(202);
    await poll('volume available', async () => {
      const v = await call<{ volume: { status: string } }>('GET', `${cinder}/volumes/${vol.json.volume.id}`);
      if (v.json.volume.status === 'error') throw new Error('volume from image went to error');
      return v.json.volume.status === 'available' ? true : undefined;
    });
    source = {
      flavorRef: flavor('win.bfv'),
      block_device_mapping_v2: [
        { boot_index: 0, uuid: vol.json.volume.id, source_type: 'volume', destination_type: 'volume' },
      ],
    };
  }
  const created = await call<{ server: { id: string } }>('POST', `${nova}/servers`, {
    server: { name, ...source, networks: 'none' },
  });
  expect(created.status).toBe(202);
  const id = created.json.server.id;
  const status = await poll('server ACTIVE or ERROR', async () => {
    const s = await call<{ server: { status: string } }>('GET', `${nova}/servers/${id}`);
    return ['ACTIVE', 'ERROR'].includes(s.json.server.status) ? s.json.server.status : undefined;
  });
  const console = await call<{ output: string }>('POST', `${nova}/servers/${id}/action`, {
    'os-getConsoleOutput': {},
  });
  const log = resolve(
    env.V2O_LAB_NOVA_BOOT_LOG ?? join(process.env.V2O_LAB_DIR ?? '.lab', 'openstack/nova-boot.log'),
  );
  const entry = readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { instance: string; outcome: string; reason: string })
    .findLast((e) => e.instance === id);
  expect(entry, `no boot decision for ${id} in ${log}`).toBeDefined();
  await call('DELETE', `${nova}/servers/${id}`);
  return { server: id, status, outcome: entry!.outcome, reason: entry!.reason, console: console.json.output };
}

// The guest ends the line with CRLF; Nova's os-getConsoleOutput drops the CR with the other control
// characters (nova/api/openstack/compute/console_output.py), so the API shows a plain line.
function marker(console: string): Record<string, string> | undefined {
  const m = /^v2o-firstboot: (\{.*\})$/m.exec(console);
  return m ? (JSON.parse(m[1]!) as Record<string, string>) : undefined;
}

beforeAll(async () => {
  client = await labClient();
  demo = await labToken(labCloud());
});
afterAll(async () => {
  await resetVm(VM).catch(() => undefined);
  await resetVm(VM_EFI).catch(() => undefined);
  await client?.close();
  resetOpenStackLab({ prefix: PREFIX });
});

describe('the lab boots what arrived', () => {
  it('a guest with viostor boot-critical and the first-boot task boots on virtio and reports on the console', async () => {
    await prepare(VM);
    const b = await boot(exported(VM).bytes, 'vmdk', { hw_disk_bus: 'virtio' });
    expect(b.status).toBe('ACTIVE');
    expect(b.outcome, b.reason).toBe('booted');
    expect(b.console).toContain('Booting from Hard Disk...');
    expect(b.console).not.toContain('\r');
    expect(Object.keys(marker(b.console)!)).toEqual(['runId', 'uuid', 'hostname', 'osBuild', 'bus', 'time']);
    expect(marker(b.console)).toMatchObject({
      runId: RUN_ID,
      uuid: b.server,
      bus: 'virtio',
      osBuild: '17763',
    });
    expect(marker(b.console)!.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('keeps the guest state in the raw content, readable from the bytes alone', async () => {
    await prepare(VM, { brokenDrivers: ['viostor'] });
    const { bytes, region } = exported(VM);
    const dir = mkdtempSync(join(tmpdir(), 'v2o-lab-boot-'));
    try {
      writeFileSync(join(dir, 'd.vmdk'), bytes);
      execFileSync('qemu-img', [
        'convert',
        '-f',
        'vmdk',
        '-O',
        'raw',
        join(dir, 'd.vmdk'),
        join(dir, 'd.raw'),
      ]);
      const raw = readFileSync(join(dir, 'd.raw'));
      expect(raw.subarray(0, 8).toString('latin1')).toBe('V2OLBR01');
      expect(Number(raw.readBigUInt64LE(8))).toBe(region.offset);
      const r = raw.subarray(region.offset, region.offset + region.length);
      expect(r.subarray(0, 8).toString('latin1')).toBe('V2OGUEST');
      const json = r.subarray(64, 64 + Number(r.readBigUInt64LE(16)));
      expect(createHash('sha256').update(json).digest('hex')).toBe(r.subarray(24, 56).toString('hex'));
      const state = JSON.parse(json.toString('utf8'));
      expect(state.brokenDrivers).toEqual(['viostor']);
      expect(state.tasks).toEqual([
        expect.objectContaining({ name: '\\v2o-firstboot', schedule: 'ONSTART', user: 'SYSTEM' }),
      ]);
      expect(state.registry[`${SVC.replace('HKLM', 'HKEY_LOCAL_MACHINE')}\\Group`]).toEqual({
        type: 'REG_SZ',
        data: 'SCSI miniport',
      });
      expect(state.seed.password).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const broken: [string, Change][] = [
    ['Type removed', { registry: { [`${SVC}\\Type`]: null } }],
    ['Start removed', { registry: { [`${SVC}\\Start`]: null } }],
    ['Start=3 (what pnputil leaves)', { registry: { [`${SVC}\\Start`]: 3 } }],
    ['ErrorControl removed', { registry: { [`${SVC}\\ErrorControl`]: null } }],
    ['Group removed', { registry: { [`${SVC}\\Group`]: null } }],
    ['ImagePath removed', { registry: { [`${SVC}\\ImagePath`]: null } }],
    ['viostor.sys missing', { files: { [SYS]: null } }],
    ['package not staged', { removeDrivers: ['viostor'] }],
    ['driver broken at boot (brokenDrivers)', { brokenDrivers: ['viostor'] }],
  ];
  it.each(broken)('%s: 0x7B on virtio, no marker', async (_what, change) => {
    await prepare(VM, change);
    const b = await boot(exported(VM).bytes, 'vmdk', { hw_disk_bus: 'virtio' });
    expect(b.status).toBe('ACTIVE'); // Nova's ACTIVE is not a boot
    expect(b.outcome, b.reason).toBe('0x7B');
    expect(marker(b.console)).toBeUndefined();
    expect(b.console).not.toMatch(/0x0*7B|INACCESSIBLE/i); // no stop codes on serial without EMS
  });

  it('boots from a volume: the lab reads the Cinder volume and its image metadata', async () => {
    await prepare(VM);
    const b = await boot(exported(VM).bytes, 'vmdk', { hw_disk_bus: 'virtio' }, { fromVolume: true });
    expect(b.outcome, b.reason).toBe('booted');
    expect(marker(b.console)).toMatchObject({ uuid: b.server, bus: 'virtio', runId: RUN_ID });
    const sata = await boot(exported(VM).bytes, 'vmdk', { hw_disk_bus: 'sata' }, { fromVolume: true });
    expect(sata.outcome, sata.reason).toBe('0x7B');
  });

  it('a corrupted disk does not boot', async () => {
    await prepare(VM);
    const { bytes, region } = exported(VM);
    const dir = mkdtempSync(join(tmpdir(), 'v2o-lab-boot-'));
    try {
      writeFileSync(join(dir, 'd.vmdk'), bytes);
      execFileSync('qemu-img', [
        'convert',
        '-f',
        'vmdk',
        '-O',
        'raw',
        join(dir, 'd.vmdk'),
        join(dir, 'd.raw'),
      ]);
      const raw = readFileSync(join(dir, 'd.raw'));
      raw[region.offset + 64 + 20]! ^= 0xff; // one byte of the guest state
      const b = await boot(raw, 'raw', { hw_disk_bus: 'virtio' });
      expect(b.outcome, b.reason).toBe('no-boot');
      expect(b.reason).toMatch(/corrupt/);
      expect(marker(b.console)).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a disk that is not a lab Windows disk does not boot', async () => {
    const b = await boot(Buffer.alloc(1 << 20), 'raw');
    expect(b.outcome, b.reason).toBe('no-boot');
    expect(b.console).toContain('No bootable device.');
  });

  it('without the first-boot task Windows boots but nothing reports', async () => {
    await prepare(VM, {}, { task: false });
    const b = await boot(exported(VM).bytes, 'vmdk', {});
    expect(b.outcome, b.reason).toBe('booted'); // hw_disk_bus unset: virtio
    expect(marker(b.console)).toBeUndefined();
  });

  it('SATA boots on the inbox storahci only when it is boot-critical', async () => {
    const start = 'HKLM\\SYSTEM\\CurrentControlSet\\Services\\storahci\\Start';
    await prepare(VM); // an LSI SAS guest: storahci Start=3
    const off = await boot(exported(VM).bytes, 'vmdk', { hw_disk_bus: 'sata' });
    expect(off.outcome, off.reason).toBe('0x7B');
    await prepare(VM, { registry: { [start]: 0, [`${start.replace('\\Start', '\\StartOverride')}\\0`]: 3 } });
    const overridden = await boot(exported(VM).bytes, 'vmdk', { hw_disk_bus: 'sata' });
    expect(overridden.outcome, overridden.reason).toBe('0x7B');
    // The seeded LSI SAS guest has StartOverride\0 = 3 (as a VM that never booted from AHCI): removed.
    await prepare(VM, {
      registry: { [start]: 0, [`${start.replace('\\Start', '\\StartOverride')}\\0`]: null },
    });
    const on = await boot(exported(VM).bytes, 'vmdk', { hw_disk_bus: 'sata' });
    expect(on.outcome, on.reason).toBe('booted');
    expect(marker(on.console)).toMatchObject({ bus: 'sata', uuid: on.server });
  });

  it('an EFI + secure boot guest boots only on UEFI with secure boot', async () => {
    await prepare(VM_EFI); // a SATA guest: storahci is boot-critical as seeded
    const { bytes } = exported(VM_EFI);
    const bios = await boot(bytes, 'vmdk', { hw_disk_bus: 'sata' });
    expect(bios.outcome, bios.reason).toBe('no-boot');
    expect(bios.reason).toMatch(/firmware/);
    const noSecure = await boot(bytes, 'vmdk', {
      hw_disk_bus: 'sata',
      hw_firmware_type: 'uefi',
      hw_machine_type: 'q35',
    });
    expect(noSecure.outcome, noSecure.reason).toBe('no-boot');
    const uefi = await boot(bytes, 'vmdk', {
      hw_disk_bus: 'sata',
      hw_firmware_type: 'uefi',
      hw_machine_type: 'q35',
      os_secure_boot: 'required',
    });
    expect(uefi.outcome, uefi.reason).toBe('booted');
    expect(uefi.console).toContain('BdsDxe: starting');
    expect(marker(uefi.console)).toMatchObject({ bus: 'sata', runId: RUN_ID });
  });
});
