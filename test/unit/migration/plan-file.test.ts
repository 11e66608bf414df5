import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeExamplePlan } from '../../../src/cli/commands/init.js';
import type { VmPlan } from '../../../src/migration/build-plan.js';
import { EXAMPLE_PLAN } from '../../../src/migration/example-plan.js';
import { loadPlanFile, PlanFileError, parsePlanText } from '../../../src/migration/plan-file.js';
import { toParams } from '../../../src/migration/prepare.js';

const minimal = `version: 1
source: {}
target:
  cloud: v2o-lab
vms:
  - name: win2019-app01
`;

function problemsOf(text: string) {
  try {
    parsePlanText(text, 'p.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(PlanFileError);
    return { err: err as PlanFileError, problems: (err as PlanFileError).problems };
  }
  throw new Error('expected the plan to be rejected');
}

describe('plan file', () => {
  it('applies defaults to a minimal plan', () => {
    const plan = parsePlanText(minimal);
    expect(plan.target.cloud).toBe('v2o-lab');
    expect(plan.concurrency).toEqual({ vms: 1, disksPerVm: 2, disks: 2, perSourceHost: 4, perTarget: 4 });
    expect(plan.vms[0]).toMatchObject({
      name: 'win2019-app01',
      flavor: 'auto',
      diskBus: 'virtio',
      imageFormat: 'vmdk',
      bootFromVolume: 'auto',
      vifModel: 'virtio',
      drivers: { mode: 'auto', balloon: true },
      sourceAfter: 'keep-off',
      guestCredentials: { usernameEnv: 'V2O_GUEST_USERNAME', passwordEnv: 'V2O_GUEST_PASSWORD' },
      networks: [],
      uploadHashes: ['md5'],
      transferStallSeconds: 60,
      bootFallback: 'sata',
      bootCheck: 'marker',
      bootTimeoutSeconds: 900,
    });
  });

  it('takes the boot check settings from defaults or the VM, and names a value it does not know', () => {
    const plan = parsePlanText(`version: 1
source: {}
target: {}
defaults: { bootFallback: none, bootTimeoutSeconds: 120 }
vms: [{ name: a }, { name: b, bootFallback: sata, bootCheck: none, bootTimeoutSeconds: 30 }]
`);
    expect(plan.vms.map((v) => [v.bootFallback, v.bootCheck, v.bootTimeoutSeconds])).toEqual([
      ['none', 'marker', 120],
      ['sata', 'none', 30],
    ]);
    const { problems } = problemsOf(`version: 1
source: {}
target: {}
vms:
  - name: a
    bootFallback: scsi
    bootCheck: ping
`);
    expect(problems).toEqual([
      { line: 6, path: 'vms[0].bootFallback', message: 'must be one of "sata", "none"' },
      { line: 7, path: 'vms[0].bootCheck', message: 'must be one of "marker", "none"' },
    ]);
  });

  it('turns concurrency into the transfer limits every run shares', () => {
    const limitsOf = (c: string) => {
      const plan = parsePlanText(`version: 1\nsource: {}\ntarget: {}\n${c}vms: [{ name: a }]\n`);
      return toParams(plan, plan.vms[0]!, {} as VmPlan).options;
    };
    expect(limitsOf('concurrency: { vms: 3, disksPerVm: 2, perSourceHost: 2 }\n')).toMatchObject({
      disksInParallel: 2,
      transferLimits: { overall: 6, perSource: 2, perTarget: 4 },
    });
    expect(limitsOf('concurrency: { vms: 3, disks: 4 }\n').transferLimits!.overall).toBe(4);
  });

  it('takes uploadHashes per VM, and names a hash listed twice or unknown', () => {
    const plan = parsePlanText(`version: 1
source: {}
target: {}
defaults: { uploadHashes: [md5, sha512] }
vms: [{ name: a }, { name: b, uploadHashes: [] }]
`);
    expect(plan.vms.map((v) => v.uploadHashes)).toEqual([['md5', 'sha512'], []]);
    const { problems } = problemsOf(`version: 1
source: {}
target: {}
vms:
  - name: a
    uploadHashes: [md5, md5]
  - name: b
    uploadHashes: [sha1]
`);
    expect(problems).toEqual([
      { line: 6, path: 'vms[0].uploadHashes', message: 'lists a hash twice' },
      { line: 8, path: 'vms[1].uploadHashes[0]', message: 'must be one of "md5", "sha256", "sha512"' },
    ]);
  });

  it('takes bootFallback (sata by default) from defaults or the VM, and names a wrong value', () => {
    const plan = parsePlanText(`version: 1
source: {}
target: {}
defaults: { bootFallback: none }
vms: [{ name: a }, { name: b, bootFallback: sata }]
`);
    expect(plan.vms.map((v) => v.bootFallback)).toEqual(['none', 'sata']);
    expect(
      parsePlanText('version: 1\nsource: {}\ntarget: {}\nvms: [{ name: a }]\n').vms[0]!.bootFallback,
    ).toBe('sata');
    const { problems } = problemsOf(
      'version: 1\nsource: {}\ntarget: {}\nvms:\n  - name: a\n    bootFallback: ide\n',
    );
    expect(problems).toEqual([
      { line: 6, path: 'vms[0].bootFallback', message: 'must be one of "sata", "none"' },
    ]);
  });

  it('takes transferStallSeconds from defaults or the VM, and names a value out of range', () => {
    const plan = parsePlanText(`version: 1
source: {}
target: {}
defaults: { transferStallSeconds: 120 }
vms: [{ name: a }, { name: b, transferStallSeconds: 15 }]
`);
    expect(plan.vms.map((v) => v.transferStallSeconds)).toEqual([120, 15]);
    const { problems } = problemsOf(`version: 1
source: {}
target: {}
vms:
  - name: a
    transferStallSeconds: 1
`);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ line: 6, path: 'vms[0].transferStallSeconds' });
    expect(problems[0]!.message).toMatch(/>=\s*5/);
  });

  it('lets a VM override the defaults field by field', () => {
    const plan = parsePlanText(`version: 1
source: {}
target: {}
defaults:
  diskBus: scsi
  drivers: { mode: manual, balloon: false, virtioWin: { path: /isos/virtio-win.iso } }
  networks: [{ portGroup: VM Network, network: lab-net }]
vms:
  - name: a
  - name: b
    diskBus: sata
    drivers: { mode: auto }
    networks: [{ portGroup: VM Network, network: lab-db-net, keepMac: false, fixedIp: 10.0.0.5 }]
`);
    expect(plan.vms[0]!.diskBus).toBe('scsi');
    expect(plan.vms[0]!.drivers).toEqual({
      mode: 'manual',
      balloon: false,
      virtioWin: { path: '/isos/virtio-win.iso' },
    });
    expect(plan.vms[0]!.networks).toEqual([
      {
        portGroup: 'VM Network',
        network: 'lab-net',
        keepMac: true,
        fixedIps: 'keep',
        outsideAddresses: 'warn',
      },
    ]);
    // The older one-address form becomes a one-element list.
    expect(plan.vms[1]!.networks[0]!.fixedIps).toEqual(['10.0.0.5']);
    expect(plan.vms[1]!.diskBus).toBe('sata');
    // drivers merge per field: mode from the VM, the ISO from defaults.
    expect(plan.vms[1]!.drivers).toEqual({
      mode: 'auto',
      balloon: false,
      virtioWin: { path: '/isos/virtio-win.iso' },
    });
    expect(plan.vms[1]!.networks[0]).toEqual({
      portGroup: 'VM Network',
      network: 'lab-db-net',
      keepMac: false,
      fixedIps: ['10.0.0.5'],
      outsideAddresses: 'warn',
    });
  });

  it('takes fixedIps keep | none | a list and outsideAddresses, and refuses fixedIp with fixedIps', () => {
    const plan = parsePlanText(`version: 1
source: {}
target: {}
vms:
  - name: a
    networks:
      - { portGroup: A, network: n1, fixedIps: none }
      - { portGroup: B, network: n2, fixedIps: [192.0.2.41, "2001:db8::41"], outsideAddresses: allowed-address-pairs }
`);
    expect(plan.vms[0]!.networks.map((n) => [n.fixedIps, n.outsideAddresses])).toEqual([
      ['none', 'warn'],
      [['192.0.2.41', '2001:db8::41'], 'allowed-address-pairs'],
    ]);
    const { problems } = problemsOf(`version: 1
source: {}
target: {}
vms:
  - name: a
    networks: [{ portGroup: A, network: n1, fixedIp: 192.0.2.41, fixedIps: [192.0.2.42] }]
`);
    expect(problems[0]!.message).toMatch(/not both/);
    expect(
      problemsOf(`version: 1
source: {}
target: {}
vms:
  - name: a
    networks: [{ portGroup: A, network: n1, fixedIps: maybe }]
`).problems,
    ).toHaveLength(1);
  });

  it('names the line and the field of a bad enum value', () => {
    const { err, problems } = problemsOf(`version: 1
source: {}
target: {}
vms:
  - name: a
    diskBus: ide
`);
    expect(problems).toEqual([
      { line: 6, path: 'vms[0].diskBus', message: 'must be one of "virtio", "scsi", "sata"' },
    ]);
    expect(err.message).toContain('p.yaml:6: vms[0].diskBus');
    expect(err.exitCode).toBe(2);
  });

  it('names the line of an unknown field (a typo)', () => {
    const { problems } = problemsOf(`version: 1
source: {}
target: {}
defaults:
  flavour: win.small
vms: [{ name: a }]
`);
    expect(problems[0]).toMatchObject({ line: 5, path: 'defaults.flavour' });
    expect(problems[0]!.message).toContain('unknown field `flavour`');
  });

  it('points a missing required field at its parent', () => {
    const { problems } = problemsOf(`version: 1
source: {}
target: {}
vms:
  - diskBus: virtio
`);
    expect(problems[0]).toMatchObject({ line: 5, path: 'vms[0].name' });
    expect(problems[0]!.message).toMatch(/required/);
  });

  it('rejects a password in the source URL', () => {
    const { problems } = problemsOf(`version: 1
source:
  url: https://admin:secret@vc.example.com/sdk
target: {}
vms: [{ name: a }]
`);
    expect(problems[0]).toMatchObject({ line: 3, path: 'source.url' });
    expect(problems[0]!.message).toContain('GOVC_PASSWORD');
  });

  it('requires exactly one of path or url for the ISO, and a real sha256', () => {
    const { problems } = problemsOf(`version: 1
source: {}
target: {}
vms:
  - name: a
    drivers:
      virtioWin:
        sha256: abc
`);
    const paths = problems.map((p) => p.path).sort();
    expect(paths).toEqual(['vms[0].drivers.virtioWin', 'vms[0].drivers.virtioWin.sha256']);
    expect(problems.find((p) => p.path.endsWith('sha256'))!.line).toBe(8);
  });

  it('reports YAML syntax errors with their line', () => {
    const { problems } = problemsOf('version: 1\nsource: {}\ntarget: {\nvms:\n  - name: a\n');
    expect(problems[0]!.line).toBeGreaterThanOrEqual(3);
  });

  it('reports duplicate keys', () => {
    const { problems } = problemsOf('version: 1\nsource: {}\ntarget: {}\ntarget: {}\nvms: [{ name: a }]\n');
    expect(problems[0]!.line).toBe(4);
  });

  it('needs at least one VM and version 1', () => {
    const { problems } = problemsOf('version: 2\nsource: {}\ntarget: {}\nvms: []\n');
    expect(problems.map((p) => [p.line, p.path])).toEqual([
      [1, 'version'],
      [4, 'vms'],
    ]);
  });

  it('gives a clear error for a missing file', () => {
    expect(() => loadPlanFile('/nonexistent/plan.yaml')).toThrow(/cannot read plan file/);
  });
});

describe('v2o init', () => {
  it('writes the example, which is identical to examples/plan.example.yaml and valid', () => {
    const dir = mkdtempSync(join(tmpdir(), 'v2o-init-'));
    const file = join(dir, 'plan.yaml');
    writeExamplePlan(file);
    const written = readFileSync(file, 'utf8');
    expect(written).toBe(
      readFileSync(new URL('../../../examples/plan.example.yaml', import.meta.url), 'utf8'),
    );
    expect(written).toBe(EXAMPLE_PLAN);
    const plan = loadPlanFile(file);
    expect(plan.vms.map((v) => v.name)).toEqual(['win2019-app01']);
    expect(plan.vms[0]!.networks[0]).toMatchObject({
      portGroup: 'VM Network',
      network: 'lab-net',
      keepMac: true,
    });
  });

  it('refuses to overwrite a plan unless forced', () => {
    const dir = mkdtempSync(join(tmpdir(), 'v2o-init-'));
    const file = join(dir, 'plan.yaml');
    writeFileSync(file, 'mine');
    expect(() => writeExamplePlan(file)).toThrow(/already exists/);
    expect(readFileSync(file, 'utf8')).toBe('mine');
    writeExamplePlan(file, true);
    expect(readFileSync(file, 'utf8')).toBe(EXAMPLE_PLAN);
  });
});

describe('the guest settings', () => {
  const text = (vm: string, defaults = '') =>
    `version: 1\nsource: {}\ntarget: {}\n${defaults}vms:\n  - name: a\n${vm}  - name: b\n`;
  it('default to block, block, localtime; defaults and each VM override them', () => {
    const p = parsePlanText(
      text('    bitlocker: suspend\n    clock: utc\n', 'defaults:\n  domainController: allow\n'),
    );
    expect(p.vms.map((v) => [v.bitlocker, v.domainController, v.clock])).toEqual([
      ['suspend', 'allow', 'utc'],
      ['block', 'allow', 'localtime'],
    ]);
    expect(parsePlanText(EXAMPLE_PLAN).vms[0]).toMatchObject({
      bitlocker: 'block',
      domainController: 'block',
      clock: 'localtime',
    });
  });
  it('a wrong value is refused with its line and the values allowed', () => {
    try {
      parsePlanText(text('    bitlocker: decrypt\n'));
      expect.unreachable();
    } catch (e) {
      expect((e as PlanFileError).problems).toEqual([
        { line: 6, path: 'vms[0].bitlocker', message: 'must be one of "block", "suspend"' },
      ]);
    }
  });
});
