// The guest options' bad input: exit 2 with the fix, before anything connects or changes.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteJournal } from '../../../src/engine/journal/sqlite.js';
import { buildPlan } from '../../../src/migration/build-plan.js';
import { parseGuestFacts } from '../../../src/migration/guest/parse.js';
import { toParams } from '../../../src/migration/prepare.js';
import { vmwareWindowsToOpenstack, WORKFLOW_NAME } from '../../../workflows/vmware-windows-to-openstack.js';
import { efi2022, inventory, resolved } from '../migration/fixtures.js';
import { ps, win2022Static01 } from '../migration/guest/capture-fixtures.js';
import { cli, tmpState } from './helpers.js';

const saved = { ...process.env };
beforeEach(() => {
  delete process.env.V2O_GUEST_USERNAME;
  delete process.env.V2O_GUEST_PASSWORD;
});
afterEach(() => {
  process.env = { ...saved };
});

describe('v2o inventory --guest', () => {
  it('needs --vm', async () => {
    const r = await cli(tmpState(), 'inventory', '--guest');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--guest inspects one VM: it needs --vm NAME');
  });

  it('needs the guest credentials from the default variables or the ones named', async () => {
    const r = await cli(tmpState(), 'inventory', '--vm', 'win2022-static01', '--guest');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--guest needs the guest administrator: V2O_GUEST_USERNAME is not set');
    expect(r.stderr).toContain('export V2O_GUEST_USERNAME and V2O_GUEST_PASSWORD');
    process.env.LAB_USER = 'Administrator';
    const n = await cli(
      tmpState(),
      'inventory',
      '--vm',
      'x',
      '--guest',
      '--guest-username-env',
      'LAB_USER',
      '--guest-password-env',
      'LAB_PASS',
    );
    expect(n.code).toBe(2);
    expect(n.stderr).toContain('LAB_PASS is not set');
    const bad = await cli(
      tmpState(),
      'inventory',
      '--vm',
      'x',
      '--guest',
      '--guest-password-env',
      'my-secret',
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--guest-password-env must name an environment variable');
    const alone = await cli(tmpState(), 'inventory', '--guest-username-env', 'LAB_USER');
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('go with --guest');
  });
});

describe('v2o cancel --force', () => {
  it('goes with --rollback', async () => {
    const r = await cli(tmpState(), 'cancel', 'r-00000000', '--force');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--force goes with --rollback');
  });

  it('a domain controller whose target booted is not rolled back without it; the journal is untouched', async () => {
    const files = { ...win2022Static01(), computer: ps({ Name: 'DC01', DomainRole: 5, PartOfDomain: true }) };
    const guest = parseGuestFacts(files, { output: '', capturedAt: '2026-12-02T00:00:00Z' });
    const plan = resolved('    domainController: allow\n');
    const cfg = plan.vms[0]!;
    const params = toParams(plan, cfg, buildPlan({ ...inventory(efi2022()), guest }, cfg));
    const state = tmpState();
    const file = path.join(state, 'journal.db');
    const j = SqliteJournal.open(file);
    const run = await j.createRun({
      workflow: WORKFLOW_NAME,
      workflowVersion: vmwareWindowsToOpenstack.version,
      subject: 'dc01',
      params,
      stepIds: vmwareWindowsToOpenstack.steps.map((s) => s.id),
      at: Date.now(),
    });
    await j.stepAttemptStarted(run.id, 'verify-boot', Date.now(), 1);
    await j.stepSucceeded(run.id, 'verify-boot', Date.now(), {});
    await j.close();
    const before = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
    const r = await cli(state, 'cancel', run.id, '--rollback');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is a domain controller and its target already booted');
    expect(r.stderr).toContain('USN rollback');
    expect(r.stderr).toContain(`v2o cancel ${run.id} --rollback --force`);
    expect(createHash('sha256').update(fs.readFileSync(file)).digest('hex')).toBe(before);
  });
});
