// Guest operations against the lab's simulated Windows guest (VMware Tools running).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFault } from '../../../src/vsphere/errors.js';
import type { VSphereClient } from '../../../src/vsphere/objects/client.js';
import { downloadFromGuest, runInGuest, uploadToGuest } from '../../../src/vsphere/objects/guest.js';
import { findVmByName } from '../../../src/vsphere/objects/vm.js';
import type { MoRef } from '../../../src/vsphere/types.js';
import { env, guestCreds, hook, labClient, resetVm } from './lab.js';

const VM_NAME = env.V2O_LAB_VSPHERE_VM ?? 'win2019-app01';
const CMD = 'C:\\Windows\\System32\\cmd.exe';
let client: VSphereClient;
let vm: MoRef;

beforeAll(async () => {
  client = await labClient();
  await resetVm(VM_NAME);
  vm = await findVmByName(client, VM_NAME);
});
afterAll(async () => {
  await resetVm(VM_NAME).catch(() => undefined);
  await client?.close();
});

describe('guest operations', () => {
  it('runs a program and returns its exit code (zero and non-zero)', async () => {
    const ok = await runInGuest(client, vm, guestCreds(), {
      program: CMD,
      args: '/c ver',
      pollIntervalMs: 50,
    });
    expect(ok.pid).toBeGreaterThan(0);
    expect(ok.exitCode).toBe(0);
    const bad = await runInGuest(client, vm, guestCreds(), {
      program: CMD,
      args: '/c exit 3',
      pollIntervalMs: 50,
    });
    expect(bad.exitCode).toBe(3);
  });

  it('returns the exit code a scripted rule gives (pnputil failing)', async () => {
    await hook('guest/rules', {
      vm: VM_NAME,
      rules: [{ match: 'pnputil', exitCode: 5, stdout: 'Failed to add driver', times: 1 }],
    });
    const r = await runInGuest(client, vm, guestCreds(), {
      program: 'C:\\Windows\\System32\\pnputil.exe',
      args: '/add-driver E:\\viostor\\2k19\\amd64\\viostor.inf /install',
      pollIntervalMs: 50,
    });
    expect(r.exitCode).toBe(5);
  });

  it('uploads a file, lets the guest copy it, and downloads the copy and a command output', async () => {
    const text = 'v2o – Grüße\r\nline 2\r\n';
    await runInGuest(client, vm, guestCreds(), {
      program: CMD,
      args: '/c mkdir C:\\v2o-it',
      pollIntervalMs: 50,
    });
    await uploadToGuest(client, vm, guestCreds(), 'C:\\v2o-it\\in.txt', text);
    const copy = await runInGuest(client, vm, guestCreds(), {
      program: CMD,
      args: '/c type C:\\v2o-it\\in.txt > C:\\v2o-it\\copy.txt',
      pollIntervalMs: 50,
    });
    expect(copy.exitCode).toBe(0);
    expect((await downloadFromGuest(client, vm, guestCreds(), 'C:\\v2o-it\\copy.txt')).toString('utf8')).toBe(
      text,
    );
    await runInGuest(client, vm, guestCreds(), {
      program: CMD,
      args: '/c echo hello> C:\\v2o-it\\out.txt',
      pollIntervalMs: 50,
    });
    expect(
      (await downloadFromGuest(client, vm, guestCreds(), 'C:\\v2o-it\\out.txt')).toString('utf8').trim(),
    ).toBe('hello');
  });

  it('fails with InvalidGuestLogin for a wrong guest password, and GuestOperationsUnavailable without tools', async () => {
    const wrong = await runInGuest(
      client,
      vm,
      { ...guestCreds(), password: 'wrong' },
      { program: CMD, args: '/c ver' },
    ).catch((e: unknown) => e);
    expect(isFault(wrong, 'InvalidGuestLogin')).toBe(true);
    expect(String((wrong as Error).message)).not.toContain(guestCreds().password);
    const notools = await findVmByName(client, env.V2O_LAB_VSPHERE_VM_NOTOOLS ?? 'win2019-notools01');
    const err = await runInGuest(client, notools, guestCreds(), { program: CMD, args: '/c ver' }).catch(
      (e: unknown) => e,
    );
    expect(isFault(err, 'GuestOperationsUnavailable')).toBe(true);
  });
});
