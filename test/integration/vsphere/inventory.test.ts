// The VM model and readiness against the seeded lab, session handling, and the property collector.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultRuleSettings, evaluateRules, toReadiness } from '../../../src/migration/rules/index.js';
import { toSourceVm } from '../../../src/migration/source-vsphere.js';
import { isFault } from '../../../src/vsphere/errors.js';
import { logout } from '../../../src/vsphere/methods/session.js';
import type { VSphereClient } from '../../../src/vsphere/objects/client.js';
import { containerViewList, retrieveOne } from '../../../src/vsphere/objects/property.js';
import { findVmByName, getVm, listVms, VmNotFoundError } from '../../../src/vsphere/objects/vm.js';
import { env, labClient, seedInventory } from './lab.js';

let client: VSphereClient;
beforeAll(async () => {
  client = await labClient();
});
afterAll(async () => {
  await client?.close();
});

const CONTROLLER_KIND: Record<string, string> = {
  'lsilogic-sas': 'lsilogic-sas',
  pvscsi: 'pvscsi',
  sata: 'sata',
  lsilogic: 'lsilogic',
};

describe('inventory against the lab', () => {
  it('lists every seeded VM with the model the lab was built from', async () => {
    const vms = await listVms(client);
    const seed = seedInventory();
    for (const s of seed.vms) {
      const vm = vms.find((v) => v.name === s.name);
      expect(vm, s.name).toBeDefined();
      expect(vm!.guestId).toBe(s.guestId);
      expect(vm!.firmware).toBe(s.firmware);
      expect(vm!.secureBoot).toBe(!!s.secureBoot);
      expect(vm!.numCpu).toBe(s.cpus);
      expect(vm!.memoryMiB).toBe(s.memoryMB);
      expect(vm!.disks).toHaveLength(s.disks.length);
      for (const d of vm!.disks) {
        expect(d.controller?.kind).toBe(CONTROLLER_KIND[s.controller]);
        expect(d.capacityBytes).toBeGreaterThan(0);
        expect(d.datastore).toBe(env.GOVC_DATASTORE ?? 'LocalDS_0');
      }
      expect(vm!.nics.map((n) => [n.adapterType, n.network, n.macAddress])).toEqual(
        s.nics.map((n) => [n.type, n.network, n.mac]),
      );
      expect(vm!.snapshots.map((x) => x.name)).toEqual(s.snapshot ? [s.snapshot] : []);
      expect(vm!.datacenter).toBe('DC0');
      expect(vm!.host?.name).toBeTruthy();
      expect(vm!.instanceUuid).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('reads one VM by name, including a name with spaces and non-ASCII characters', async () => {
    const name = env.V2O_LAB_VSPHERE_VM_UNICODE ?? 'Finanz Server 01 – Müller & Söhne';
    const vm = await getVm(client, await findVmByName(client, name));
    expect(vm.name).toBe(name);
    expect(vm.disks[0]!.fileName).toContain('Müller');
    expect(vm.tools.runningStatus).toBe('guestToolsRunning');
  });

  it('marks readiness (the source rules, default settings): tools not running, snapshots, and a clean VM', async () => {
    const vms = await listVms(client);
    const by = (n: string) =>
      toReadiness(evaluateRules(toSourceVm(vms.find((v) => v.name === n)!), defaultRuleSettings, 'source'));
    // The default driver mode is auto, which installs the drivers through VMware Tools.
    expect(by(env.V2O_LAB_VSPHERE_VM_NOTOOLS ?? 'win2019-notools01').blockers.map((w) => w.code)).toContain(
      'tools-not-running',
    );
    // The default export lease exports the current state: a warning.
    expect(by(env.V2O_LAB_VSPHERE_VM_SNAPSHOT ?? 'win2016-snap01').warnings.map((w) => w.code)).toContain(
      'snapshots',
    );
    expect(by(env.V2O_LAB_VSPHERE_VM ?? 'win2019-app01').blockers).toEqual([]);
    expect(by(env.V2O_LAB_VSPHERE_VM_EFI ?? 'win2022-db01').warnings.map((w) => w.code)).toContain(
      'secure-boot',
    );
  });

  it('fails an unknown VM name with VmNotFoundError (exit 2)', async () => {
    const err = await findVmByName(client, 'no such vm').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VmNotFoundError);
    expect((err as VmNotFoundError).exitCode).toBe(2);
  });

  it('logs in again once when the session is gone', async () => {
    const c = await labClient();
    try {
      await logout(c.transport, c.serviceContent.sessionManager); // the server forgets the session; the client keeps its cookie
      const vm = await findVmByName(c, env.V2O_LAB_VSPHERE_VM ?? 'win2019-app01');
      const o = await retrieveOne(c, vm, ['name']);
      expect(o.props.name).toBe(env.V2O_LAB_VSPHERE_VM ?? 'win2019-app01');
    } finally {
      await c.close();
    }
  });

  it('pages through ContinueRetrievePropertiesEx', async () => {
    const all = await containerViewList(client, 'VirtualMachine', ['name']);
    const paged = await containerViewList(client, 'VirtualMachine', ['name'], { pageSize: 2 });
    expect(paged.map((o) => o.obj.value).sort()).toEqual(all.map((o) => o.obj.value).sort());
    expect(all.length).toBeGreaterThan(2);
  });

  it('a wrong password is InvalidLogin turned into a ConfigError', async () => {
    const { connect } = await import('../../../src/vsphere/objects/client.js');
    const { labConfig } = await import('./lab.js');
    const err = await connect({ ...(await labConfig()), password: 'wrong' }).catch((e: unknown) => e);
    expect(isFault(err, 'InvalidLogin')).toBe(true);
    expect((err as { exitCode: number }).exitCode).toBe(2);
  });
});
