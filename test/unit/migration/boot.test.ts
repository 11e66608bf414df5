// The first-boot task (script text, install, rollback) and verify-boot with its SATA fallback,
// driven with the fakes: a boot counts only when the guest's own line names this run and this server.
import { describe, expect, it } from 'vitest';
import { consoleTail, findMarker, parseMarkers } from '../../../src/migration/firstboot/marker.js';
import {
  createTaskCommand,
  firstbootConfig,
  firstbootGuestScript,
  firstbootScript,
} from '../../../src/migration/firstboot/script.js';
import type { MigrationParams } from '../../../src/migration/params.js';
import { FirstbootInstallError, installFirstboot } from '../../../src/migration/steps/install-firstboot.js';
import type { LaunchOutput } from '../../../src/migration/steps/launch.js';
import {
  attemptBuses,
  BootVerificationError,
  ConsoleLogUnavailableError,
  verifyBoot,
} from '../../../src/migration/steps/verify-boot.js';
import { ctx, FakeTarget, fakeSource, params, staticParams } from './fakes.js';

const RUN = 'r-test0001';
const TAGS = ['v2o', `v2o-run-${RUN}`];
const marker = (runId: string, uuid: string, bus = 'virtio') =>
  `v2o-firstboot: {"runId":"${runId}","uuid":"${uuid}","hostname":"WIN2022-DB01","osBuild":"20348","bus":"${bus}","time":"2026-12-01T21:00:00Z"}\r\n`;

describe('first-boot script', () => {
  it('is PowerShell that acts only off VMware, writes the marker to COM1 and removes itself', () => {
    const ps = firstbootScript();
    expect(ps).toMatch(/^[\x20-\x7e\r\n]*$/); // ASCII: 5.1 reads BOM-less files in the ANSI code page
    expect(ps.split('\r\n').every((l) => !l.includes('\n'))).toBe(true); // CRLF only
    expect(ps).toContain("if ($cs.Manufacturer -eq 'VMware, Inc.') { exit 0 }");
    expect(ps).toContain('Win32_ComputerSystemProduct).UUID).ToLowerInvariant()');
    expect(ps).toContain("New-Object System.IO.Ports.SerialPort 'COM1', 115200");
    expect(ps).toContain("$line = 'v2o-firstboot: ' +");
    expect(ps).toContain('ConvertTo-Json -Compress');
    expect(ps).toContain('$port.Write($line + "`r`n")');
    expect(ps).toContain("'viostor' = 'virtio'; 'vioscsi' = 'scsi'; 'storahci' = 'sata'");
    expect(ps).toContain('& schtasks.exe /Delete /TN $taskName /F');
    // The field order of the contract's marker.
    const field = (k: string) => ps.indexOf(`\r\n    ${k} = `);
    const order = ['runId', 'uuid', 'hostname', 'osBuild', 'bus', 'time'].map(field);
    expect(order.every((at) => at > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // `v2o guest-script` wraps it in a single-quoted here-string, which such a line would end.
    expect(ps.split('\r\n').some((l) => l.startsWith("'@"))).toBe(false);
  });

  it('firstboot.json and the schtasks line follow the contract', () => {
    const c = { version: 2 as const, runId: RUN, expectBus: 'scsi' as const, removeVmwareTools: false };
    expect(JSON.parse(firstbootConfig(c))).toEqual(c);
    // ASCII on disk whatever the captured names hold (5.1 reads a BOM-less file as ANSI).
    const named = firstbootConfig({ ...c, sourceUuid: 'Caf\u00e9' });
    expect(named).toMatch(/^[\x20-\x7e\r\n]*$/);
    expect(JSON.parse(named).sourceUuid).toBe('Caf\u00e9');
    expect(createTaskCommand()).toBe(
      'schtasks /Create /TN "v2o-firstboot" /SC ONSTART /RU SYSTEM /RL HIGHEST /F /TR "powershell.exe -NoProfile -ExecutionPolicy Bypass -File C:\\ProgramData\\v2o\\firstboot.ps1"',
    );
  });

  it('the manual-mode text writes the same script and config and checks the task', () => {
    const text = firstbootGuestScript(
      {
        version: 2,
        runId: RUN,
        expectBus: 'virtio',
        removeVmwareTools: false,
        guestAgent: { msi: 'C:\\ProgramData\\v2o\\qemu-ga-x86_64.msi' },
      },
      { guestAgentIsoPath: 'guest-agent\\qemu-ga-x86_64.msi' },
    );
    const body = text.slice(text.indexOf("@'\r\n") + 4, text.indexOf("\r\n'@"));
    expect(`${body}\r\n`).toBe(firstbootScript());
    expect(text).toContain(
      `-Value '{"version":2,"runId":"${RUN}","expectBus":"virtio","removeVmwareTools":false,"guestAgent":{"msi":"C:\\\\ProgramData\\\\v2o\\\\qemu-ga-x86_64.msi"}}'`,
    );
    // The agent's MSI from the CD-ROM the driver part found ($iso).
    expect(text).toContain(
      'Copy-Item -LiteralPath "$iso\\guest-agent\\qemu-ga-x86_64.msi" -Destination \'C:\\ProgramData\\v2o\\qemu-ga-x86_64.msi\' -Force',
    );
    expect(text).toContain('& schtasks.exe /Query /TN "v2o-firstboot"');
  });
});

describe('first-boot marker', () => {
  it('finds the line of this run from this server only, even behind firmware noise', () => {
    const log = [
      'SeaBIOS (version 1.16.0)',
      'Booting from Hard Disk...',
      marker('r-other', 'srv-1'),
      marker(RUN, 'srv-0'),
      `\u0000garbage${marker(RUN, 'SRV-1', 'sata')}`,
      'v2o-firstboot: {"runId": broken',
    ].join('\r\n');
    expect(parseMarkers(log)).toHaveLength(3);
    expect(findMarker(log, RUN, 'srv-1')).toMatchObject({
      runId: RUN,
      uuid: 'srv-1',
      bus: 'sata',
      osBuild: '20348',
    });
    expect(findMarker(log, RUN, 'srv-2')).toBeUndefined();
    expect(consoleTail('a\nb\nc\n', 2)).toBe('b\nc');
  });
});

function launched(serverId: string): LaunchOutput {
  return {
    serverId,
    name: 'win2022-db01',
    status: 'ACTIVE',
    ports: [{ id: 'port-a', name: 'nic0', macAddress: 'm', networkId: 'n', ips: [] }],
    bootFrom: { image: 'img0' },
    dataVolumes: [],
  };
}

/** A run at verify-boot: launch's server srv-0 ACTIVE on image img0 (hw_disk_bus virtio). */
function atVerifyBoot(yaml = '    bootTimeoutSeconds: 60\n', lastCheckpoint?: unknown, p?: MigrationParams) {
  const target = new FakeTarget();
  target.images.push({
    id: 'img0',
    name: 'v2o-win2022-db01-disk0',
    status: 'active',
    tags: [...TAGS],
    properties: { hw_disk_bus: 'virtio' },
  });
  target.servers.push({ id: 'srv-0', name: 'win2022-db01', status: 'ACTIVE', tags: [...TAGS] });
  let now = 1_000_000;
  const slept: number[] = [];
  const outputs = {
    'upload-images': { images: [{ index: 0, id: 'img0', name: 'x', bytes: 1, reused: false }] },
    'create-volumes': { volumes: [] },
    launch: launched('srv-0'),
  };
  const c = ctx('verify-boot', { target }, p ?? params(yaml), outputs, lastCheckpoint);
  Object.assign(c, {
    clock: { now: () => now },
    sleep: async (ms: number) => {
      slept.push(ms);
      now += ms;
    },
  });
  return { target, c, slept, advance: (ms: number) => (now += ms), now: () => now };
}

describe('verify-boot', () => {
  it('the buses tried: the planned one, then SATA when allowed', () => {
    expect(attemptBuses('virtio', 'sata')).toEqual(['virtio', 'sata']);
    expect(attemptBuses('scsi', 'none')).toEqual(['scsi']);
    expect(attemptBuses('sata', 'sata')).toEqual(['sata']);
  });

  it('succeeds on the marker of this run and this server, after it appears', async () => {
    const { target, c, slept } = atVerifyBoot();
    let reads = 0;
    target.consoleLog = async (id: string) => {
      reads++;
      return reads < 3 ? 'Booting from Hard Disk...\r\n' : `Booting from Hard Disk...\r\n${marker(RUN, id)}`;
    };
    const out = await verifyBoot.run(c);
    expect(out).toMatchObject({ outcome: 'booted', bus: 'virtio', serverId: 'srv-0', warning: undefined });
    expect(out.marker).toMatchObject({ runId: RUN, uuid: 'srv-0', hostname: 'WIN2022-DB01' });
    expect(out.attempts).toHaveLength(1);
    expect(slept).toEqual([5_000, 5_000]);
    expect(target.calls).toEqual([]); // nothing deleted or created
    expect(c.events).toContain('boot.reported');
  });

  it('ignores the marker of another run or another server: no marker → SATA fallback → success with a warning', async () => {
    const { target, c, now } = atVerifyBoot();
    // srv-0 shows a marker of an earlier run, and one naming another server: neither counts.
    target.consoles.set('srv-0', `${marker('r-earlier', 'srv-0')}${marker(RUN, 'srv-9')}`);
    const origCreate = target.createServer.bind(target);
    target.createServer = async (spec) => {
      // Never two servers of the run at once.
      expect(target.servers.filter((s) => s.tags.includes(TAGS[1]!))).toHaveLength(0);
      const s = await origCreate(spec);
      target.consoles.set(s.id, `SeaBIOS\r\n${marker(RUN, s.id, 'sata')}`);
      return s;
    };
    const start = now();
    const out = await verifyBoot.run(c);
    expect(out.outcome).toBe('booted');
    expect(out.bus).toBe('sata');
    expect(out.serverId).not.toBe('srv-0');
    expect(out.attempts.map((a) => [a.bus, a.outcome])).toEqual([
      ['virtio', 'no-marker'],
      ['sata', 'booted'],
    ]);
    expect(out.attempts[0]!.endedAt - start).toBeGreaterThanOrEqual(60_000);
    expect(out.warning).toMatch(
      /did not report its first boot on virtio \(server srv-0, deleted\); it booted on sata/,
    );
    expect(out.warning).toMatch(/Start=0.*hw_disk_bus=virtio/);
    expect(target.calls).toEqual([
      'deleteServer srv-0',
      'updateImage img0 {"hw_disk_bus":"sata"} -hw_scsi_model',
      expect.stringMatching(/^createServer win2022-db01 image=img0 boot=- data=$/),
    ]);
    expect(target.images[0]!.properties.hw_disk_bus).toBe('sata');
    expect(target.ports).toEqual([]); // ports are launch's; the fallback neither deletes nor makes any
    expect(c.events).toEqual(
      expect.arrayContaining(['boot.no-report', 'boot.server-deleted', 'boot.bus-set', 'boot.fallback']),
    );
  });

  it('bootFallback: none fails with the console evidence and keeps the server', async () => {
    const { target, c } = atVerifyBoot('    bootTimeoutSeconds: 30\n    bootFallback: none\n');
    target.consoles.set('srv-0', 'SeaBIOS (version 1.16.0)\r\nBooting from Hard Disk...\r\n');
    const err = await verifyBoot.run(c).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BootVerificationError);
    const e = err as BootVerificationError;
    expect(e.message).toMatch(/did not report its first boot within 30 s \(virtio on server srv-0\)/);
    expect(e.message).toMatch(/server srv-0 is kept for inspection/);
    expect(e.hint).toMatch(/v2o cancel r-test0001 --rollback/);
    expect(e.detail).toContain('Booting from Hard Disk...');
    expect(target.servers.map((s) => s.id)).toEqual(['srv-0']);
    expect(target.calls).toEqual([]);
  });

  it('every attempt failing fails the run, the last server kept', async () => {
    const { target, c } = atVerifyBoot('    bootTimeoutSeconds: 10\n');
    const err = await verifyBoot.run(c).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BootVerificationError);
    expect((err as Error).message).toMatch(/\(virtio on server srv-0, then sata on server srv-\d+\)/);
    expect(target.servers).toHaveLength(1);
    expect(target.servers[0]!.id).not.toBe('srv-0');
  });

  it('a console log the cloud does not serve fails at once, naming bootCheck: none', async () => {
    const { target, c } = atVerifyBoot();
    target.consoleDisabled = true;
    const err = await verifyBoot.run(c).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConsoleLogUnavailableError);
    expect((err as Error).message).toMatch(/does not serve the console log of server srv-0/);
    expect((err as ConsoleLogUnavailableError).hint).toMatch(/bootCheck: none/);
    expect(target.calls).toEqual([]); // no fallback: a new server would not have a log either
  });

  it('a server deleted by hand is named as gone, not as a console the cloud does not serve', async () => {
    const { target, c } = atVerifyBoot();
    target.consoleDisabled = true;
    target.servers = [];
    const err = await verifyBoot.run(c).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BootVerificationError);
    expect((err as Error).message).toMatch(/server srv-0 no longer exists/);
  });

  it('bootCheck: none trusts ACTIVE with a journaled warning', async () => {
    const { target, c } = atVerifyBoot('    bootCheck: none\n');
    target.consoleLog = async () => {
      throw new Error('must not read the console');
    };
    const out = await verifyBoot.run(c);
    expect(out).toMatchObject({ outcome: 'unchecked', serverId: 'srv-0', attempts: [] });
    expect(out.warning).toMatch(/not verified/);
    expect(c.events).toContain('boot.unchecked');
    expect(verifyBoot.plan!({ params: c.params, log: c.log })).toMatchObject({
      warnings: [expect.stringMatching(/bootCheck: none/)],
    });
    // `v2o plan` prints the plan's warnings with their fix.
    expect(c.params.plan.warnings).toContainEqual(
      expect.objectContaining({ code: 'boot-unchecked', fix: expect.stringMatching(/os-getConsoleOutput/) }),
    );
    expect(params().plan.warnings.map((w) => w.code)).not.toContain('boot-unchecked');
  });

  it('resumes after a kill mid-fallback: adopts the server already created, never a second one', async () => {
    // The first process recorded attempt 1's failure and started attempt 2, then died between
    // creating the SATA server and journaling its id.
    const first = atVerifyBoot();
    first.target.createServer = async () => {
      throw new Error('killed');
    };
    await verifyBoot.run(first.c).catch(() => {});
    const killedAt = first.c.checkpoints.at(-1) as { attempts: unknown[]; current?: { serverId?: string } };
    expect(killedAt.attempts).toHaveLength(1);
    expect(killedAt.current?.serverId).toBeUndefined();

    const { target, c } = atVerifyBoot(undefined, killedAt);
    target.servers = [{ id: 'srv-sata', name: 'win2022-db01', status: 'BUILD', tags: [...TAGS] }];
    target.consoles.set('srv-sata', marker(RUN, 'srv-sata', 'sata'));
    const out = await verifyBoot.run(c);
    expect(out).toMatchObject({ outcome: 'booted', bus: 'sata', serverId: 'srv-sata' });
    expect(out.attempts.map((a) => a.serverId)).toEqual(['srv-0', 'srv-sata']);
    expect(target.calls).toEqual([]); // srv-0 was gone already; nothing created twice
  });

  it('resumes after a kill before the failed server was deleted: deletes it first, then creates one', async () => {
    const cp = {
      attempts: [
        {
          serverId: 'srv-0',
          bus: 'virtio',
          outcome: 'no-marker',
          startedAt: 0,
          endedAt: 60_000,
          consoleTail: '',
        },
      ],
      current: { bus: 'sata' },
    };
    const { target, c } = atVerifyBoot(undefined, cp);
    const order: string[] = [];
    const create = target.createServer.bind(target);
    target.createServer = async (spec) => {
      order.push(`create with ${target.servers.length} server(s) present`);
      const s = await create(spec);
      target.consoles.set(s.id, marker(RUN, s.id, 'sata'));
      return s;
    };
    const out = await verifyBoot.run(c);
    expect(out.outcome).toBe('booted');
    expect(order).toEqual(['create with 0 server(s) present']);
    expect(target.calls[0]).toBe('deleteServer srv-0');
  });

  it('a resumed wait keeps its deadline instead of starting a new one', async () => {
    const { c, slept, now } = atVerifyBoot('    bootTimeoutSeconds: 60\n    bootFallback: none\n', {
      attempts: [],
      current: { bus: 'virtio', serverId: 'srv-0', startedAt: 1_000_000 - 50_000 },
    });
    await verifyBoot.run(c).catch(() => {});
    expect(slept.reduce((a, b) => a + b, 0)).toBe(10_000);
    expect(now()).toBe(1_010_000);
  });

  it('sets the volume image metadata when the server boots from a volume', async () => {
    const p = params('    bootTimeoutSeconds: 10\n');
    p.plan = { ...p.plan, bootFromVolume: true };
    const { target, c } = atVerifyBoot(undefined, undefined, p);
    target.volumes.push({ id: 'vol0', name: 'v0', status: 'in-use', sizeGiB: 1, metadata: {} });
    target.volumeImageMetadata.set('vol0', { hw_disk_bus: 'scsi', hw_scsi_model: 'virtio-scsi' });
    Object.assign(c, {
      outputOf: (s: string) =>
        ({
          'upload-images': { images: [] },
          'create-volumes': {
            volumes: [{ index: 0, id: 'vol0', name: 'v0', sizeGiB: 1, bootable: true, fromImageId: 'img0' }],
          },
          launch: launched('srv-0'),
        })[s],
    });
    const create = target.createServer.bind(target);
    target.createServer = async (spec) => {
      const s = await create(spec);
      target.consoles.set(s.id, marker(RUN, s.id, 'sata'));
      return s;
    };
    const out = await verifyBoot.run(c);
    expect(out.bus).toBe('sata');
    expect(target.volumeImageMetadata.get('vol0')).toEqual({ hw_disk_bus: 'sata' });
    expect(target.calls.at(-1)).toMatch(/^createServer win2022-db01 image=- boot=vol0/);
  });
});

describe('install-firstboot', () => {
  const drivers = { 'install-drivers': { mode: 'auto', drive: 'E:', commands: [] } };

  it('writes the script and config v2, copies the agent MSI from the ISO, registers the task and checks it, before shutdown', async () => {
    const written: Record<string, string> = {};
    const source = fakeSource({
      writeGuestFile: async (_vm, _c, path, data) => {
        source.calls.push(`write ${path}`);
        written[path] = String(data);
      },
    });
    const c = ctx('install-firstboot', { source }, staticParams(), drivers);
    const out = await installFirstboot.run(c);
    expect(out).toMatchObject({ task: 'v2o', expectBus: 'virtio' });
    expect(out.files).toContain('C:\\ProgramData\\v2o\\qemu-ga-x86_64.msi');
    expect(source.calls).toEqual([
      'mkdir C:\\ProgramData\\v2o',
      'write C:\\ProgramData\\v2o\\firstboot.ps1',
      'write C:\\ProgramData\\v2o\\firstboot.json',
      'copy /Y "E:\\guest-agent\\qemu-ga-x86_64.msi" "C:\\ProgramData\\v2o\\qemu-ga-x86_64.msi"',
      createTaskCommand(),
      'schtasks /Query /TN "v2o-firstboot"',
    ]);
    const config = JSON.parse(written['C:\\ProgramData\\v2o\\firstboot.json']!);
    expect(config).toMatchObject({ version: 2, runId: RUN, expectBus: 'virtio' });
    expect(config.network.adapters.map((a: { name: string }) => a.name)).toEqual(['Prod LAN', 'Backup']);
    expect(config.guestAgent).toEqual({ msi: 'C:\\ProgramData\\v2o\\qemu-ga-x86_64.msi' });
  });

  it('a guest agent MSI that cannot be copied stops the run before shutdown; guestAgent: false copies nothing', async () => {
    const source = fakeSource({
      runInGuest: async (_vm, _c, command) =>
        command.startsWith('copy')
          ? { exitCode: 1, output: 'The system cannot find the file specified.' }
          : { exitCode: 0, output: '' },
    });
    const err = await installFirstboot
      .run(ctx('install-firstboot', { source }, params(), drivers))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FirstbootInstallError);
    expect((err as Error).message).toMatch(/MSI could not be copied.*copy exited 1: The system cannot find/);
    expect((err as FirstbootInstallError).hint).toMatch(/guestAgent: false/);
    const none = fakeSource();
    await installFirstboot.run(
      ctx('install-firstboot', { source: none }, params('    guestAgent: false\n'), drivers),
    );
    expect(none.calls.some((x) => x.startsWith('copy'))).toBe(false);
  });

  it('a task that cannot be registered fails with the fix, the VM still running', async () => {
    const source = fakeSource({
      runInGuest: async (_vm, _c, command) =>
        command.startsWith('schtasks /Create')
          ? { exitCode: 1, output: 'ERROR: Access is denied.' }
          : { exitCode: 0, output: '' },
    });
    const err = await installFirstboot
      .run(ctx('install-firstboot', { source }, params(), drivers))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FirstbootInstallError);
    expect((err as Error).message).toMatch(
      /could not be registered, so the VM was NOT shut down: schtasks \/Create exited 1: ERROR: Access is denied/,
    );
    expect((err as FirstbootInstallError).hint).toMatch(/bootCheck: none/);
  });

  it('manual mode only looks, and says so when the operator did not register it', async () => {
    const source = fakeSource({ runInGuest: async () => ({ exitCode: 1, output: '' }) });
    const c = ctx('install-firstboot', { source }, params('    drivers: { mode: manual }\n'));
    const out = await installFirstboot.run(c);
    expect(out.task).toBe('missing');
    expect(out.note).toMatch(/v2o guest-script/);
    expect(c.events).toContain('firstboot.missing');
  });

  it('is skipped with bootCheck: none', async () => {
    const c = ctx('install-firstboot', {}, params('    bootCheck: none\n'));
    expect(await installFirstboot.skipIf!(c)).toBe(true);
  });

  it('a rollback removes the task and files from the source (powered on again for it), and only says so when Tools do not come up', async () => {
    const source = fakeSource();
    const out = { task: 'v2o' as const, expectBus: 'virtio' as const, files: [] };
    await installFirstboot.compensate!(ctx('install-firstboot', { source }), out);
    expect(source.calls).toEqual([
      'schtasks /Delete /TN "v2o-firstboot" /F',
      'del /F /Q "C:\\ProgramData\\v2o\\firstboot.ps1" "C:\\ProgramData\\v2o\\firstboot.json" "C:\\ProgramData\\v2o\\qemu-ga-x86_64.msi"',
    ]);
    const off = fakeSource({
      findVm: async () => ({ ...(await fakeSource().findVm('x'))!, powerState: 'poweredOff' }),
    });
    const c = ctx('install-firstboot', { source: off });
    await installFirstboot.compensate!(c, out);
    // It was running before the run: powered on again for the removal, but Tools never came up.
    expect(off.calls).toEqual(['powerOn']);
    expect(c.events).toContain('firstboot.left');
    // A guest that cannot delete it: the rollback goes on (the task is inert on VMware) and says so.
    const stuck = fakeSource({
      runInGuest: async () => ({ exitCode: 5, output: 'ERROR: Access is denied.' }),
    });
    const c2 = ctx('install-firstboot', { source: stuck });
    await installFirstboot.compensate!(c2, out);
    expect(c2.events).toContain('firstboot.left');
  });
});
