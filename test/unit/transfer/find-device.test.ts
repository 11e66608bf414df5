import { mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeviceNotFoundError } from '../../../src/transfer/errors.js';
import { findAttachedDevice } from '../../../src/transfer/find-device.js';
import { tempDir } from './helpers.js';

const VOL = '3f1c2a9e-7b4d-4e2a-9c1f-0a1b2c3d4e5f';

function layout() {
  const root = tempDir('v2o-dev-');
  const byId = join(root, 'by-id');
  const sys = join(root, 'sys-block');
  mkdirSync(byId);
  mkdirSync(sys);
  const dev = join(root, 'vdb');
  writeFileSync(dev, '');
  return { root, byId, sys, dev };
}

describe('findAttachedDevice', () => {
  it('finds virtio-<first 20 chars> and resolves the symlink', async () => {
    const l = layout();
    symlinkSync(l.dev, join(l.byId, `virtio-${VOL.slice(0, 20)}`));
    expect(await findAttachedDevice(VOL, { deviceDir: l.byId, timeoutMs: 1000 })).toBe(realpathSync(l.dev));
  });

  it('finds the virtio-scsi name with the whole id, after polling until it appears', async () => {
    const l = layout();
    let sleeps = 0;
    const p = await findAttachedDevice(VOL, {
      deviceDir: l.byId,
      timeoutMs: 10_000,
      sleep: async () => {
        if (++sleeps === 3) symlinkSync(l.dev, join(l.byId, `scsi-0QEMU_QEMU_HARDDISK_${VOL}`));
      },
    });
    expect(p).toBe(realpathSync(l.dev));
    expect(sleeps).toBe(3);
  });

  it('finds the truncated virtio-scsi name', async () => {
    const l = layout();
    symlinkSync(l.dev, join(l.byId, `scsi-0QEMU_QEMU_HARDDISK_${VOL.slice(0, 20)}`));
    expect(await findAttachedDevice(VOL, { deviceDir: l.byId, timeoutMs: 0 })).toBe(realpathSync(l.dev));
  });

  it('falls back to /sys/block/<dev>/serial', async () => {
    const l = layout();
    mkdirSync(join(l.sys, 'vda'));
    writeFileSync(join(l.sys, 'vda', 'serial'), 'somethingelse\n');
    mkdirSync(join(l.sys, 'vdc'));
    writeFileSync(join(l.sys, 'vdc', 'serial'), `${VOL.slice(0, 20)}\n`);
    mkdirSync(join(l.sys, 'loop0')); // no serial file
    expect(await findAttachedDevice(VOL, { deviceDir: l.byId, sysBlockDir: l.sys, timeoutMs: 0 })).toBe(
      '/dev/vdc',
    );
  });

  it('times out with DeviceNotFoundError naming the volume, what was looked for and the fix', async () => {
    const l = layout();
    // Another volume's device is there: it must not be taken.
    symlinkSync(l.dev, join(l.byId, 'virtio-aaaaaaaa-bbbb-cccc-d'));
    let sleeps = 0;
    const err = await findAttachedDevice(VOL, {
      deviceDir: l.byId,
      sysBlockDir: l.sys,
      timeoutMs: 2000,
      sleep: async () => {
        sleeps++;
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceNotFoundError);
    expect(sleeps).toBe(4);
    const e = err as DeviceNotFoundError;
    expect(e.message).toContain(VOL);
    expect(e.message).toContain(`virtio-${VOL.slice(0, 20)}`);
    expect(e.hint).toMatch(/lsblk/);
    expect(e.hint).toMatch(/conversionHost\.deviceDir/);
  });
});
