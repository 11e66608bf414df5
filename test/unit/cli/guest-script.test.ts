import { describe, expect, it } from 'vitest';
import { cli, tmpState } from './helpers.js';

describe('v2o guest-script', () => {
  it('is listed, and its --help says what the script does with an example', async () => {
    const state = tmpState();
    expect((await cli(state, '--help')).stdout).toMatch(/guest-script .*<plan-file>/);
    const help = await cli(state, 'guest-script', '--help');
    expect(help.stdout).toContain(
      'v2o guest-script plan.yaml --vm win2019-app01 --run r-1a2b3c4d --out v2o-drivers.ps1',
    );
    expect(help.stdout).toContain('powershell.exe -NoProfile -ExecutionPolicy Bypass -File');
  });

  it('needs --vm', async () => {
    const r = await cli(tmpState(), 'guest-script', 'plan.yaml');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--vm <name>/);
  });
});
