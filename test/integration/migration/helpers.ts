// Test kit for the migration workflow against both labs: the CLI as a child process (so a test
// can kill it with SIGKILL), the vSphere lab's hooks (reset a VM, script its guest), plan files,
// and an OpenStack client for looking at what a run created.
import { type SpawnOptions, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { connectTarget, type OpenStackTarget } from '../../../src/migration/target-openstack.js';
import { vsphereConfigFromEnv } from '../../../src/vsphere/config.js';
import { connect } from '../../../src/vsphere/objects/client.js';
import { findVmByName, getVm } from '../../../src/vsphere/objects/vm.js';
import { labProcessEnv } from '../../helpers/lab-env.js';

export const repoRoot = resolve(import.meta.dirname, '../../..');

/** The lab's variables plus the guest account the plans name. */
export function migrationEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = labProcessEnv();
  return {
    ...env,
    V2O_GUEST_USERNAME: env.V2O_LAB_GUEST_USERNAME,
    V2O_GUEST_PASSWORD: env.V2O_LAB_GUEST_PASSWORD,
    V2O_TEST_CRASH_AT: undefined,
    ...extra,
  };
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `v2o --state-dir <state> ...args` in a child process. */
export function v2o(
  state: string,
  args: string[],
  env: NodeJS.ProcessEnv = migrationEnv(),
  timeoutMs = 170_000,
): Promise<CliRun> {
  const opts: SpawnOptions = { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] };
  return new Promise((res, rej) => {
    // One process (node --import tsx), so a SIGKILL the CLI sends itself is what the test sees.
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), '--state-dir', state, ...args],
      opts,
    );
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c) => {
      stdout += c;
    });
    child.stderr!.on('data', (c) => {
      stderr += c;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', rej);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      res({ code, signal, stdout, stderr });
    });
  });
}

export function runIdOf(text: string): string {
  const m = /run (r-[0-9a-z]{8})/.exec(text);
  if (!m) throw new Error(`no run id in:\n${text}`);
  return m[1]!;
}

export function tmpDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `v2o-mig-${prefix}-`));
}

/**
 * Plan lines for a test about something other than the boot: no first-boot task, no wait for it
 * (boot.test.ts covers them). Without it, a run waits up to bootTimeoutSeconds for the guest's report.
 */
export const NO_BOOT_CHECK = '    bootCheck: none\n';

/** A plan file for `vms` (YAML lines per VM appended under its name). */
export function writePlan(dir: string, vms: Record<string, string>, defaults = ''): string {
  const env = migrationEnv();
  const text = `version: 1
source: {}
target: { cloud: ${env.OS_CLOUD} }
defaults:
  drivers:
    virtioWin: { url: "${env.V2O_LAB_VIRTIO_WIN_URL}", sha256: "${env.V2O_LAB_VIRTIO_WIN_SHA256}" }
  networks:
    - { portGroup: VM Network, network: lab-net, keepMac: true }
    - { portGroup: DB Network, network: lab-db-net, keepMac: true }
${defaults}
vms:
${Object.entries(vms)
  .map(([name, extra]) => `  - name: ${name}\n${extra}`)
  .join('')}`;
  const file = join(dir, 'plan.yaml');
  writeFileSync(file, text);
  return file;
}

// --- the vSphere lab's hooks ---------------------------------------------------------------

let agent: Agent | undefined;
/** A call to the vSphere lab's test hooks (test/lab/vsphere/README.md lists them). */
export function hook(path: string, method: 'GET' | 'POST', body?: unknown): Promise<unknown> {
  const env = migrationEnv();
  agent ??= new Agent({ ca: readFileSync(env.GOVC_TLS_CA_CERTS!) });
  const url = new URL(`${env.V2O_LAB_VSPHERE_EXT_URL}${path}`);
  return new Promise((res, rej) => {
    const req = request(url, { method, agent, headers: { 'content-type': 'application/json' } }, (r) => {
      let text = '';
      r.on('data', (c) => {
        text += c;
      });
      r.on('end', () => {
        if ((r.statusCode ?? 0) >= 300) rej(new Error(`${method} ${path}: ${r.statusCode} ${text}`));
        else res(text ? JSON.parse(text) : undefined);
      });
    });
    req.on('error', rej);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

export interface LabVm {
  name: string;
  moref: string;
  powerState: string;
  toolsRunningStatus: string;
}

async function labVms(): Promise<LabVm[]> {
  return (await hook('/vms', 'GET')) as LabVm[];
}
export async function labVm(name: string): Promise<LabVm> {
  const vm = (await labVms()).find((v) => v.name === name);
  if (!vm) throw new Error(`lab VM ${name} not found`);
  return vm;
}
/** The VM's CD-ROM drives as vSphere reports them: how many, and the ISOs mounted in them. */
export async function labCdroms(name: string): Promise<{ drives: number; isos: string[] }> {
  const client = await connect(await vsphereConfigFromEnv(migrationEnv()));
  try {
    const vm = await getVm(client, await findVmByName(client, name));
    return {
      drives: vm.cdroms.length,
      isos: vm.cdroms.flatMap((c) => (c.backing.kind === 'iso' ? [c.backing.fileName] : [])),
    };
  } finally {
    await client.close();
  }
}

/** Seeded power state, tools, guest (drivers, registry, rules) and CD-ROM of one VM. */
export async function resetVm(name: string): Promise<void> {
  await hook('/reset', 'POST', { vm: name });
}
export async function setGuest(body: Record<string, unknown>): Promise<void> {
  await hook('/guest/state', 'POST', body);
}

/** What an operator's run of `v2o guest-script` leaves for viostor (its effects, set in the simulated guest; vioserial for the guest agent). */
export async function operatorPreparedViostor(vm: string): Promise<void> {
  const key = 'HKLM\\SYSTEM\\CurrentControlSet\\Services\\viostor';
  await setGuest({
    vm,
    addDrivers: ['viostor', 'netkvm', 'balloon', 'vioser'],
    files: { 'C:\\Windows\\System32\\drivers\\viostor.sys': 'MZ viostor' },
    registry: {
      [`${key}\\Type`]: 1,
      [`${key}\\Start`]: 0,
      [`${key}\\ErrorControl`]: 1,
      [`${key}\\Group`]: 'SCSI miniport',
      [`${key}\\ImagePath`]: { type: 'REG_EXPAND_SZ', data: 'system32\\drivers\\viostor.sys' },
      [`${key}\\Parameters\\BusType`]: 1,
      [`${key}\\Parameters\\PnpInterface\\5`]: 1,
      'HKLM\\SYSTEM\\CurrentControlSet\\Services\\storahci\\Start': 0,
    },
  });
}
/** Scripted outcomes of guest commands (POST /guest/rules): `match` is a regexp on the bare command. */
export async function setRules(
  vm: string,
  rules: {
    match: string;
    exitCode: number;
    stdout?: string;
    stderr?: string;
    times?: number;
    apply?: boolean;
  }[],
): Promise<void> {
  await hook('/guest/rules', 'POST', { vm, rules });
}
export async function guestState(vm: string): Promise<Record<string, unknown>> {
  return (await hook(`/guest/state?vm=${encodeURIComponent(vm)}`, 'GET')) as Record<string, unknown>;
}

// --- the OpenStack lab ---------------------------------------------------------------------

export async function openTarget(): Promise<OpenStackTarget> {
  const env = migrationEnv();
  return connectTarget({ cloud: env.OS_CLOUD }, env, pino({ level: 'silent' }));
}

/** Everything tagged with the run (volumes by metadata). */
export async function runResources(t: OpenStackTarget, runId: string) {
  const tag = `v2o-run-${runId}`;
  const [images, volumes, ports, servers] = await Promise.all([
    t.findImagesByTag([tag]),
    t.findVolumesByMetadata({ v2o_run: runId }),
    t.findPortsByTag([tag]),
    t.findServersByTag([tag]),
  ]);
  return { images, volumes, ports, servers };
}

// --- the lab's disk manifest ---------------------------------------------------------------

export interface LabDisk {
  label: string;
  capacityBytes: number;
  rawSha256: string;
  export: { localPath: string; sha256: string; size: number };
}

export function labDisks(vm: string): LabDisk[] {
  const env = migrationEnv();
  const m = JSON.parse(readFileSync(env.V2O_LAB_VSPHERE_DISKS!, 'utf8')) as {
    vms: { name: string; disks: LabDisk[] }[];
  };
  const v = m.vms.find((x) => x.name === vm);
  if (!v) throw new Error(`${vm} not in the lab's disk manifest`);
  return v.disks;
}

export async function hashFile(path: string, algo: 'sha256' | 'sha512', limit?: number): Promise<string> {
  const h = createHash(algo);
  await new Promise<void>((res, rej) => {
    createReadStream(path, limit === undefined ? {} : { end: limit - 1 })
      .on('data', (c) => h.update(c))
      .on('end', res)
      .on('error', rej);
  });
  return h.digest('hex');
}

/** The lab's Cinder keeps each volume as a sparse file (under V2O_LAB_DIR, like lab.env). */
export function volumeFile(volumeId: string): string {
  const labDir = resolve(repoRoot, process.env.V2O_LAB_DIR ?? '.lab');
  return join(labDir, 'openstack/data/cinder/volumes', `volume-${volumeId}`);
}

export function stepStates(statusJson: string): Record<string, string> {
  const view = JSON.parse(statusJson) as { steps: { stepId: string; state: string }[] };
  return Object.fromEntries(view.steps.map((s) => [s.stepId, s.state]));
}

/** A step's output from `v2o status --json`. */
export function stepOutput<T = Record<string, unknown>>(statusJson: string, stepId: string): T | undefined {
  const view = JSON.parse(statusJson) as { steps: { stepId: string; output?: unknown }[] };
  return view.steps.find((s) => s.stepId === stepId)?.output as T | undefined;
}

/** Runs a test file started; rolled back after it so the labs are left as found. */
export interface StartedRun {
  state: string;
  runId: string;
  vm: string;
}

/** `cancel --rollback` every run (each must succeed), then give the VMs back their seeded state. */
export async function rollbackRuns(runs: StartedRun[]): Promise<void> {
  for (const c of runs) {
    const r = await v2o(c.state, ['cancel', c.runId, '--rollback']);
    if (r.code !== 0) throw new Error(`rollback of ${c.runId} exited ${r.code}: ${r.stdout}${r.stderr}`);
  }
  for (const vm of new Set(runs.map((c) => c.vm))) await resetVm(vm);
}
