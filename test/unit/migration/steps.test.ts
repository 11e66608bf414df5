// Steps look before they create: a re-run (after a crash or a retry) finds what the run made
// by its tags and neither duplicates nor loses it.

import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { sweepRunResources } from '../../../src/migration/rollback.js';
import { attachIso } from '../../../src/migration/steps/attach-iso.js';
import { createVolumes } from '../../../src/migration/steps/create-volumes.js';
import { finish } from '../../../src/migration/steps/finish.js';
import { installDrivers } from '../../../src/migration/steps/install-drivers.js';
import { launch } from '../../../src/migration/steps/launch.js';
import { preflight } from '../../../src/migration/steps/preflight.js';
import { shutdown } from '../../../src/migration/steps/shutdown.js';
import { uploadImages } from '../../../src/migration/steps/upload-images.js';
import { verifyDrivers } from '../../../src/migration/steps/verify-drivers.js';
import { ctx, FakeTarget, fakeSource, params, staticParams } from './fakes.js';

const TAGS = ['v2o', 'v2o-run-r-test0001'];
const c0 = ctx('none', {});

describe('upload-images', () => {
  it('creates one image per disk, records ids before moving bytes, and completes the lease', async () => {
    const target = new FakeTarget();
    const source = fakeSource();
    const order: string[] = [];
    const asked: string[][] = [];
    const stalls: number[] = [];
    const c = ctx('upload-images', { target, source });
    target.uploadDisk = async (o) => {
      order.push(`transfer ${o.imageId} after ${c.checkpoints.length} checkpoint(s)`);
      asked.push(o.hashes);
      stalls.push(o.stallTimeoutMs);
      target.images.find((i) => i.id === o.imageId)!.status = 'active';
      return { bytes: 4, hashes: { md5: 'ab' } };
    };
    const out = await uploadImages.run(c);
    // The plan's uploadHashes (default: md5, what Glance's checksum is compared with) reach the transfer.
    expect(asked).toEqual([['md5'], ['md5'], ['md5']]);
    // So does the stall limit (default 60 s).
    expect(stalls).toEqual([60_000, 60_000, 60_000]);
    expect(out.images.map((i) => i.hashes)).toEqual([{ md5: 'ab' }, { md5: 'ab' }, { md5: 'ab' }]);
    expect(out.images.map((i) => i.name)).toEqual([
      'v2o-win2022-db01-disk0',
      'v2o-win2022-db01-disk1',
      'v2o-win2022-db01-disk2',
    ]);
    expect(target.images.every((i) => TAGS.every((t) => i.tags.includes(t)))).toBe(true);
    expect(order.every((o) => !o.endsWith(' 0 checkpoint(s)'))).toBe(true);
    expect(source.calls).toEqual(['lease.keepAlive', 'lease.complete', 'lease.keepAlive.stop']);
  });

  it('acts on the settings stored with the plan, not on the plan file inputs beside it', async () => {
    const p = params(
      '    exportMethod: datastore\n    imageFormat: qcow2\n    uploadHashes: [md5, sha512]\n    transferStallSeconds: 30\n    stagingDir: /srv/v2o-stage\n',
    );
    // What preflight alone may read; changing it must not change what the upload does.
    Object.assign(p.inputs, { exportMethod: 'lease', uploadHashes: ['sha256'], transferStallSeconds: 600 });
    const target = new FakeTarget();
    const asked: unknown[] = [];
    target.uploadDisk = async (o) => {
      asked.push({ hashes: o.hashes, stall: o.stallTimeoutMs, staging: o.stagingDir, format: o.format });
      target.images.find((i) => i.id === o.imageId)!.status = 'active';
      return { bytes: 4, hashes: {} };
    };
    const exported = await fakeSource().exportVm('vm-1');
    const source = fakeSource({
      exportVm: async () => {
        throw new Error('the plan says datastore');
      },
      datastoreDisks: async () => exported,
    });
    await uploadImages.run(ctx('upload-images', { target, source }, p));
    expect(asked).toEqual(
      [0, 1, 2].map(() => ({
        hashes: ['md5', 'sha512'],
        stall: 30_000,
        staging: '/srv/v2o-stage',
        format: 'qcow2',
      })),
    );
    expect((await uploadImages.plan!({ params: p, log: c0.log })).summary).toMatch(
      /from their datastore files and stream them to Glance as qcow2; verified: md5 vs Glance checksum, sha512 .*; .* for 30 s/,
    );
  });

  it('stops the lease keep-alive and aborts the lease when a disk fails', async () => {
    const source = fakeSource();
    const target = new FakeTarget();
    target.uploadDisk = async () => {
      throw new Error('glance said no');
    };
    const c = ctx('upload-images', { source, target });
    await expect(uploadImages.run(c)).rejects.toThrow(/glance said no/);
    expect(source.calls).toEqual(['lease.keepAlive', 'lease.abort', 'lease.keepAlive.stop']);
  });

  it('on a re-run reuses active images, refills queued ones, replaces a half-written one', async () => {
    const target = new FakeTarget();
    const p = params();
    const [d0, d1, d2] = p.plan.disks;
    target.images.push(
      { id: 'a', name: d0!.image.name, status: 'active', tags: [...TAGS], properties: {}, size: 4 },
      { id: 'q', name: d1!.image.name, status: 'queued', tags: [...TAGS], properties: {} },
      { id: 's', name: d2!.image.name, status: 'saving', tags: [...TAGS], properties: {} },
    );
    const moved: string[] = [];
    target.uploadDisk = async (o) => {
      moved.push(o.imageId);
      target.images.find((i) => i.id === o.imageId)!.status = 'active';
      return { bytes: 4, hashes: {} };
    };
    const c = ctx('upload-images', { target }, p);
    const out = await uploadImages.run(c);
    expect(out.images.map((i) => [i.name, i.reused])).toEqual([
      [d0!.image.name, true],
      [d1!.image.name, false],
      [d2!.image.name, false],
    ]);
    expect(moved).toContain('q');
    expect(moved).not.toContain('a');
    expect(target.calls).toEqual(['deleteImage s', `createImage ${d2!.image.name}`]);
    expect(target.images).toHaveLength(3);
  });

  it('does not open an export lease when every image is already active', async () => {
    const target = new FakeTarget();
    const p = params();
    for (const d of p.plan.disks)
      target.images.push({
        id: d.image.name,
        name: d.image.name,
        status: 'active',
        tags: [...TAGS],
        properties: {},
      });
    const source = fakeSource({
      exportVm: async () => {
        throw new Error('must not export');
      },
    });
    const out = await uploadImages.run(ctx('upload-images', { target, source }, p));
    expect(out.images.every((i) => i.reused)).toBe(true);
  });
});

describe('create-volumes and launch', () => {
  it('create-volumes finds volumes of the run by metadata and deletes the images they came from', async () => {
    const target = new FakeTarget();
    const p = params();
    target.volumes.push({
      id: 'v1',
      name: 'v2o-win2022-db01-vol1',
      status: 'available',
      sizeGiB: 100,
      metadata: { v2o: 'true', v2o_run: 'r-test0001' },
    });
    const up = {
      images: p.plan.disks.map((d) => ({
        index: d.index,
        name: d.image.name,
        id: `img${d.index}`,
        bytes: 4,
        reused: false,
      })),
    };
    const out = await createVolumes.run(ctx('create-volumes', { target }, p, { 'upload-images': up }));
    expect(out.volumes.map((v) => [v.name, v.id === 'v1'])).toEqual([
      ['v2o-win2022-db01-vol1', true],
      ['v2o-win2022-db01-vol2', false],
    ]);
    expect(target.calls).toEqual([
      'deleteImage img1',
      'createVolume v2o-win2022-db01-vol2',
      'deleteImage img2',
    ]);
  });

  it('launch reuses ports and the server of the run, and attaches data volumes in disk order', async () => {
    const target = new FakeTarget();
    const p = params();
    const outputs = {
      'upload-images': { images: [{ index: 0, id: 'img0', name: 'x', bytes: 1, reused: false }] },
      'create-volumes': {
        volumes: [2, 1].map((i) => ({
          index: i,
          id: `vol${i}`,
          name: `v${i}`,
          sizeGiB: 1,
          bootable: false,
          fromImageId: '',
        })),
      },
    };
    const first = await launch.run(ctx('launch', { target }, p, outputs));
    expect(target.calls).toEqual([
      'createPort v2o-win2022-db01-nic0',
      'createServer win2022-db01 image=img0 boot=- data=vol1,vol2',
    ]);
    expect(first.ports[0]!.macAddress).toBe('00:50:56:aa:bb:02');
    target.calls = [];
    const again = await launch.run(ctx('launch', { target }, p, outputs));
    expect(target.calls).toEqual([]);
    expect(again.serverId).toBe(first.serverId);
  });

  it('launch creates the ports with the captured addresses and allowed address pairs of the plan', async () => {
    const target = new FakeTarget();
    const p = staticParams();
    p.plan.ports[0]!.allowedAddressPairs = [{ ipAddress: '172.16.5.9' }];
    const outputs = {
      'upload-images': { images: [{ index: 0, id: 'img0', name: 'x', bytes: 1, reused: false }] },
    };
    const out = await launch.run(ctx('launch', { target }, p, outputs));
    expect(target.portSpecs.map((s) => [s.macAddress, s.fixedIps, s.allowedAddressPairs])).toEqual([
      [
        '00:50:56:a1:30:01',
        [
          { subnetId: 'sub-1', ipAddress: '192.0.2.41' },
          { subnetId: 'sub-1', ipAddress: '192.0.2.42' },
        ],
        [{ ipAddress: '172.16.5.9' }],
      ],
      ['00:50:56:a1:30:02', [{ subnetId: 'sub-2', ipAddress: '198.51.100.41' }], undefined],
    ]);
    expect(out.ports.map((x) => x.ips)).toEqual([['192.0.2.41', '192.0.2.42'], ['198.51.100.41']]);
  });

  it('launch turns an address Neutron finds taken into a non-retryable error naming the NIC', async () => {
    const target = new FakeTarget();
    target.createPort = async () => {
      throw new Error('Neutron 409: IpAddressAlreadyAllocated: IP address 192.0.2.41 already allocated');
    };
    const outputs = {
      'upload-images': { images: [{ index: 0, id: 'img0', name: 'x', bytes: 1, reused: false }] },
    };
    await expect(launch.run(ctx('launch', { target }, staticParams(), outputs))).rejects.toMatchObject({
      name: 'NonRetryableError',
      message: expect.stringMatching(/Network adapter 1 \(192.0.2.41, 192.0.2.42\)/),
    });
  });

  it('launch refuses a port whose MAC is not the kept one', async () => {
    const target = new FakeTarget();
    target.createPort = async (spec) => ({
      id: 'p',
      name: spec.name,
      macAddress: 'fa:16:3e:11:22:33',
      networkId: spec.networkId,
      fixedIps: [],
      tags: spec.tags,
    });
    const outputs = {
      'upload-images': { images: [{ index: 0, id: 'img0', name: 'x', bytes: 1, reused: false }] },
    };
    await expect(launch.run(ctx('launch', { target }, params(), outputs))).rejects.toThrow(
      /expected 00:50:56:aa:bb:02/,
    );
  });
});

describe('drivers and shutdown', () => {
  it('install-drivers finds the ISO through CIM, checks its files, then runs the recipe', async () => {
    const source = fakeSource({
      runInGuest: async (_vm, _c, cmd) => {
        source.calls.push(cmd);
        if (cmd.includes('Win32_CDROMDrive')) return { exitCode: 0, output: 'D:\r\nE:\r\n' };
        if (cmd.startsWith('if exist "D:')) return { exitCode: 1, output: '' };
        if (cmd.includes('pnputil')) return { exitCode: 259, output: 'Paket hinzugefügt' };
        return { exitCode: 0, output: 'ok' };
      },
    });
    const out = await installDrivers.run(ctx('install-drivers', { source }, params('    diskBus: scsi\n')));
    expect(out.drive).toBe('E:');
    expect(source.calls.some((c) => /wmic/i.test(c))).toBe(false);
    // vioscsi, netkvm, balloon and vioserial (guestAgent), and the agent's MSI is probed too.
    expect(source.calls.filter((c) => c.includes('pnputil'))).toHaveLength(4);
    expect(source.calls).toContain('if exist "E:\\guest-agent\\qemu-ga-x86_64.msi" (exit 0) else (exit 1)');
    expect(source.calls).toContain(
      'copy /y "E:\\vioscsi\\2k22\\amd64\\vioscsi.sys" "%SystemRoot%\\System32\\drivers\\vioscsi.sys"',
    );
    expect(source.calls.at(-1)).toContain('Services\\storahci\\StartOverride" /v "0" /t REG_DWORD /d "0" /f');
    expect(out.commands.filter((c) => c.exitCode === 259)).toHaveLength(4);
  });

  it('install-drivers: a failing CD-ROM probe, a missing driver file and a failing pnputil each say what and how to fix', async () => {
    const guest = (answer: (cmd: string) => { exitCode: number; output: string } | undefined) =>
      fakeSource({
        runInGuest: async (_vm, _c, cmd) =>
          answer(cmd) ??
          (cmd.includes('Win32_CDROMDrive')
            ? { exitCode: 0, output: 'D:\r\n' }
            : { exitCode: 0, output: '' }),
      });
    const fail = (source: ReturnType<typeof fakeSource>) =>
      installDrivers
        .run(ctx('install-drivers', { source }))
        .then(() => ({ message: 'no error', hint: '' }))
        .catch((e: unknown) => e as { message: string; hint?: string });
    const probe = await fail(
      guest((c) =>
        c.includes('Win32_CDROMDrive')
          ? { exitCode: 1, output: 'Get-CimInstance : Zugriff verweigert' }
          : undefined,
      ),
    );
    expect(probe.message).toMatch(/Get-CimInstance Win32_CDROMDrive exited 1 .*still running on VMware/);
    const sys = await fail(
      guest((c) => (c.includes('viostor.sys') ? { exitCode: 1, output: '' } : undefined)),
    );
    expect(sys.message).toMatch(/ISO in D: lacks viostor\\2k22\\amd64\\viostor\.sys/);
    expect(sys.hint).toMatch(/name an ISO that has them/);
    const pnp = await fail(
      guest((c) => (c.includes('pnputil') ? { exitCode: 5, output: 'Access is denied.' } : undefined)),
    );
    expect(pnp.message).toMatch(
      /staging viostor with pnputil failed in the guest \(exit code 5: Access is denied\.\)/,
    );
    expect(pnp.hint).toMatch(/v2o guest-script/);
  });

  it('the manual gate hands over the guest script; auto mode has no gate', async () => {
    const manual = params('    drivers: { mode: manual }\n');
    const gate = await installDrivers.gate!(ctx('install-drivers', {}, manual));
    // With the run id, so the script also registers this run's first-boot task.
    expect(gate?.message).toContain(
      "v2o guest-script plan.yaml --vm 'vm' --run r-test0001 > v2o-drivers.ps1",
    );
    expect(gate?.message).toContain(
      'powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\\v2o-drivers.ps1',
    );
    expect(await installDrivers.gate!(ctx('install-drivers', {}, params()))).toBeUndefined();
  });

  it('verify-drivers fails with what is missing when only pnputil and Start=0 were done (the old recipe)', async () => {
    const source = fakeSource({
      runInGuest: async (_vm, _c, cmd) => {
        if (cmd.includes('query') && cmd.includes('viostor'))
          return {
            exitCode: 0,
            output:
              'HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\viostor\r\n    Start    REG_DWORD    0x0\r\n',
          };
        if (cmd.includes('query'))
          return {
            exitCode: 0,
            output:
              'HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\storahci\r\n    Start    REG_DWORD    0x0\r\n',
          };
        if (cmd.includes('viostor.sys')) return { exitCode: 1, output: '' };
        if (cmd.startsWith('dir')) {
          const inf = /FileRepository\\(\w+\.inf)_amd64/.exec(cmd)![1]!;
          return inf === 'balloon.inf'
            ? { exitCode: 1, output: 'Datei nicht gefunden' }
            : { exitCode: 0, output: `${inf}_amd64_0123456789abcdef\r\n` };
        }
        return { exitCode: 0, output: '' };
      },
    });
    const err = (await verifyDrivers.run(ctx('verify-drivers', { source })).catch((e: unknown) => e)) as {
      message: string;
      hint: string;
    };
    expect(err.message).toMatch(/NOT shut down \(it still runs on VMware\)/);
    expect(err.message).toContain('viostor: Type is missing (want Type=1)');
    expect(err.message).toContain('viostor: Group is missing');
    expect(err.message).toContain('viostor: viostor.sys is not in %SystemRoot%\\System32\\drivers');
    expect(err.message).toContain('balloon.inf is not staged');
    expect(err.message).not.toMatch(/netkvm|storahci/);
    expect(err.hint).toMatch(/v2o guest-script/);
  });

  it('shutdown without --force-poweroff does not power off hard when the guest does not stop', async () => {
    const source = fakeSource({
      shutdownGuest: async () => {
        throw new Error('timed out');
      },
    });
    const err = (await shutdown.run(ctx('shutdown', { source })).catch((e: unknown) => e)) as {
      message: string;
      hint?: string;
    };
    expect(err.message).toMatch(/did not shut down/);
    expect(err.hint).toMatch(/v2o resume \S+ --force-poweroff/);
    expect(source.calls).not.toContain('powerOff');
    const p = params();
    p.options.forcePoweroff = true;
    const forced = await shutdown.run(ctx('shutdown', { source }, p));
    expect(forced.method).toBe('hard');
    expect(source.calls).toContain('powerOff');
  });
});

describe('finish and the source afterwards', () => {
  const outputs = {
    'upload-images': {
      images: [{ index: 0, id: 'img0', name: 'v2o-x-disk0', bytes: 50_000_000, reused: false }],
      bytes: 50_000_000,
      seconds: 2,
    },
    launch: {
      serverId: 's1',
      name: 'win2022-db01',
      status: 'ACTIVE',
      ports: [],
      bootFrom: { image: 'img0' },
      dataVolumes: [],
    },
  };
  it('keeps the source off by default and reports the rate', async () => {
    const source = fakeSource({ powerState: async () => 'poweredOff' });
    const out = await finish.run(ctx('finish', { source }, params(), outputs));
    expect(out).toMatchObject({
      source: 'kept powered off',
      bytes: 50_000_000,
      rateMBps: 25,
      server: { id: 's1' },
    });
    expect(source.calls).not.toContain('powerOn');
  });
  it('names the server that booted and what Windows reported, with the fallback warning on screen', async () => {
    const source = fakeSource({ powerState: async () => 'poweredOff' });
    const marker = {
      runId: 'r-test0001',
      uuid: 's2',
      hostname: 'H',
      osBuild: '17763',
      bus: 'sata',
      time: 't',
    };
    const boot = {
      outcome: 'booted',
      bus: 'sata',
      serverId: 's2',
      attempts: [{ serverId: 's1' }, { serverId: 's2' }],
      marker,
      warning: 'it booted on sata',
    };
    const shown: string[] = [];
    const c = ctx('finish', { source }, params(), { ...outputs, 'verify-boot': boot });
    c.progress.update = (u) => void shown.push(u.message ?? '');
    const out = await finish.run(c);
    expect(out.server.id).toBe('s2');
    expect(out.boot).toEqual({
      outcome: 'booted',
      bus: 'sata',
      attempts: 2,
      marker,
      warning: 'it booted on sata',
    });
    expect(shown.join('\n')).toMatch(
      /server s2 booted on sata after the SATA fallback \(Windows build 17763, H\)/,
    );
    expect(shown.join('\n')).toMatch(/warning: it booted on sata/);
  });
  it('powers the source on again when the plan says sourceAfter: power-on', async () => {
    const source = fakeSource({ powerState: async () => 'poweredOff' });
    const out = await finish.run(ctx('finish', { source }, params('    sourceAfter: power-on\n'), outputs));
    expect(out.source).toBe('powered on again');
    expect(source.calls).toContain('powerOn');
  });
  it('a rollback powers the source on only if it was on before the run', async () => {
    const source = fakeSource({ powerState: async () => 'poweredOff' });
    await preflight.compensate!(ctx('preflight', { source }), undefined);
    expect(source.calls).toEqual(['powerOn']);
    const p = params();
    p.plan.source!.wasPoweredOn = false;
    const s2 = fakeSource({ powerState: async () => 'poweredOff' });
    await preflight.compensate!(ctx('preflight', { source: s2 }, p), undefined);
    expect(s2.calls).toEqual([]);
  });
});

describe('rollback', () => {
  it('attach-iso journals the CD-ROM it will change before changing it, and restores it from there', async () => {
    const source = fakeSource();
    const iso = { 'upload-iso': { datastorePath: '[ds1] v2o/virtio-win-0123.iso' } };
    const c = ctx('attach-iso', { source }, params(), iso);
    await attachIso.run(c);
    expect(c.checkpoints).toEqual([{ previous: { key: 3000, existed: true } }]);
    // Killed before the step was recorded: the rollback has no output, only the checkpoint.
    await attachIso.compensate!(ctx('attach-iso', { source }, params(), iso, c.checkpoints[0]), undefined);
    expect(source.calls.filter((x) => x.startsWith('restoreCdrom'))).toEqual([
      'restoreCdrom {"key":3000,"existed":true}',
    ]);
    // Killed before the checkpoint: the VM was not changed, nothing to restore.
    await attachIso.compensate!(ctx('attach-iso', { source }, params(), iso), undefined);
    expect(source.calls.filter((x) => x.startsWith('restoreCdrom'))).toHaveLength(1);
  });

  it('deletes the run’s servers, ports, volumes and images, and nothing else', async () => {
    const t = new FakeTarget();
    t.servers.push({ id: 's1', name: 'x', status: 'ACTIVE', tags: TAGS });
    t.ports.push({ id: 'p1', name: 'x', macAddress: '', networkId: 'n', fixedIps: [], tags: TAGS });
    t.ports.push({
      id: 'p-other',
      name: 'y',
      macAddress: '',
      networkId: 'n',
      fixedIps: [],
      tags: ['v2o', 'v2o-run-r-other'],
    });
    t.volumes.push({
      id: 'v1',
      name: 'x',
      status: 'in-use',
      sizeGiB: 1,
      metadata: { v2o_run: 'r-test0001' },
    });
    t.images.push({ id: 'i1', name: 'x', status: 'active', tags: TAGS, properties: {} });
    const r = await sweepRunResources(t, 'r-test0001', pino({ level: 'silent' }));
    expect(r).toEqual({ servers: ['s1'], ports: ['p1'], volumes: ['v1'], images: ['i1'] });
    expect(t.calls).toEqual(['deleteServer s1', 'deletePort p1', 'deleteVolume v1', 'deleteImage i1']);
    expect(t.ports.map((p) => p.id)).toEqual(['p-other']);
  });
});
