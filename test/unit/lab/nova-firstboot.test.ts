// The lab Nova's first-boot replay (test/lab/openstack/py/v2o_lab_firstboot.py) has Python unit
// tests that need no Nova; this runs them with the unit tests so CI does.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const PY = resolve(import.meta.dirname, '../../lab/openstack/py');

describe('the lab Nova replays the first-boot task', () => {
  it('python3 -m unittest test_v2o_lab_firstboot passes', () => {
    const r = spawnSync('python3', ['-m', 'unittest', '-v', 'test_v2o_lab_firstboot'], {
      cwd: PY,
      encoding: 'utf8',
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
    });
    expect(r.error, 'python3 not found').toBeUndefined();
    expect(r.status, `${r.stderr}${r.stdout}`).toBe(0);
    expect(r.stderr).toMatch(/^OK$/m);
  });
});
