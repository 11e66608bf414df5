import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRunLogger } from '../../../src/engine/logger.js';
import { REDACTED, scrubSecrets } from '../../../src/redaction.js';
import { tmpDir } from './helpers.js';

describe('run logger', () => {
  it('writes JSON lines with secrets redacted', () => {
    const file = path.join(tmpDir(), 'runs', 'r-test.log');
    const l = createRunLogger(file, 'r-test');
    l.log.info(
      {
        password: 'pw-top',
        vcenter: { password: 'pw-nested', token: 'tok-nested' },
        headers: {
          'x-auth-token': 'tok-header',
          authorization: 'Bearer tok-bearer',
          cookie: 'vmware_soap_session=c1',
        },
        req: { headers: { 'X-Auth-Token': 'tok-req', Cookie: 'c2' } },
        keep: 'visible',
      },
      'hello',
    );
    l.close();
    const text = fs.readFileSync(file, 'utf8');
    for (const secret of [
      'pw-top',
      'pw-nested',
      'tok-nested',
      'tok-header',
      'tok-bearer',
      'c1',
      'tok-req',
      'c2',
    ]) {
      expect(text).not.toContain(secret);
    }
    const line = JSON.parse(text.trim());
    expect(line).toMatchObject({ runId: 'r-test', msg: 'hello', keep: 'visible', password: REDACTED });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('scrubSecrets replaces secret-looking keys at any depth', () => {
    expect(scrubSecrets({ a: { apiKey: 'k', list: [{ password: 'p' }] }, ok: 1 })).toEqual({
      a: { apiKey: REDACTED, list: [{ password: REDACTED }] },
      ok: 1,
    });
  });
});
