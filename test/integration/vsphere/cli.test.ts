// `v2o inventory` end to end through the real CLI entry (node --import tsx src/cli/main.ts):
// output against the lab, and bad input as one clear error with exit code 2 and no stack trace.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { env } from './lab.js';

const run = promisify(execFile);

async function v2o(args: string[], extraEnv: Record<string, string | undefined> = {}) {
  const e: NodeJS.ProcessEnv = { ...env, ...extraEnv };
  for (const [k, v] of Object.entries(extraEnv)) if (v === undefined) delete e[k];
  try {
    const r = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'inventory', ...args], {
      env: e,
      timeout: 60_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const x = err as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

function expectOneClearError(r: { code: number; stderr: string }, pattern: RegExp) {
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/^error: /);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).toMatch(/\n {2}fix: /);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace without --debug
}

describe('v2o inventory', () => {
  it('lists the lab VMs with readiness as a table and as JSON', async () => {
    const t = await v2o([]);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/^NAME\s+POWER\s+GUEST/);
    expect(t.stdout).toContain('win2019-app01');
    expect(t.stdout).toContain('Finanz Server 01 – Müller & Söhne');
    const j = await v2o(['--json']);
    const vms = JSON.parse(j.stdout) as Array<{
      name: string;
      readiness: { status: string; warnings: { code: string }[] };
    }>;
    expect(vms.find((v) => v.name === 'win2016-snap01')!.readiness.warnings.map((w) => w.code)).toContain(
      'snapshots',
    );
    expect(vms.find((v) => v.name === 'win2019-notools01')!.readiness.status).not.toBe('ready');
  });

  it('shows one VM in detail, by a name with spaces and non-ASCII characters', async () => {
    const r = await v2o(['--vm', 'Finanz Server 01 – Müller & Söhne']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Finanz Server 01 – Müller & Söhne \(vm-\d+\)/);
    expect(r.stdout).toContain('lsilogic-sas0:0');
  });

  it('wrong password: exit 2, one clear line, no password echoed', async () => {
    const r = await v2o([], { GOVC_PASSWORD: 'definitely-wrong-pw' });
    expectOneClearError(r, /login failed .* wrong user name or password/);
    expect(r.stderr).not.toContain('definitely-wrong-pw');
  });

  it('unknown VM: exit 2', async () => {
    expectOneClearError(await v2o(['--vm', 'no such vm']), /no virtual machine named "no such vm"/);
  });

  it('unreachable host: exit 2', async () => {
    expectOneClearError(
      await v2o(['--url', 'https://127.0.0.1:9/sdk']),
      /connection to 127\.0\.0\.1:9 refused/,
    );
  });

  it('untrusted certificate and thumbprint mismatch: exit 2 naming the observed SHA-256 thumbprint', async () => {
    const untrusted = await v2o([], { GOVC_TLS_CA_CERTS: undefined });
    expectOneClearError(untrusted, /not trusted/);
    const observed = /GOVC_THUMBPRINT=([0-9A-F:]{95})/.exec(untrusted.stderr)?.[1];
    expect(observed).toBeDefined();
    if (env.V2O_LAB_VSPHERE_CERT_SHA256) expect(observed).toBe(env.V2O_LAB_VSPHERE_CERT_SHA256);
    expectOneClearError(
      await v2o(['--thumbprint', 'AB'.repeat(32)], { GOVC_TLS_CA_CERTS: undefined }),
      /does not match the pinned thumbprint/,
    );
    const pinned = await v2o(['--thumbprint', observed!, '--json'], { GOVC_TLS_CA_CERTS: undefined });
    expect(pinned.code).toBe(0);
  });

  it('keeps the password and session cookie out of --debug logs', async () => {
    const r = await run(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', '--debug', 'inventory', '--vm', 'win2019-app01'],
      { env },
    );
    expect(r.stderr).toMatch(/vsphere soap/); // the debug log is on
    expect(r.stderr).toContain('RetrievePropertiesEx');
    expect(r.stderr).not.toContain(env.GOVC_PASSWORD!);
    expect(r.stderr).not.toMatch(/vmware_soap_session/);
  });

  it('prints a stack trace only with --debug', async () => {
    const r = await run(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', '--debug', 'inventory', '--vm', 'no such vm'],
      { env },
    ).catch((e: { code: number; stderr: string }) => e);
    expect((r as { code: number }).code).toBe(2);
    expect((r as { stderr: string }).stderr).toMatch(/\n\s+at /);
  });
});
