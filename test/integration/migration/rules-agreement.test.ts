// `v2o inventory` and `v2o plan` judge a VM by the same rule registry: for every VM of the vSphere
// lab, the source-side codes and severities inventory reports (default settings) are exactly those
// of a plan that sets nothing the rules read, and no target-side code shows up in inventory. A plan
// inspects the running guest, so a VM with Tools running is compared with `inventory --guest`
// (what the guest says replaces a guess, e.g. bitlocker-risk).
import { describe, expect, it } from 'vitest';
import { RULES } from '../../../src/migration/rules/index.js';
import { seedInventory } from '../vsphere/lab.js';
import { resetVm, tmpDir, v2o, writePlan } from './helpers.js';

interface Issues {
  blockers: { code: string }[];
  warnings: { code: string }[];
}

const SOURCE_CODES = new Set(RULES.filter((r) => r.side === 'source').flatMap((r) => r.codes));
const GUEST_CODES = new Set(RULES.filter((r) => r.side === 'guest').flatMap((r) => r.codes));

/** `blocker:snapshots`, … sorted: what the test compares. */
const judged = (r: Issues, keep: (code: string) => boolean = () => true) =>
  [...r.blockers.map((b) => `blocker:${b.code}`), ...r.warnings.map((w) => `warning:${w.code}`)]
    .filter((c) => keep(c.slice(c.indexOf(':') + 1)))
    .sort();

describe('rule agreement between inventory and plan', () => {
  it('every lab VM: the same source-side findings; target-side ones only in plan', async () => {
    const names = seedInventory().vms.map((v) => v.name);
    // As seeded (power, Tools, snapshots): earlier files may have migrated or powered off some.
    for (const n of names) await resetVm(n);
    const state = tmpDir('agree');
    const inv = await v2o(state, ['inventory', '--json']);
    expect(inv.code, inv.stderr).toBe(0);
    const listed = JSON.parse(inv.stdout) as { name: string; readiness: Issues }[];
    // A plan with every lab VM and nothing the rules read: driver mode, export method, image format,
    // hashes and NIC model stay at their defaults. Names are quoted (spaces, `&`, non-ASCII).
    const plan = writePlan(state, Object.fromEntries(names.map((n) => [JSON.stringify(n), ''])));
    const p = await v2o(state, ['plan', plan, '--json']);
    expect([0, 2], p.stderr).toContain(p.code);
    const planned = JSON.parse(p.stdout) as { vms: { vm: string; plan: Issues }[] };

    const tools = new Set(
      seedInventory()
        .vms.filter((v) => v.tools === 'running')
        .map((v) => v.name),
    );
    for (const name of names) {
      let i = listed.find((v) => v.name === name);
      if (tools.has(name)) {
        const g = await v2o(state, ['inventory', '--vm', name, '--guest', '--json']);
        expect(g.code, g.stderr).toBe(0);
        i = JSON.parse(g.stdout) as { name: string; readiness: Issues };
      }
      const v = planned.vms.find((x) => x.vm === name);
      expect(i, `${name} in inventory`).toBeDefined();
      expect(v, `${name} in plan`).toBeDefined();
      // The guest's own findings are compared in guest-identity.test.ts; here: no target-side code.
      const fromInventory = judged(i!.readiness, (code) => !GUEST_CODES.has(code));
      expect(
        fromInventory.filter((c) => !SOURCE_CODES.has(c.slice(c.indexOf(':') + 1))),
        name,
      ).toEqual([]);
      expect(
        judged(v!.plan, (code) => SOURCE_CODES.has(code)),
        name,
      ).toEqual(fromInventory);
    }
    // The lab's snapshot VM and its VM without running Tools, the two the issue names.
    const codesOf = (n: string) => judged(listed.find((v) => v.name === n)!.readiness);
    expect(codesOf('win2016-snap01')).toContain('warning:snapshots');
    expect(codesOf('win2019-notools01')).toContain('blocker:tools-not-running');
  });
});
