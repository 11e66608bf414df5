// The warm migration through the fake services: plan routes and blockers, each warm rule, the
// base copy and two precopy passes and the final pass against a fake CBT model (the bytes on the
// fake devices must equal the source's content), resume after kills, CBT reset, a grown disk,
// maxPasses, cutoverAt, and the rollback.
import { describe, expect, it, vi } from 'vitest';
import { buildPlan } from '../../../src/migration/build-plan.js';
import type { MigrationParams } from '../../../src/migration/params.js';
import { toParams } from '../../../src/migration/prepare.js';
import type { SourceOps } from '../../../src/migration/services.js';
import { attachVolumes } from '../../../src/migration/steps/attach-volumes.js';
import { baseCopy } from '../../../src/migration/steps/base-copy.js';
import { copyVolumes } from '../../../src/migration/steps/copy-volumes.js';
import { cutover } from '../../../src/migration/steps/cutover.js';
import { detachVolumes } from '../../../src/migration/steps/detach-volumes.js';
import { enableCbt } from '../../../src/migration/steps/enable-cbt.js';
import { precopy } from '../../../src/migration/steps/precopy.js';
import { restoreCbt } from '../../../src/migration/steps/restore-cbt.js';
import { uploadImages } from '../../../src/migration/steps/upload-images.js';
import { copies, devices, FakeCbtVm, killAfter } from './fake-cbt.js';
import { ctx, FakeTarget, fakeSource, WaitMarker } from './fakes.js';
import { efi2022, inventory, resolved } from './fixtures.js';

vi.mock('../../../src/transfer/copy-extents.js', () => import('./fake-cbt.js'));
vi.mock('../../../src/transfer/find-device.js', () => import('./fake-cbt.js'));
vi.mock('../../../src/transfer/sinks/device-writer.js', () => import('./fake-cbt.js'));

const MiB = 1024 * 1024;
const WARM = '    migration: warm\n    conversionHost: { server: auto }\n';

/** The lab-like EFI VM with two small flat disks (1 MiB boot, 2 MiB data). */
function smallVm() {
  const vm = efi2022();
  vm.disks = vm.disks.slice(0, 2).map((d, i) => ({ ...d, capacityBytes: (i + 1) * MiB }));
  return vm;
}

function warmInventory(fake?: FakeCbtVm) {
  const inv = inventory(smallVm());
  const vm = inv.vm!;
  inv.diskLayouts = Object.fromEntries(
    vm.disks.map((d) => [
      d.key,
      { createType: 'monolithicFlat', flatExtent: d.fileName.replace(/\.vmdk$/, '-flat.vmdk') },
    ]),
  );
  inv.conversionHost = {
    id: 'srv-conv',
    name: 'v2o-conversion-host',
    availabilityZone: 'nova',
    attachedVolumeIds: [],
  };
  if (fake)
    inv.changeTracking = {
      enabled: false,
      hardwareVersion: 19,
      consolidationNeeded: false,
      powerState: 'poweredOn',
      disks: [],
    };
  return inv;
}

function warmParams(yamlVm = WARM): MigrationParams {
  const plan = resolved(yamlVm);
  const cfg = plan.vms[0]!;
  return toParams(plan, cfg, buildPlan(warmInventory(new FakeCbtVm([])), cfg), { shutdownTimeoutMs: 60_000 });
}

function setup(yamlVm = WARM) {
  const p = warmParams(yamlVm);
  const vm = new FakeCbtVm(
    smallVm().disks.map((d) => ({ key: d.key, fileName: d.fileName, sizeBytes: d.capacityBytes })),
  );
  // Data already on the disks before the migration.
  vm.write(2000, 0, 128 * 1024, 0x11);
  vm.write(2001, 512 * 1024, 64 * 1024, 0x22);
  const source = fakeSource(vm.ops() as Partial<SourceOps>);
  const target = new FakeTarget();
  devices.clear();
  copies.length = 0;
  return { p, vm, source, target };
}

type Setup = ReturnType<typeof setup>;

/** Runs one step with the outputs so far; returns its output (or the WaitMarker it threw). */
async function step<O>(
  s: Setup,
  def: { run: (c: ReturnType<typeof ctx>) => Promise<O> },
  id: string,
  outputs: Record<string, unknown>,
  o: {
    last?: unknown;
    now?: number;
    approvals?: Record<string, { at: number; by: string; notBefore?: number }>;
  } = {},
) {
  const c = ctx(id, { source: s.source, target: s.target }, s.p, outputs, o.last, {
    now: o.now,
    approvals: o.approvals,
  });
  try {
    const out = await def.run(c);
    outputs[id] = out;
    return { out, c };
  } catch (err) {
    if (err instanceof WaitMarker) return { wait: err, c };
    throw Object.assign(err as Error, { ctx: c });
  }
}

function deviceOf(s: Setup, key: number): Buffer {
  const vol = s.target.volumes.find((v) => v.metadata.v2o_disk === String(key - 2000))!;
  return devices.get(`/dev/disk/by-id/virtio-${vol.id.slice(0, 20)}`)!;
}

/** The device as a guest reads it: what was written, then zeros (a fresh volume reads back zeros). */
function volumeBytes(s: Setup, key: number, size: number): Buffer {
  const dev = deviceOf(s, key) ?? Buffer.alloc(0);
  return Buffer.concat([dev, Buffer.alloc(Math.max(0, size - dev.length))]).subarray(0, size);
}

function expectInSync(s: Setup) {
  for (const d of s.vm.disks) expect(volumeBytes(s, d.key, d.data.length).equals(d.data)).toBe(true);
}

describe('warm plan', () => {
  it('routes every disk to a volume, boots from the volume and says that a copy resumes mid-disk', () => {
    const p = warmParams();
    expect(p.plan.ready).toBe(true);
    expect(p.plan.bootFromVolume).toBe(true);
    expect(p.plan.disks.map((d) => [d.route, d.resumesMidDisk, d.volume?.bootable])).toEqual([
      ['volume', true, true],
      ['volume', true, false],
    ]);
    expect(p.plan.disks[0]!.allocatedAreas).toMatch(/likely answers with the whole disk/);
    expect(p.plan.settings).toMatchObject({
      migration: 'warm',
      warm: { passIntervalMinutes: 60, maxPasses: 24 },
      conversionHost: {
        server: 'auto',
        deviceDir: '/dev/disk/by-id',
        attachmentSlots: 16,
        deviceTimeoutSeconds: 60,
      },
    });
  });

  it('cold with a conversion host sends flat data disks to volumes and the boot disk (no volume) to Glance', () => {
    const plan = resolved('    conversionHost: { server: auto, deviceDir: /srv/dev }\n');
    const cfg = plan.vms[0]!;
    const p = buildPlan(warmInventory(), cfg);
    expect(p.disks.map((d) => [d.route, d.resumesMidDisk])).toEqual([
      ['image', false],
      ['volume', true],
    ]);
    expect(cfg.conversionHost?.deviceDir).toBe('/srv/dev');
  });

  it('cold without a conversion host keeps every disk on the Glance route and reads no layouts', () => {
    const p = buildPlan(inventory(smallVm()), resolved().vms[0]!);
    expect(p.disks.map((d) => d.route)).toEqual(['image', 'image']);
    expect(p.disks.every((d) => d.layout === undefined)).toBe(true);
  });

  it('says VMFS answers "*" with the allocated areas', () => {
    const inv = warmInventory();
    inv.datastoreTypes = { LocalDS_0: 'VMFS' };
    const p = buildPlan(inv, resolved(WARM).vms[0]!);
    expect(p.disks[0]!.allocatedAreas).toBe('VMFS: the base copy reads the allocated areas only');
  });

  it('refuses bad warm settings with the line and the field', () => {
    expect(() => resolved('    migration: hot\n')).toThrow(/migration: must be one of "cold", "warm"/);
    expect(() => resolved('    warm: { maxPasses: 0 }\n')).toThrow(/warm.maxPasses/);
    expect(() => resolved('    warm: { cutoverAt: "tomorrow" }\n')).toThrow(
      /warm.cutoverAt: must be an ISO 8601 time/,
    );
    expect(() => resolved('    conversionHost: { slots: 3 }\n')).toThrow(/unknown field `slots`/);
  });

  it('takes warm settings field by field from defaults', () => {
    const cfg = resolved(
      '    warm: { maxPasses: 3 }\n',
      '  warm: { passIntervalMinutes: 5 }\n  migration: warm\n',
    ).vms[0]!;
    expect(cfg.migration).toBe('warm');
    expect(cfg.warm).toEqual({ passIntervalMinutes: 5, maxPasses: 3 });
  });
});

describe('warm rules', () => {
  const codes = (inv: ReturnType<typeof warmInventory>, yaml = WARM) =>
    buildPlan(inv, resolved(yaml).vms[0]!).blockers.map((b) => b.code);

  it('CBT unsupported below hardware version 7', () => {
    const inv = warmInventory(new FakeCbtVm([]));
    expect(codes(inv)).not.toContain('cbt-unsupported');
    inv.changeTracking!.hardwareVersion = 4;
    expect(codes(inv)).toContain('cbt-unsupported');
  });

  it('snapshots the run did not make, and consolidationNeeded', () => {
    const inv = warmInventory(new FakeCbtVm([]));
    inv.vm!.snapshots = ['v2o-r-1-base'];
    expect(codes(inv)).toEqual([]);
    inv.vm!.snapshots = ['before patch'];
    inv.changeTracking!.consolidationNeeded = true;
    expect(codes(inv)).toEqual(expect.arrayContaining(['cbt-snapshots', 'consolidation-needed']));
  });

  it('a disk that is not a flat extent is refused for warm, with the fix migration: cold', () => {
    const inv = warmInventory();
    inv.diskLayouts![2001] = { createType: 'monolithicSparse', notFlatReason: 'grains' };
    const p = buildPlan(inv, resolved(WARM).vms[0]!);
    expect(p.blockers).toEqual([
      expect.objectContaining({
        code: 'not-flat-extent',
        message: expect.stringMatching(
          /is monolithicSparse, which the datastore reader cannot read at offsets/,
        ),
        fix: expect.stringMatching(/migration: cold/),
      }),
    ]);
    // Cold: the same disk simply goes through Glance.
    expect(buildPlan(inv, resolved('    conversionHost: { server: auto }\n').vms[0]!).disks[1]!.route).toBe(
      'image',
    );
  });

  it('no conversion host for warm; a conversion host that is not found', () => {
    expect(codes(warmInventory(), '    migration: warm\n')).toContain('no-conversion-host');
    const inv = warmInventory();
    inv.conversionHost = undefined;
    inv.conversionHostProblem = {
      message: 'the conversion host (auto) was not found',
      fix: 'run v2o on a server',
    };
    expect(codes(inv)).toContain('conversion-host');
  });

  it('attachment slots: attachmentSlots minus what the host holds', () => {
    const inv = warmInventory();
    inv.conversionHost!.attachedVolumeIds = ['a', 'b', 'c'];
    expect(
      codes(
        inv,
        `${WARM}    conversionHost: { server: auto, attachmentSlots: 5 }\n`.replace(
          `${WARM.split('\n')[1]!}\n`,
          '',
        ),
      ),
    ).toEqual([]);
    expect(
      codes(inv, '    migration: warm\n    conversionHost: { server: auto, attachmentSlots: 4 }\n'),
    ).toContain('attachment-slots');
  });

  it('volume quota counts every disk’s volume (the boot volume too)', () => {
    const inv = warmInventory();
    inv.quota = { volumes: 1 };
    expect(buildPlan(inv, resolved(WARM).vms[0]!).blockers.map((b) => b.message)).toContain(
      'quota: volumes needs 2, 1 left',
    );
  });

  it('the conversion host’s availability zone: a warning when it reports none', () => {
    const inv = warmInventory();
    inv.conversionHost!.availabilityZone = undefined;
    expect(buildPlan(inv, resolved(WARM).vms[0]!).warnings.map((w) => w.code)).toContain(
      'conversion-host-zone',
    );
  });
});

/** enable-cbt, attach-volumes, base-copy with their outputs recorded. */
async function upToBase(s: Setup) {
  const outputs: Record<string, unknown> = {};
  await step(s, enableCbt, 'enable-cbt', outputs);
  await step(s, attachVolumes, 'attach-volumes', outputs);
  await step(s, baseCopy, 'base-copy', outputs);
  return outputs;
}

describe('warm copy through the fake services', () => {
  it('base copy, two passes with guest writes, cutover, final pass: the volumes equal the source', async () => {
    const s = setup();
    const outputs = await upToBase(s);
    expect(s.vm.calls.slice(0, 3)).toEqual([
      'setChangeTracking true',
      'createSnapshot v2o-r-test0001-cbt',
      'removeSnapshot snapshot-1',
    ]);
    expect(s.target.calls).toEqual([
      'createEmptyVolume v2o-win2022-db01-vol0 1 GiB bootable az=nova',
      `attachVolume vol-${s.target.volumes[0]!.id.split('-')[1]}`,
      'createEmptyVolume v2o-win2022-db01-vol1 1 GiB az=nova',
      `attachVolume vol-${s.target.volumes[1]!.id.split('-')[1]}`,
    ]);
    const base = outputs['base-copy'] as { disks: Record<number, { changeId: string; bytes: number }> };
    // "*": the allocated blocks only (128 KiB and 64 KiB), not the whole disks.
    expect(base.disks[2000]!.bytes).toBe(128 * 1024);
    expect(base.disks[2001]!.bytes).toBe(64 * 1024);
    expect(s.vm.snapshots).toEqual([]);
    expectInSync(s);

    const t0 = (outputs['base-copy'] as { pass: { endedAt: number } }).pass.endedAt;
    // Too early: the step waits in the journal until the pass is due.
    let r = await step(s, precopy, 'precopy', outputs, { now: t0 + 1000 });
    expect(r.wait?.at).toBe(t0 + 60 * 60_000);
    let last = r.c.checkpoints.at(-1);
    s.vm.write(2000, 256 * 1024, 64 * 1024, 0x33);
    r = await step(s, precopy, 'precopy', outputs, { now: t0 + 60 * 60_000, last });
    expect(r.wait).toBeInstanceOf(WaitMarker);
    const pass1 = r.c.eventData.find((e) => e.type === 'copy.pass')!.data!;
    expect(pass1).toMatchObject({ pass: 1, kind: 'precopy', bytes: 64 * 1024 });
    expect(r.c.events).toContain('copy.estimate');
    last = r.c.checkpoints.at(-1);
    s.vm.write(2001, 0, 64 * 1024, 0x44);
    r = await step(s, precopy, 'precopy', outputs, { now: t0 + 2 * 60 * 60_000 + 5, last });
    last = r.c.checkpoints.at(-1);
    expectInSync(s);
    // The operator cuts over: the next run of the step ends it without a pass.
    s.vm.write(2000, 0, 64 * 1024, 0x55);
    r = await step(s, precopy, 'precopy', outputs, {
      now: t0 + 2 * 60 * 60_000 + 10,
      last,
      approvals: { cutover: { at: t0, by: 'op' } },
    });
    expect(r.out).toMatchObject({ endedBy: 'cutover' });
    expect((r.out as { passes: unknown[] }).passes).toHaveLength(2);
    s.vm.powerState = 'poweredOff';
    await step(s, copyVolumes, 'copy-volumes', outputs);
    expectInSync(s);
    const final = outputs['copy-volumes'] as { pass: { kind: string; bytes: number } };
    expect(final.pass).toMatchObject({ kind: 'final', bytes: 64 * 1024 });
    await step(s, restoreCbt, 'restore-cbt', outputs);
    expect(s.vm.enabled).toBe(false);
    const det = await step(s, detachVolumes, 'detach-volumes', outputs);
    expect((det.out as { volumes: { bootable: boolean }[] }).volumes.map((v) => v.bootable)).toEqual([
      true,
      false,
    ]);
    expect(s.target.volumeImageMetadata.get(s.target.volumes[0]!.id)).toMatchObject({
      hw_disk_bus: 'virtio',
      os_type: 'windows',
      hw_firmware_type: 'uefi',
    });
    // No Glance for volume-route disks.
    expect(await uploadImages.skipIf!(ctx('upload-images', {}, s.p))).toBe(true);
  });

  it('journals the changeId of the snapshot’s disk backing, not the live one', async () => {
    const s = setup();
    const ops = s.vm.ops();
    const create = ops.createSnapshot!;
    s.source.createSnapshot = async (vm, spec, o) => {
      const r = await create(vm, spec, o);
      if (spec.name.endsWith('-base')) s.vm.write(2000, 0, 64 * 1024, 0x66); // the guest writes on
      return r;
    };
    const outputs = await upToBase(s);
    const base = outputs['base-copy'] as { disks: Record<number, { changeId: string }> };
    const live = (await s.source.changeTracking('vm', {})).disks.find((d) => d.key === 2000)!.changeId;
    expect(base.disks[2000]!.changeId).not.toBe(live);
    // Which is why the next pass still finds the write made during the base copy.
    s.vm.powerState = 'poweredOff';
    const pre = {
      passes: [],
      disks: {
        2000: { changeId: base.disks[2000]!.changeId, capacityBytes: MiB },
        2001: {
          changeId: (base.disks as Record<number, { changeId: string }>)[2001]!.changeId,
          capacityBytes: 2 * MiB,
        },
      },
      endedBy: 'cutover',
    };
    await step(s, copyVolumes, 'copy-volumes', { ...outputs, precopy: pre });
    expectInSync(s);
  });

  it('a rejected changeId (CBT reset) copies that disk whole, and says so in copy.pass', async () => {
    const s = setup();
    const outputs = await upToBase(s);
    const t0 = (outputs['base-copy'] as { pass: { endedAt: number } }).pass.endedAt;
    s.vm.resetCbt();
    const r = await step(s, precopy, 'precopy', outputs, { now: t0 + 60 * 60_000 });
    const ev = r.c.eventData.find((e) => e.type === 'copy.pass')!.data as {
      disks: { fullCopy?: string; bytes: number }[];
    };
    expect(ev.disks.map((d) => [d.fullCopy?.match(/rejected/) !== null, d.bytes])).toEqual([
      [true, MiB],
      [true, 2 * MiB],
    ]);
    expectInSync(s);
  });

  it('a grown disk: the volume extended first, then copied whole', async () => {
    const s = setup();
    const outputs = await upToBase(s);
    const t0 = (outputs['base-copy'] as { pass: { endedAt: number } }).pass.endedAt;
    s.vm.grow(2001, 3 * MiB);
    s.vm.write(2001, 2 * MiB, 64 * 1024, 0x77);
    // A volume smaller than the grown disk (here: as if made at 0 GiB) is extended before the copy.
    s.target.volumes.find((v) => v.metadata.v2o_disk === '1')!.sizeGiB = 0;
    const r = await step(s, precopy, 'precopy', outputs, { now: t0 + 60 * 60_000 });
    const vol = s.target.volumes.find((v) => v.metadata.v2o_disk === '1')!;
    expect(s.target.calls).toContain(`extendVolume ${vol.id} 1`);
    const ev = r.c.eventData.find((e) => e.type === 'copy.pass')!.data as {
      disks: { key: number; fullCopy?: string }[];
    };
    expect(ev.disks.find((d) => d.key === 2001)!.fullCopy).toMatch(
      /capacity changed from 2\.0 MiB to 3\.0 MiB/,
    );
    expect(ev.disks.find((d) => d.key === 2000)!.fullCopy).toBeUndefined();
    expectInSync(s);
  });

  it('a pass killed mid-copy continues from its checkpoint on the same snapshot; a leftover one is removed', async () => {
    const s = setup();
    const outputs = await upToBase(s);
    const t0 = (outputs['base-copy'] as { pass: { endedAt: number } }).pass.endedAt;
    s.vm.write(2000, 0, 64 * 1024, 0x01);
    s.vm.write(2000, 512 * 1024, 64 * 1024, 0x02);
    // A snapshot of this run the journal does not know (a kill right after CreateSnapshot_Task).
    await s.source.createSnapshot('vm', { name: 'v2o-r-test0001-pass-1', description: '' });
    const leftover = s.vm.snapshots[0]!.ref;
    killAfter.bytes = 64 * 1024;
    const c1 = ctx('precopy', { source: s.source, target: s.target }, s.p, outputs, undefined, {
      now: t0 + 60 * 60_000,
    });
    await expect(precopy.run(c1)).rejects.toThrow(/killed mid-copy/);
    expect(s.vm.calls).toContain(`removeSnapshot ${leftover}`);
    expect(s.vm.snapshots).toHaveLength(1); // the pass's own, journaled
    s.vm.write(2000, 0, 64 * 1024, 0x03); // after the snapshot: for the next pass
    const r = await step(s, precopy, 'precopy', outputs, {
      now: t0 + 60 * 60_000 + 1,
      last: c1.checkpoints.at(-1),
    });
    expect(r.wait).toBeInstanceOf(WaitMarker);
    const resumed = copies.filter((c) => c.key === 'precopy-1:2000');
    expect(resumed.map((c) => c.resumedAt)).toEqual([0, 64 * 1024]);
    expect(s.vm.snapshots).toEqual([]);
    // The pass copied the frozen state: the write after its snapshot is not on the device yet.
    expect(deviceOf(s, 2000)[0]).toBe(0x01);
  });

  it('maxPasses: a warning, and the run goes on to the cutover gate, which waits', async () => {
    const s = setup(`${WARM}    warm: { maxPasses: 1, passIntervalMinutes: 1 }\n`);
    const outputs = await upToBase(s);
    const t0 = (outputs['base-copy'] as { pass: { endedAt: number } }).pass.endedAt;
    const r = await step(s, precopy, 'precopy', outputs, { now: t0 + 60_000 });
    expect(r.out).toMatchObject({
      endedBy: 'maxPasses',
      warning: expect.stringMatching(/maxPasses \(1\) reached/),
    });
    const gate = await cutover.gate!(ctx('cutover', {}, s.p, outputs));
    expect(gate?.message).toMatch(/maxPasses \(1\) reached.*v2o cutover r-test0001/);
  });

  it('warm.cutoverAt: the passes end on their own at that time and the gate opens', async () => {
    const s = setup(`${WARM}    warm: { cutoverAt: "2030-01-01T00:00:00Z" }\n`);
    const outputs = await upToBase(s);
    const at = Date.parse('2030-01-01T00:00:00Z');
    const t0 = (outputs['base-copy'] as { pass: { endedAt: number } }).pass.endedAt;
    // Before: the wait never sleeps past the next pass; at the time: done, no pass.
    const early = await step(s, precopy, 'precopy', outputs, { now: t0 + 1 });
    expect(early.wait?.at).toBe(t0 + 60 * 60_000);
    const late = await step(s, precopy, 'precopy', outputs, { now: at, last: early.c.checkpoints.at(-1) });
    expect(late.out).toMatchObject({ endedBy: 'cutoverAt' });
    expect(await cutover.gate!(ctx('cutover', {}, s.p, outputs, undefined, { now: at }))).toBeUndefined();
    expect(await cutover.gate!(ctx('cutover', {}, s.p, outputs, undefined, { now: at - 1 }))).toBeDefined();
  });

  it('a datastore that is full: the snapshot error names the fix', async () => {
    const s = setup();
    const outputs: Record<string, unknown> = {};
    await step(s, enableCbt, 'enable-cbt', outputs);
    await step(s, attachVolumes, 'attach-volumes', outputs);
    s.vm.snapshotFault = 'NoDiskSpace';
    await expect(step(s, baseCopy, 'base-copy', outputs)).rejects.toMatchObject({
      name: 'SnapshotError',
      hint: expect.stringMatching(/free space on the VM's datastore/),
    });
  });

  it('CBT cannot be enabled on old virtual hardware', async () => {
    const s = setup();
    s.vm.hardwareVersion = 4;
    await expect(step(s, enableCbt, 'enable-cbt', {})).rejects.toMatchObject({ name: 'ChangeTrackingError' });
  });

  it('a run driven from another conversion host (reassigned) moves its volumes there before copying', async () => {
    const s = setup();
    const outputs = await upToBase(s);
    const vols = s.target.volumes.map((v) => v.id);
    // The first host is lost; this process runs on another one.
    s.target.host = { id: 'srv-conv-2', name: 'conv-2', availabilityZone: 'nova', attachedVolumeIds: [] };
    s.target.calls = [];
    s.vm.write(2000, 0, 64 * 1024, 0x66);
    const t0 = (outputs['base-copy'] as { pass: { endedAt: number } }).pass.endedAt;
    await step(s, precopy, 'precopy', outputs, { now: t0 + 60 * 60_000 });
    expect(s.target.calls).toEqual(vols.flatMap((v) => [`detachVolume ${v}`, `attachVolume ${v}`]));
    for (const v of s.target.volumes) expect(v.attachedServerIds).toEqual(['srv-conv-2']);
    expectInSync(s);
    // On the same host again: nothing moves.
    s.target.calls = [];
    await step(s, precopy, 'precopy', outputs, { now: t0 + 2 * 60 * 60_000 });
    expect(s.target.calls.filter((c) => /attach|detach/i.test(c))).toEqual([]);
  });

  it('attach-volumes never creates or attaches twice on a re-run', async () => {
    const s = setup();
    const outputs: Record<string, unknown> = {};
    const first = await step(s, attachVolumes, 'attach-volumes', outputs);
    s.target.calls = [];
    const again = await step(s, attachVolumes, 'attach-volumes', {}, { last: first.c.checkpoints.at(-1) });
    expect(s.target.calls).toEqual([]);
    expect(again.out).toEqual(first.out);
  });

  it('the conversion host not in the target cloud: an error with the fix', async () => {
    const s = setup();
    s.target.host = undefined;
    await expect(step(s, attachVolumes, 'attach-volumes', {})).rejects.toMatchObject({
      name: 'ConversionHostError',
      hint: expect.stringMatching(/run v2o on a server of the target project/),
    });
  });

  it('rollback in precopy: volumes detached and deleted, snapshots removed, CBT restored', async () => {
    const s = setup();
    const outputs = await upToBase(s);
    await s.source.createSnapshot('vm', { name: 'v2o-r-test0001-pass-1', description: '' });
    const c = (id: string) => ctx(id, { source: s.source, target: s.target }, s.p, outputs);
    await precopy.compensate!(c('precopy'), undefined);
    await attachVolumes.compensate!(c('attach-volumes'), outputs['attach-volumes'] as never);
    await enableCbt.compensate!(c('enable-cbt'), outputs['enable-cbt'] as never);
    expect(s.vm.snapshots).toEqual([]);
    expect(s.target.volumes).toEqual([]);
    expect(s.target.calls.filter((x) => x.startsWith('detachVolume'))).toHaveLength(2);
    expect(s.vm.enabled).toBe(false);
  });

  it('rollback after cutover: also the source powered on (preflight’s compensation)', async () => {
    const { preflight } = await import('../../../src/migration/steps/preflight.js');
    const s = setup();
    s.source.powerState = async () => 'poweredOff';
    await preflight.compensate!(ctx('preflight', { source: s.source, target: s.target }, s.p), undefined);
    expect(s.source.calls).toContain('powerOn');
  });
});

describe('cold copy to volumes', () => {
  it('copies every byte of a flat data disk into its volume, resumable from the checkpoint', async () => {
    const s = setup('    conversionHost: { server: auto }\n');
    const outputs: Record<string, unknown> = {};
    await step(s, attachVolumes, 'attach-volumes', outputs);
    expect(s.target.volumes.map((v) => v.name)).toEqual(['v2o-win2022-db01-vol1']);
    s.vm.powerState = 'poweredOff';
    killAfter.bytes = MiB;
    const c1 = ctx('copy-volumes', { source: s.source, target: s.target }, s.p, outputs);
    await expect(copyVolumes.run(c1)).rejects.toThrow(/killed/);
    await step(s, copyVolumes, 'copy-volumes', outputs, { last: c1.checkpoints.at(-1) });
    expect(copies.map((c) => [c.key, c.resumedAt])).toEqual([
      ['cold--1:2001', 0],
      ['cold--1:2001', MiB],
    ]);
    expect(volumeBytes(s, 2001, 2 * MiB).equals(s.vm.disks[1]!.data)).toBe(true);
  });
});
