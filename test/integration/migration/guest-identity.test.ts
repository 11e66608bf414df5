// Issue 13 against both labs: the running guest is inspected before any downtime (its network
// identity and disk layout captured, its readiness judged), and the migrated server is the same
// server: its ports carry the captured addresses, and the first-boot task's report (the lab's
// Nova applies firstboot.json to the guest state it booted, read from the disk bytes) shows the
// configuration applied to the renamed NetKVM adapters, the ghost gone, E: online, the guest
// agent installed. A rollback leaves the source as it was.
import { afterAll, describe, expect, it } from 'vitest';
import {
  guestState,
  labCdroms,
  labVm,
  migrationEnv,
  openTarget,
  resetVm,
  rollbackRuns,
  runIdOf,
  runResources,
  type StartedRun,
  setGuest,
  stepOutput,
  tmpDir,
  v2o,
  writePlan,
} from './helpers.js';

const VM = 'win2022-static01';
const HKLM = 'HKLM\\SOFTWARE';
const SYS = 'HKLM\\SYSTEM\\CurrentControlSet';
const cleanup: StartedRun[] = [];
afterAll(() => rollbackRuns(cleanup));

interface Adapter {
  name: string;
  mac: string;
  dhcp: boolean;
  ipv4: { address: string; prefixLength: number }[];
  gateways: { nextHop: string; metric: number }[];
  routes: { destination: string; nextHop: string; metric: number }[];
  dnsServers: string[];
  dnsSuffix?: string;
  registerInDns?: boolean;
  mtu?: number;
  category?: string;
}
interface Facts {
  adapters: Adapter[];
  ghostAdapters: { name: string; description: string }[];
  disks: { number: number; online: boolean; volumes: { guid: string; driveLetter?: string }[] }[];
  sanPolicy: string;
  realTimeIsUniversal: boolean;
  fastStartup: boolean;
  bitlocker: { mountPoint: string; protection: string }[];
}

async function inspect(state: string): Promise<Facts> {
  const r = await v2o(state, ['inventory', '--vm', VM, '--guest', '--json']);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  const out = JSON.parse(r.stdout) as { guest?: Facts } & Record<string, unknown>;
  const facts = (out.guest ?? (out.vms as { guest: Facts }[] | undefined)?.[0]?.guest) as Facts;
  expect(facts, r.stdout).toBeDefined();
  return facts;
}

/** What must survive the move, without the ids Windows gives each adapter. */
const identity = (f: Facts) => ({
  adapters: f.adapters
    .map((a) => ({
      name: a.name,
      dhcp: a.dhcp,
      ipv4: a.ipv4,
      gateways: a.gateways,
      routes: a.routes,
      dnsServers: a.dnsServers,
      dnsSuffix: a.dnsSuffix,
      category: a.category,
    }))
    .sort((a, b) => a.name.localeCompare(b.name)),
  letters: f.disks.flatMap((d) => d.volumes.flatMap((v) => (v.driveLetter ? [v.driveLetter] : []))).sort(),
});

describe('network identity and disk layout', () => {
  it('inventory --guest shows both adapters, the E: data disk and the SAN policy', async () => {
    await resetVm(VM);
    const f = await inspect(tmpDir('inv-guest'));
    const prod = f.adapters.find((a) => a.name === 'Prod LAN')!;
    expect(prod).toMatchObject({
      mac: '00:50:56:a1:30:01',
      dhcp: false,
      ipv4: [
        { address: '192.0.2.41', prefixLength: 24 },
        { address: '192.0.2.42', prefixLength: 24 },
      ],
      gateways: [{ nextHop: '192.0.2.1' }],
      routes: [{ destination: '203.0.113.0/24', nextHop: '192.0.2.254' }],
      dnsServers: ['192.0.2.53', '192.0.2.54'],
      dnsSuffix: 'corp.example',
      category: 'DomainAuthenticated',
    });
    const backup = f.adapters.find((a) => a.name === 'Backup')!;
    expect(backup).toMatchObject({
      mac: '00:50:56:a1:30:02',
      dhcp: false,
      ipv4: [{ address: '198.51.100.41', prefixLength: 24 }],
      gateways: [],
    });
    expect(f.ghostAdapters.length).toBeGreaterThan(0);
    expect(f.disks.some((d) => d.volumes.some((v) => v.driveLetter === 'E'))).toBe(true);
    expect(f.sanPolicy).toBe('OfflineShared');
  });

  it('migrated: the ports carry the addresses, the first boot replays them, verify-boot passes; a rollback leaves the source unchanged', async () => {
    await resetVm(VM);
    // BitLocker on C:, a UTC hardware clock and Fast Startup: what prepare-shutdown changes (and a rollback undoes).
    await setGuest({
      vm: VM,
      bitlocker: [{ mountPoint: 'C:', protection: 'On', volumeStatus: 'FullyEncrypted' }],
      registry: {
        [`${SYS}\\Control\\TimeZoneInformation\\RealTimeIsUniversal`]: 1,
        [`${SYS}\\Control\\Session Manager\\Power\\HiberbootEnabled`]: 1,
      },
    });
    const state = tmpDir('identity');
    const before = await inspect(state);
    expect(before).toMatchObject({ realTimeIsUniversal: true, fastStartup: true });
    const plan = writePlan(state, { [VM]: '    bootTimeoutSeconds: 60\n    bitlocker: suspend\n' });
    const p = await v2o(state, ['plan', plan, '--vm', VM]);
    expect(p.code, p.stdout + p.stderr).toBe(0);
    // The plan says what keeping a MAC does not do, and shows the addresses the ports get.
    expect(p.stdout).toMatch(/192\.0\.2\.41/);
    expect(p.stdout).toMatch(/198\.51\.100\.41/);
    const r = await v2o(state, ['migrate', plan, '--vm', VM], migrationEnv(), 280_000);
    const runId = runIdOf(r.stdout + r.stderr);
    cleanup.push({ state, runId, vm: VM });
    expect(r.code, r.stdout + r.stderr).toBe(0);

    const t = await openTarget();
    try {
      const res = await runResources(t, runId);
      const ips = (mac: string) =>
        res.ports
          .find((x) => x.macAddress === mac)!
          .fixedIps.map((i: { ipAddress: string }) => i.ipAddress)
          .sort();
      expect(ips('00:50:56:a1:30:01')).toEqual(['192.0.2.41', '192.0.2.42']);
      expect(ips('00:50:56:a1:30:02')).toEqual(['198.51.100.41']);
      expect(res.servers).toHaveLength(1);
      // The guest's own report on the console: what Windows has after the first-boot task ran.
      const log = await t.consoleLog(res.servers[0]!.id);
      const line = (log ?? '').split(/\r?\n/).find((l) => l.startsWith('v2o-firstboot: '));
      expect(line, log).toBeDefined();
      const marker = JSON.parse(line!.slice('v2o-firstboot: '.length)) as {
        runId: string;
        result: {
          adapters: Adapter[];
          ghostsRemoved: string[];
          disks: { online: boolean; letters: string[] }[];
          guestAgent?: string;
          failed: unknown[];
        };
      };
      expect(marker.runId).toBe(runId);
      expect(marker.result.failed).toEqual([]);
      const prod = marker.result.adapters.find((a) => a.name === 'Prod LAN')!;
      expect(prod).toMatchObject({
        mac: '00:50:56:a1:30:01',
        dhcp: false,
        ipv4: [
          { address: '192.0.2.41', prefixLength: 24 },
          { address: '192.0.2.42', prefixLength: 24 },
        ],
        gateways: [{ nextHop: '192.0.2.1' }],
        routes: [{ destination: '203.0.113.0/24', nextHop: '192.0.2.254' }],
        dnsServers: ['192.0.2.53', '192.0.2.54'],
        dnsSuffix: 'corp.example',
      });
      const backup = marker.result.adapters.find((a) => a.name === 'Backup')!;
      expect(backup).toMatchObject({ dhcp: false, ipv4: [{ address: '198.51.100.41', prefixLength: 24 }] });
      expect(marker.result.ghostsRemoved.length).toBeGreaterThan(0);
      expect(marker.result.disks.some((d) => d.online && d.letters.includes('E'))).toBe(true);
      expect(marker.result.guestAgent).toBe('installed');
      const images = res.images.filter((i) => i.properties.hw_qemu_guest_agent === 'yes');
      expect(images.length + res.volumes.length).toBeGreaterThan(0);
    } finally {
      await t.close();
    }
    const st = await v2o(state, ['status', runId, '--json']);
    expect(stepOutput<{ outcome: string }>(st.stdout, 'verify-boot')?.outcome).toBe('booted');
    expect(stepOutput(st.stdout, 'prepare-shutdown')).toMatchObject({
      bitlockerSuspended: ['C:'],
      realTimeIsUniversalCleared: true,
      fastStartupDisabled: true,
    });
    // The source as it went down (its guest state): protection suspended, the clock local, no Fast Startup.
    const off = (await guestState(VM)) as unknown as {
      bitlocker: { mountPoint: string; protection: string }[];
      registry: Record<string, unknown>;
    };
    expect(off.bitlocker.find((b) => b.mountPoint === 'C:')?.protection).toBe('Off');
    const reg = (path: string) =>
      Object.entries(off.registry).find(([k]) => k.toLowerCase().endsWith(path.toLowerCase()))?.[1];
    expect(reg('TimeZoneInformation\\RealTimeIsUniversal')).toBe(0);
    expect(reg('Session Manager\\Power\\HiberbootEnabled')).toBe(0);

    // Roll back: the source comes back on, the task and every change before shutdown undone.
    const rb = await v2o(state, ['cancel', runId, '--rollback']);
    expect(rb.code, rb.stdout + rb.stderr).toBe(0);
    cleanup.splice(
      cleanup.findIndex((c) => c.runId === runId),
      1,
    );
    expect((await labVm(VM)).powerState).toBe('poweredOn');
    const after = await inspect(state);
    expect(identity(after)).toEqual(identity(before));
    expect(after.sanPolicy).toBe(before.sanPolicy);
    expect(after).toMatchObject({ realTimeIsUniversal: true, fastStartup: true });
    expect(after.bitlocker).toEqual(before.bitlocker);
    const g = (await guestState(VM)) as { tasks?: { name: string }[] };
    expect((g.tasks ?? []).map((x) => x.name)).not.toContain('\\v2o-firstboot');
    expect((await labCdroms(VM)).isos).toEqual([]);
    await resetVm(VM);
  });
});

interface GuestView {
  network: { adapters: (Record<string, unknown> & { name: string; present: boolean })[]; teams?: unknown[] };
  disks: { number: number; dynamic: boolean; volumes: { driveLetter: string; freeBytes: number }[] }[];
}
const view = async () => (await guestState(VM)) as unknown as GuestView;

/** Each readiness finding set through its lab knob: the code and severity the plan reports. */
const KNOBS: {
  finding: string;
  severity: 'blocker' | 'warning';
  knob: () => Promise<Record<string, unknown>>;
}[] = [
  {
    finding: 'bitlocker',
    severity: 'blocker',
    knob: async () => ({
      bitlocker: [{ mountPoint: 'C:', protection: 'On', volumeStatus: 'FullyEncrypted' }],
    }),
  },
  { finding: 'domain-controller', severity: 'blocker', knob: async () => ({ domainRole: 5 }) },
  {
    finding: 'pending-reboot',
    severity: 'blocker',
    knob: async () => ({
      registry: {
        [`${HKLM}\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending\\lab`]: 1,
      },
    }),
  },
  {
    finding: 'fast-startup',
    severity: 'warning',
    knob: async () => ({ registry: { [`${SYS}\\Control\\Session Manager\\Power\\HiberbootEnabled`]: 1 } }),
  },
  {
    finding: 'dynamic-system-disk',
    severity: 'blocker',
    knob: async () => ({ disks: (await view()).disks.map((d) => ({ ...d, dynamic: d.number === 0 })) }),
  },
  {
    finding: 'system-free-space',
    severity: 'blocker',
    knob: async () => ({
      disks: (await view()).disks.map((d) => ({
        ...d,
        volumes: d.volumes.map((v) => (v.driveLetter === 'C' ? { ...v, freeBytes: 4 * 1024 ** 2 } : v)),
      })),
    }),
  },
  {
    finding: 'execution-policy-gpo',
    severity: 'blocker',
    knob: async () => ({
      registry: {
        [`${HKLM}\\Policies\\Microsoft\\Windows\\PowerShell\\EnableScripts`]: 1,
        [`${HKLM}\\Policies\\Microsoft\\Windows\\PowerShell\\ExecutionPolicy`]: 'AllSigned',
      },
    }),
  },
  {
    finding: 'constrained-language',
    severity: 'blocker',
    knob: async () => ({ languageMode: 'ConstrainedLanguage' }),
  },
  {
    finding: 'device-install-blocked',
    severity: 'blocker',
    knob: async () => ({
      registry: {
        [`${HKLM}\\Policies\\Microsoft\\Windows\\DeviceInstall\\Restrictions\\DenyUnspecified`]: 1,
      },
    }),
  },
  {
    finding: 'nic-teaming',
    severity: 'blocker',
    knob: async () => ({
      network: {
        ...(await view()).network,
        teams: [{ name: 'Team1', members: ['Prod LAN', 'Backup'], teamingMode: 0 }],
      },
    }),
  },
  {
    finding: 'guest-vlan',
    severity: 'blocker',
    knob: async () => {
      const n = (await view()).network;
      return {
        network: {
          ...n,
          adapters: n.adapters.map((a) => (a.name === 'Prod LAN' ? { ...a, vlanId: 20 } : a)),
        },
      };
    },
  },
  {
    finding: 'mtu-above-network',
    severity: 'warning',
    knob: async () => {
      const n = (await view()).network;
      return {
        network: { ...n, adapters: n.adapters.map((a) => (a.name === 'Prod LAN' ? { ...a, mtu: 9000 } : a)) },
      };
    },
  },
  {
    finding: 'utc-clock-cleared',
    severity: 'warning',
    knob: async () => ({ registry: { [`${SYS}\\Control\\TimeZoneInformation\\RealTimeIsUniversal`]: 1 } }),
  },
];

describe('a first-boot action that fails', () => {
  it('fails the run naming the action, keeps the server and does not fall back to SATA', async () => {
    await resetVm(VM);
    const state = tmpDir('replay-fail');
    const plan = writePlan(state, { [VM]: '    bootTimeoutSeconds: 60\n' });
    // Stopped after the first-boot task and the agent's MSI are in the guest, before it goes down…
    const k = await v2o(
      state,
      ['migrate', plan, '--vm', VM],
      migrationEnv({ V2O_TEST_CRASH_AT: 'prepare-shutdown:before' }),
    );
    expect(k.signal, k.stdout + k.stderr).toBe('SIGKILL');
    const runId = runIdOf(k.stdout + k.stderr);
    cleanup.push({ state, runId, vm: VM });
    // …where the MSI goes missing (an antivirus, a cleanup): the guest agent cannot be installed.
    await setGuest({ vm: VM, files: { 'C:\\ProgramData\\v2o\\qemu-ga-x86_64.msi': null } });
    const r = await v2o(state, ['resume', runId], migrationEnv(), 280_000);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toMatch(/first-boot task did not make it the same server: .*guest agent/);
    expect(r.stderr).toMatch(/The server is kept/);
    const st = await v2o(state, ['status', runId, '--json']);
    const t = await openTarget();
    try {
      const res = await runResources(t, runId);
      expect(res.servers.map((x) => x.status)).toEqual(['ACTIVE']);
      // One attempt only, on the planned bus: the guest did boot.
      expect(res.images[0]!.properties.hw_disk_bus).toBe('virtio');
    } finally {
      await t.close();
    }
    expect(
      JSON.parse(st.stdout).steps.find((x: { stepId: string }) => x.stepId === 'verify-boot').state,
    ).toBe('failed');
    const rb = await v2o(state, ['cancel', runId, '--rollback']);
    expect(rb.code, rb.stdout + rb.stderr).toBe(0);
    cleanup.splice(
      cleanup.findIndex((c) => c.runId === runId),
      1,
    );
    await resetVm(VM);
  });
});

describe('in-guest readiness, before any change', () => {
  it.each(KNOBS)('$finding ($severity) through its lab knob', async ({ finding, severity, knob }) => {
    await resetVm(VM);
    await setGuest({ vm: VM, ...(await knob()) });
    const state = tmpDir(`knob-${finding}`);
    const plan = writePlan(state, { [VM]: '    bootTimeoutSeconds: 60\n' });
    const p = await v2o(state, ['plan', plan, '--vm', VM, '--json']);
    const out = JSON.parse(p.stdout) as {
      vms: { plan: { blockers: { code: string }[]; warnings: { code: string }[] } }[];
    };
    const found = out.vms[0]!.plan;
    const list = severity === 'blocker' ? found.blockers : found.warnings;
    expect(
      list.map((x) => x.code),
      p.stdout,
    ).toContain(finding);
    if (severity === 'blocker') {
      // A blocked plan starts nothing: the VM runs on, nothing mounted, no run.
      const m = await v2o(state, ['migrate', plan, '--vm', VM]);
      expect(m.code, m.stdout + m.stderr).toBe(2);
      expect(m.stderr).toMatch(/the plan is blocked; nothing was started/);
      expect((await labVm(VM)).powerState).toBe('poweredOn');
      expect((await labCdroms(VM)).isos).toEqual([]);
    }
    await resetVm(VM);
  });

  it('allowed by their settings: bitlocker: suspend, domainController: allow (and the power-on it refuses), clock: utc', async () => {
    await resetVm(VM);
    await setGuest({
      vm: VM,
      domainRole: 5,
      bitlocker: [{ mountPoint: 'C:', protection: 'On', volumeStatus: 'FullyEncrypted' }],
      registry: { [`${SYS}\\Control\\TimeZoneInformation\\RealTimeIsUniversal`]: 1 },
    });
    const state = tmpDir('allowed');
    const codes = async (extra: string) => {
      const plan = writePlan(state, { [VM]: `    bootTimeoutSeconds: 60\n${extra}` });
      const p = await v2o(state, ['plan', plan, '--vm', VM, '--json']);
      const v = (
        JSON.parse(p.stdout) as {
          vms: { plan: { blockers: { code: string }[]; warnings: { code: string }[] } }[];
        }
      ).vms[0]!.plan;
      return { blockers: v.blockers.map((b) => b.code), warnings: v.warnings.map((w) => w.code) };
    };
    const allowed = await codes('    bitlocker: suspend\n    domainController: allow\n    clock: utc\n');
    expect(allowed.blockers).toEqual([]);
    expect(allowed.warnings).toEqual(
      expect.arrayContaining(['bitlocker-suspend', 'domain-controller-allowed', 'utc-clock-kept']),
    );
    const powerOn = await codes(
      '    bitlocker: suspend\n    domainController: allow\n    sourceAfter: power-on\n',
    );
    expect(powerOn.blockers).toContain('domain-controller-power-on');
    await resetVm(VM);
  });

  it('a domain controller allowed: once the target booted, a rollback needs --force and says why (USN rollback)', async () => {
    await resetVm(VM);
    await setGuest({ vm: VM, domainRole: 5 });
    const state = tmpDir('dc');
    const plan = writePlan(state, { [VM]: '    bootTimeoutSeconds: 60\n    domainController: allow\n' });
    const r = await v2o(state, ['migrate', plan, '--vm', VM], migrationEnv(), 280_000);
    const runId = runIdOf(r.stdout + r.stderr);
    cleanup.push({ state, runId, vm: VM });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const refused = await v2o(state, ['cancel', runId, '--rollback']);
    expect(refused.code, refused.stdout + refused.stderr).toBe(2);
    expect(refused.stderr).toMatch(/USN rollback/);
    expect((await labVm(VM)).powerState).toBe('poweredOff');
    const forced = await v2o(state, ['cancel', runId, '--rollback', '--force']);
    expect(forced.code, forced.stdout + forced.stderr).toBe(0);
    cleanup.splice(
      cleanup.findIndex((c) => c.runId === runId),
      1,
    );
    await resetVm(VM);
  });
});
