// The params a run stores are checked when it is resumed: what `v2o migrate` stores passes as it
// is, and params of another shape (an older v2o's) are refused naming the field.
import { describe, expect, it } from 'vitest';
import { parseMigrationParams } from '../../../src/migration/params-schema.js';
import { planSettings } from '../../../src/migration/plan-settings.js';
import { params } from './fakes.js';
import { config } from './fixtures.js';

/** As the journal gives it back: JSON, so undefined fields are gone. */
const stored = (p: unknown) => JSON.parse(JSON.stringify(p));

describe('MigrationParams schema', () => {
  it('accepts what migrate stores, unchanged, for the default and a converting datastore plan', () => {
    for (const p of [
      params(),
      params(
        '    exportMethod: datastore\n    imageFormat: qcow2\n    stagingDir: /srv/v2o\n    diskBus: sata\n',
      ),
    ]) {
      expect(parseMigrationParams(stored(p))).toEqual(stored(p));
    }
  });

  it('refuses the params of workflow v1 (config beside the plan, no settings), naming the fields', () => {
    const { inputs, ...rest } = stored(params());
    const { settings: _, ...plan } = rest.plan;
    const v1 = { ...rest, plan, config: inputs };
    expect(() => parseMigrationParams(v1)).toThrow(
      /plan\.settings: missing \(object\).*inputs: missing \(object\)/,
    );
  });

  it('names a mistyped field by its path', () => {
    const p = stored(params());
    p.plan.settings.uploadHashes = 'md5';
    p.plan.disks[1].image.diskFormat = 'vhd';
    expect(() => parseMigrationParams(p)).toThrow(
      /plan\.disks\.1\.image\.diskFormat: .*; plan\.settings\.uploadHashes: /,
    );
  });

  it('keeps fields a later planner adds instead of stripping them', () => {
    const p = stored(params());
    p.plan.disks[0].changeId = '52 1a/7';
    expect(parseMigrationParams(p).plan.disks[0]).toHaveProperty('changeId', '52 1a/7');
  });
});

describe('planSettings', () => {
  it('takes the plan file’s values (defaults applied) and shares no arrays or objects with them', () => {
    const cfg = config('    uploadHashes: [md5, sha512]\n    transferStallSeconds: 30\n');
    const s = planSettings(cfg);
    expect(s).toEqual({
      exportMethod: 'lease',
      uploadHashes: ['md5', 'sha512'],
      transferStallSeconds: 30,
      guestCredentials: { usernameEnv: 'V2O_GUEST_USERNAME', passwordEnv: 'V2O_GUEST_PASSWORD' },
      bootCheck: 'marker',
      bootFallback: 'sata',
      bootTimeoutSeconds: 900,
      guestAgent: true,
      removeVmwareTools: false,
      bitlocker: 'block',
      domainController: 'block',
      clock: 'localtime',
      migration: 'cold',
      warm: { passIntervalMinutes: 60, maxPasses: 24 },
    });
    cfg.uploadHashes.push('sha256');
    cfg.guestCredentials.usernameEnv = 'OTHER';
    expect(s.uploadHashes).toEqual(['md5', 'sha512']);
    expect(s.guestCredentials.usernameEnv).toBe('V2O_GUEST_USERNAME');
  });
});
