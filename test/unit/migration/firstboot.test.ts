// firstboot.json v2 from the plan, the replay part of firstboot.ps1, the marker's `result`, the
// comparison with the plan and verify-boot's use of it (issue 13, contract §D).
import { describe, expect, it } from 'vitest';
import type { FirstbootConfigV2, FirstbootResult } from '../../../src/migration/firstboot/actions.js';
import { compareReplay, describeReplayProblems } from '../../../src/migration/firstboot/compare.js';
import { firstbootConfigV2, ghostRemovalFor } from '../../../src/migration/firstboot/config.js';
import { findMarker, parseMarkers } from '../../../src/migration/firstboot/marker.js';
import { firstbootScript } from '../../../src/migration/firstboot/script.js';
import type { MigrationParams } from '../../../src/migration/params.js';
import type { LaunchOutput } from '../../../src/migration/steps/launch.js';
import {
  BootVerificationError,
  FirstbootReplayError,
  verifyBoot,
} from '../../../src/migration/steps/verify-boot.js';
import { ctx, FakeTarget, params, staticParams } from './fakes.js';

const RUN = 'r-test0001';
const TAGS = ['v2o', `v2o-run-${RUN}`];

const configOf = (p: MigrationParams) => firstbootConfigV2({ runId: RUN, expectBus: 'virtio', plan: p.plan });

/** What a replay that did everything right reports (read back from Windows). */
function perfectResult(c: FirstbootConfigV2, boot = 1): FirstbootResult {
  return {
    boot,
    adapters: (c.network?.adapters ?? []).map((a, i) => ({
      name: a.name,
      mac: a.match.mac ?? `fa:16:3e:00:00:0${i}`,
      dhcp: a.dhcp,
      ipv4: a.ipv4,
      ipv6: a.ipv6,
      gateways: a.gateways,
      routes: a.routes,
      dnsServers: a.dnsServers,
      ...(a.dnsSuffix ? { dnsSuffix: a.dnsSuffix } : {}),
      ...(a.category ? { category: a.category } : {}),
    })),
    ghostsRemoved: [
      'PCI\\VEN_15AD&DEV_07B0&SUBSYS_07B015AD&REV_01\\FF565000A1309900',
      'PCI\\X\\1',
      'PCI\\X\\2',
    ],
    sanPolicy: 'OnlineAll',
    disks: [
      { number: 0, online: true, letters: ['C'] },
      { number: 1, online: true, letters: ['E'] },
    ],
    guestAgent: 'installed',
    vmwareTools: 'kept',
    failed: [],
  };
}

describe('firstboot.json version 2 (config.ts)', () => {
  it('win2022-static01: ghosts by pnputil, both adapters by MAC with the ports addresses, E: online', () => {
    const c = configOf(staticParams());
    expect(c).toEqual({
      version: 2,
      runId: RUN,
      expectBus: 'virtio',
      sourceUuid: '4201aaaa-bbbb-cccc-dddd-eeeeffff0001',
      removeVmwareTools: false,
      network: {
        removeGhosts: {
          mechanism: 'pnputil',
          descriptions: [
            'vmxnet3 Ethernet Adapter',
            'Intel(R) 82574L Gigabit Network Connection',
            'Intel(R) PRO/1000 MT Network Connection',
            'VMware PCI Ethernet Adapter',
            'vmxnet3 Ethernet Adapter #2',
          ],
        },
        adapters: [
          {
            match: { mac: '00:50:56:a1:30:01', order: 0 },
            name: 'Prod LAN',
            dhcp: false,
            ipv4: [
              { address: '192.0.2.41', prefixLength: 24 },
              { address: '192.0.2.42', prefixLength: 24 },
            ],
            ipv6: [],
            gateways: [{ nextHop: '192.0.2.1', metric: 256 }],
            routes: [{ destination: '203.0.113.0/24', nextHop: '192.0.2.254', metric: 256 }],
            dnsServers: ['192.0.2.53', '192.0.2.54'],
            dnsSuffix: 'corp.example',
            registerInDns: true,
            mtu: 1500,
            category: 'DomainAuthenticated',
          },
          {
            match: { mac: '00:50:56:a1:30:02', order: 1 },
            name: 'Backup',
            dhcp: false,
            ipv4: [{ address: '198.51.100.41', prefixLength: 24 }],
            ipv6: [],
            gateways: [],
            routes: [],
            dnsServers: [],
            registerInDns: false,
            mtu: 1500,
            category: 'DomainAuthenticated',
          },
        ],
      },
      disks: {
        sanPolicy: 'OnlineAll',
        online: true,
        letters: [{ volumeGuid: '\\\\?\\Volume{22222222-0000-0000-0000-000000000002}\\', driveLetter: 'E' }],
      },
      guestAgent: { msi: 'C:\\ProgramData\\v2o\\qemu-ga-x86_64.msi' },
    });
  });

  it('names the ghost mechanism per release: pnputil from build 19041 (2022, 2025, 11), SetupAPI before', () => {
    expect(
      ['2k12', '2k12R2', '2k16', '2k19', 'w10'].map((folder) =>
        ghostRemovalFor({ folder: folder as '2k16' }),
      ),
    ).toEqual(Array(5).fill('setupapi'));
    expect(['2k22', '2k25', 'w11'].map((folder) => ghostRemovalFor({ folder: folder as '2k22' }))).toEqual(
      Array(3).fill('pnputil'),
    );
    expect(ghostRemovalFor(undefined)).toBe('setupapi');
    const p = staticParams();
    p.plan.windows = { ...p.plan.windows!, folder: '2k19' };
    expect(configOf(p).network?.removeGhosts.mechanism).toBe('setupapi');
  });

  it('replays the addresses the plan listed, by order when the MAC is not kept, DHCP when the port gets none', () => {
    const p = staticParams(
      '    networks:\n      - { portGroup: VM Network, network: lab-net, keepMac: false, fixedIps: [192.0.2.61] }\n      - { portGroup: DB Network, network: lab-db-net, fixedIps: none }\n',
    );
    const [prod, backup] = configOf(p).network!.adapters;
    expect(prod!.match).toEqual({ order: 0 });
    // Position 0 replaced, keeping its prefix; the second captured address has no list entry: gone.
    expect(prod!.ipv4).toEqual([{ address: '192.0.2.61', prefixLength: 24 }]);
    expect(prod!.gateways).toEqual([{ nextHop: '192.0.2.1', metric: 256 }]);
    expect(backup).toMatchObject({ dhcp: true, ipv4: [], gateways: [], routes: [], name: 'Backup' });
  });

  it('replays allowed address pairs too (the guest keeps them), and the network MTU when lower', () => {
    const p = staticParams();
    p.plan.ports[0]!.allowedAddressPairs = [{ ipAddress: '172.16.5.9' }];
    p.plan.ports[0]!.mtu = 1450;
    p.plan.guest!.adapters[0]!.ipv4.push({ address: '172.16.5.9', prefixLength: 16 });
    const prod = configOf(p).network!.adapters[0]!;
    expect(prod.ipv4.at(-1)).toEqual({ address: '172.16.5.9', prefixLength: 16 });
    expect(prod.mtu).toBe(1450);
  });

  it('without guest facts: nothing to replay but the data disks online; removeVmwareTools and guestAgent from the settings', () => {
    const c = configOf(params('    removeVmwareTools: true\n    guestAgent: false\n'));
    expect(c.network).toBeUndefined();
    expect(c.sourceUuid).toBeUndefined();
    expect(c.disks).toEqual({ sanPolicy: 'OnlineAll', online: true, letters: [] });
    expect(c.guestAgent).toBeUndefined();
    expect(c.removeVmwareTools).toBe(true);
  });
});

describe('firstboot.ps1 replay', () => {
  const ps = firstbootScript();
  const lines = ps.split('\r\n');

  it("stays ASCII, CRLF, without a line that would end guest-script's here-string", () => {
    expect(ps).toMatch(/^[\x20-\x7e\r\n]*$/);
    expect(lines.some((l) => l.startsWith("'@"))).toBe(false);
    expect(ps.split('\r\n').every((l) => !l.includes('\n'))).toBe(true);
  });

  it('does nothing on the source: VMware manufacturer or the captured SMBIOS UUID, before counting a boot', () => {
    const at = (s: string) => ps.indexOf(s);
    expect(
      at(
        'if ($config -and $config.sourceUuid -and $uuid -eq ([string]$config.sourceUuid).ToLowerInvariant()) { exit 0 }',
      ),
    ).toBeGreaterThan(0);
    expect(at("if ($cs.Manufacturer -eq 'VMware, Inc.') { exit 0 }")).toBeLessThan(at('$attempts++'));
    expect(at('$config.sourceUuid -and $uuid')).toBeLessThan(at('$attempts++'));
  });

  it('removes ghosts with pnputil /remove-device or SetupAPI DIF_REMOVE, as firstboot.json says', () => {
    expect(ps).toContain("if ([string]$spec.mechanism -eq 'pnputil') {");
    expect(ps).toContain('/remove-device "$($g.InstanceId)"');
    expect(ps).toContain('Get-PnpDevice -Class Net');
    expect(ps).toContain('SetupDiGetClassDevsW(ref net, IntPtr.Zero, IntPtr.Zero, 0)'); // no DIGCF_PRESENT
    expect(ps).toContain('SetupDiCallClassInstaller(5, set, ref d)'); // DIF_REMOVE
    expect(ps).toContain('Add-Type -TypeDefinition $ghostType');
    // The C# is built from single-quoted PowerShell strings: none of them may hold a quote.
    const csharp = lines.filter((l) => /^\s*(\$ghostType = )?'.*' \+$|^\s*'\} \}'$/.test(l));
    expect(csharp.length).toBeGreaterThan(20);
  });

  it('carries out the actions in the contract order, each with the cmdlets real Windows has', () => {
    const order = [
      'Invoke-V2oGhosts $net.removeGhosts',
      'Rename-NetAdapter -Name $a.Name -NewName',
      'Set-V2oStatic $m[0] $m[1]',
      'Set-V2oCategory $m[0] $m[1]',
      'if ($config.disks) { Invoke-V2oDisks $config.disks }',
      'Invoke-V2oGuestAgent $config.guestAgent',
      'Invoke-V2oRemoveTools',
    ].map((s) => ps.lastIndexOf(s));
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    for (const s of [
      'New-NetIPAddress -InterfaceIndex $idx -IPAddress $w.address -PrefixLength',
      "foreach ($store in 'PersistentStore', 'ActiveStore')",
      'New-NetRoute -InterfaceIndex $idx -DestinationPrefix $rt.prefix -NextHop $rt.nextHop',
      'Set-DnsClientServerAddress -InterfaceIndex $idx -ServerAddresses',
      'Set-DnsClient -InterfaceIndex $idx -ConnectionSpecificSuffix $suffix -RegisterThisConnectionsAddress',
      '-NlMtuBytes ([int]$r.mtu)',
      "if (@('Private', 'Public') -notcontains [string]$r.category) { return }",
      'Set-NetConnectionProfile -InterfaceIndex $idx -NetworkCategory',
      'Set-StorageSetting -NewDiskPolicy',
      'Services\\partmgr\\Parameters',
      'Set-Disk -Number $d.Number -IsOffline $false',
      'Set-Disk -Number $d.Number -IsReadOnly $false',
      'Set-Partition -InputObject $part -NewDriveLetter $letter',
      "@('/i', ('\"' + $msi + '\"'), '/qn', '/norestart'",
      "Where-Object { $_.DisplayName -eq 'VMware Tools' }",
      "@('/x', $code, '/qn', '/norestart'",
    ])
      expect(ps).toContain(s);
  });

  it('reports the read-back result in the marker, and stays for another boot while something failed (3 at most)', () => {
    expect(ps).toContain('$result = Get-V2oResult $attempts');
    expect(ps).toContain('if ($result) { $marker.result = $result }');
    expect(ps).toContain('ConvertTo-Json -Compress -Depth 8');
    expect(ps).toContain('if ($failed.Count -gt 0 -and $attempts -lt 3) {');
    expect(ps).toContain('if ($attempts -ge 3) { Remove-Task }');
    // The replay runs for version 2 only: a version-1 file has nothing to replay.
    expect(ps).toContain('if ([int]$config.version -ge 2) {');
  });
});

describe('the marker result', () => {
  it('is parsed with single elements PowerShell unwrapped, MACs and letters in v2o form', () => {
    const line = `v2o-firstboot: ${JSON.stringify({
      runId: RUN,
      uuid: 'SRV-1',
      hostname: 'H',
      osBuild: '20348',
      bus: 'virtio',
      time: 't',
      result: {
        boot: 2,
        adapters: {
          name: 'Prod LAN',
          mac: '00-50-56-A1-30-01',
          dhcp: false,
          ipv4: { address: '192.0.2.41', prefixLength: 24 },
          ipv6: [],
          gateways: [],
          routes: [],
          dnsServers: '192.0.2.53',
        },
        ghostsRemoved: 'PCI\\X',
        sanPolicy: 'OnlineAll',
        disks: [{ number: 1, online: true, letters: 'E:' }],
        failed: { action: 'rename', target: 'Backup', message: 'Object Exists' },
      },
    })}`;
    const m = findMarker(`noise\r\n${line}\r\n`, RUN, 'srv-1')!;
    expect(m.result).toEqual({
      boot: 2,
      adapters: [
        {
          name: 'Prod LAN',
          mac: '00:50:56:a1:30:01',
          dhcp: false,
          ipv4: [{ address: '192.0.2.41', prefixLength: 24 }],
          ipv6: [],
          gateways: [],
          routes: [],
          dnsServers: ['192.0.2.53'],
        },
      ],
      ghostsRemoved: ['PCI\\X'],
      sanPolicy: 'OnlineAll',
      disks: [{ number: 1, online: true, letters: ['E'] }],
      failed: [{ action: 'rename', target: 'Backup', message: 'Object Exists' }],
    });
    // A version-1 line has none; a later boot's line wins over an earlier one.
    const v1 =
      'v2o-firstboot: {"runId":"r-test0001","uuid":"srv-1","hostname":"H","osBuild":"1","bus":"virtio","time":"t"}';
    expect(parseMarkers(v1)[0]!.result).toBeUndefined();
    expect(findMarker(`${line}\r\n${v1}\r\n`, RUN, 'srv-1')!.result).toBeUndefined();
  });
});

describe('compareReplay', () => {
  const p = staticParams();
  const c = configOf(p);

  it('finds nothing when Windows reports what was planned; DomainAuthenticated not reached is only a note', () => {
    const r = perfectResult(c);
    expect(compareReplay(c, r, p.plan.guest)).toEqual({ mismatches: [], notes: [] });
    r.adapters[0]!.category = 'Public';
    const cmp = compareReplay(c, r, p.plan.guest);
    expect(cmp.mismatches).toEqual([]);
    expect(cmp.notes[0]).toMatch(/"Prod LAN" is Public, not DomainAuthenticated yet/);
  });

  it('names the adapter and the value for each difference', () => {
    const r = perfectResult(c);
    r.adapters[0]!.ipv4 = [{ address: '192.0.2.41', prefixLength: 24 }];
    r.adapters[0]!.dnsServers = ['192.0.2.54', '192.0.2.53'];
    r.adapters[0]!.routes = [];
    r.adapters[1]!.name = 'Ethernet 2';
    r.ghostsRemoved = [];
    r.disks[1]!.online = false;
    r.disks[1]!.letters = [];
    r.guestAgent = 'failed';
    const lines = describeReplayProblems(compareReplay(c, r, p.plan.guest), [
      { action: 'rename', target: 'Backup', message: 'Rename-NetAdapter : {Object Exists}' },
    ]);
    expect(lines).toEqual([
      'rename Backup failed: Rename-NetAdapter : {Object Exists}',
      'Prod LAN: IPv4 addresses is 192.0.2.41/24, expected 192.0.2.41/24, 192.0.2.42/24',
      'Prod LAN: persistent routes is none, expected 203.0.113.0/24 via 192.0.2.254',
      'Prod LAN: DNS servers is 192.0.2.54, 192.0.2.53, expected 192.0.2.53, 192.0.2.54',
      'Backup: adapter is adapters "Prod LAN", "Ethernet 2", expected an adapter named "Backup"',
      'ghost "Ethernet1": removed (pnputil) is removed: none, expected PCI\\VEN_15AD&DEV_07B0&SUBSYS_07B015AD&REV_01\\FF565000A1309900',
      'disk 1: online is offline, expected online',
      'disk E:: drive letter is letters C:, expected E: on \\\\?\\Volume{22222222-0000-0000-0000-000000000002}\\',
      'guest agent: installed is failed, expected installed from C:\\ProgramData\\v2o\\qemu-ga-x86_64.msi',
    ]);
  });

  it('checks the MAC when kept, DHCP, Private/Public, SAN policy and VMware Tools when asked', () => {
    const cfg: FirstbootConfigV2 = structuredClone(c);
    cfg.network!.adapters[1]!.category = 'Private';
    cfg.removeVmwareTools = true;
    const r = perfectResult(cfg);
    r.adapters[0]!.mac = '00:50:56:a1:30:99';
    r.adapters[1]!.dhcp = true;
    r.adapters[1]!.category = 'Public';
    r.sanPolicy = 'OfflineShared';
    r.vmwareTools = 'failed';
    const what = compareReplay(cfg, r, p.plan.guest).mismatches.map((m) => `${m.target}/${m.what}`);
    expect(what).toEqual([
      'Prod LAN/MAC',
      'Backup/DHCP',
      'Backup/network category',
      'disks/SAN policy',
      'VMware Tools/uninstalled',
    ]);
  });
});

function launched(serverId: string): LaunchOutput {
  return {
    serverId,
    name: 'win2022-static01',
    status: 'ACTIVE',
    ports: [{ id: 'port-a', name: 'nic0', macAddress: 'm', networkId: 'n', ips: [] }],
    bootFrom: { image: 'img0' },
    dataVolumes: [],
  };
}

function atVerifyBoot(p: MigrationParams, lastCheckpoint?: unknown) {
  const target = new FakeTarget();
  target.images.push({
    id: 'img0',
    name: 'i',
    status: 'active',
    tags: [...TAGS],
    properties: { hw_disk_bus: 'virtio' },
  });
  target.servers.push({ id: 'srv-0', name: 'win2022-static01', status: 'ACTIVE', tags: [...TAGS] });
  const outputs = {
    'upload-images': { images: [{ index: 0, id: 'img0', name: 'x', bytes: 1, reused: false }] },
    'create-volumes': { volumes: [] },
    launch: launched('srv-0'),
  };
  return { target, c: ctx('verify-boot', { target }, p, outputs, lastCheckpoint) };
}

const markerWith = (serverId: string, result: FirstbootResult) =>
  `v2o-firstboot: ${JSON.stringify({ runId: RUN, uuid: serverId, hostname: 'WIN2022-STATIC01', osBuild: '20348', bus: 'virtio', time: 't', result })}\r\n`;

describe('verify-boot with the replay result', () => {
  it('passes when the result matches the plan, and says so in its output', async () => {
    const p = staticParams('    bootTimeoutSeconds: 60\n');
    const { target, c } = atVerifyBoot(p);
    target.consoles.set('srv-0', markerWith('srv-0', perfectResult(configOf(p))));
    const out = await verifyBoot.run(c);
    expect(out.outcome).toBe('booted');
    expect(out.replay).toEqual({ checked: true, boot: 1, notes: [] });
    expect(c.events).toContain('boot.replayed');
  });

  it('a mismatch fails the run naming adapter, value and firstboot.log, keeps the server and does not fall back', async () => {
    const p = staticParams('    bootTimeoutSeconds: 60\n');
    const { target, c } = atVerifyBoot(p);
    const r = perfectResult(configOf(p), 3);
    r.adapters[1]!.ipv4 = [];
    target.consoles.set('srv-0', markerWith('srv-0', r));
    const err = await verifyBoot.run(c).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FirstbootReplayError);
    expect(err).not.toBeInstanceOf(BootVerificationError);
    expect((err as Error).message).toMatch(/Backup: IPv4 addresses is none, expected 198.51.100.41\/24/);
    expect((err as Error).message).toMatch(/The server is kept/);
    expect((err as FirstbootReplayError).hint).toMatch(/C:\\ProgramData\\v2o\\firstboot.log/);
    expect((err as FirstbootReplayError).hint).toMatch(/reports no more/);
    expect(target.calls).toEqual([]); // no server deleted, no SATA fallback
    expect(target.servers.map((s) => s.id)).toEqual(['srv-0']);
    expect(verifyBoot.retry?.nonRetryable).toContain('FirstbootReplayError');
  });

  it('failed actions on boot 1 say the task retries at the next reboot; resume reads the newer report, never a new server', async () => {
    const p = staticParams('    bootTimeoutSeconds: 60\n');
    const { target, c } = atVerifyBoot(p);
    const first = perfectResult(configOf(p), 1);
    first.guestAgent = 'failed';
    first.failed = [
      {
        action: 'guestAgent',
        target: 'C:\\ProgramData\\v2o\\qemu-ga-x86_64.msi',
        message: 'msiexec /i exited 1603',
      },
    ];
    target.consoles.set('srv-0', markerWith('srv-0', first));
    const err = (await verifyBoot.run(c).catch((e: unknown) => e)) as FirstbootReplayError;
    expect(err.message).toMatch(
      /guestAgent C:\\ProgramData\\v2o\\qemu-ga-x86_64.msi failed: msiexec \/i exited 1603/,
    );
    expect(err.hint).toMatch(/tries again at the next reboot of the server \(this was boot 1 of 3\)/);
    // The operator reboots; boot 2 succeeds; `v2o resume` re-runs the step from its checkpoint.
    const cp = c.checkpoints.at(-1);
    target.consoles.set(
      'srv-0',
      `${markerWith('srv-0', first)}${markerWith('srv-0', perfectResult(configOf(p), 2))}`,
    );
    const again = atVerifyBoot(p, cp);
    again.target.consoles = target.consoles;
    const out = await verifyBoot.run(again.c);
    expect(out.replay).toMatchObject({ checked: true, boot: 2 });
    expect(again.target.calls).toEqual([]);
  });
});
