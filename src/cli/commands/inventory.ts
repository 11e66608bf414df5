// `v2o inventory`: the vSphere VMs with their migration-relevant model and readiness
// (blockers / warnings): the source-side rules of the registry (src/migration/rules/) with the
// default plan settings, the same ones `v2o plan` runs. Connects with govc's variables or flags;
// the password only from GOVC_PASSWORD (or the URL) or a prompt, never from a flag.
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { ConfigError } from '../../errors.js';
import { formatBytes } from '../../format-bytes.js';
import type { Readiness } from '../../migration/rules/index.js';
import type { VSphereFlags } from '../../vsphere/config.js';
import type { VmInfo } from '../../vsphere/model.js';
import type { CommandModule, GlobalOptions } from '../command.js';
import { renderGuestFacts } from '../format/guest-facts.js';
import { table } from '../format/table.js';

interface InventoryOptions extends VSphereFlags {
  json?: boolean;
  vm?: string;
  guest?: boolean;
  guestUsernameEnv?: string;
  guestPasswordEnv?: string;
}

const EXAMPLES = `
Environment (as govc): GOVC_URL (https://[user[:pass]@]host/sdk), GOVC_USERNAME, GOVC_PASSWORD,
GOVC_INSECURE=1, GOVC_TLS_CA_CERTS=ca.pem, GOVC_THUMBPRINT=<SHA-256 fingerprint>.

Examples:
  GOVC_URL=vc.example.com GOVC_USERNAME=admin@vsphere.local v2o inventory
  v2o inventory --vm "web 01" --json
  V2O_GUEST_USERNAME=Administrator V2O_GUEST_PASSWORD=… v2o inventory --vm win2022-static01 --guest
  v2o inventory --url https://vc.example.com/sdk --thumbprint AB:CD:…`;

const EXIT_CODES = `
Exit codes:
  0    ok (blocked VMs are listed, not an error)
  1    failed (a vSphere error)
  2    bad input: wrong password, unknown VM, unreachable host, untrusted certificate or thumbprint mismatch;
       --guest without --vm or without the guest credentials, or a VM without VMware Tools running`;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** --guest's inputs, checked before anything connects: the credentials' variables and their values. */
export function guestOptions(
  o: InventoryOptions,
  env: NodeJS.ProcessEnv,
  defaults: { usernameEnv: string; passwordEnv: string },
): { username: string; password: string; names: string } | undefined {
  if (!o.guest) {
    if (o.guestUsernameEnv || o.guestPasswordEnv)
      throw new ConfigError('--guest-username-env and --guest-password-env go with --guest', {
        hint: 'add --guest (and --vm NAME)',
      });
    return undefined;
  }
  if (!o.vm)
    throw new ConfigError('--guest inspects one VM: it needs --vm NAME', {
      hint: 'v2o inventory --vm NAME --guest',
    });
  const usernameEnv = o.guestUsernameEnv ?? defaults.usernameEnv;
  const passwordEnv = o.guestPasswordEnv ?? defaults.passwordEnv;
  for (const [flag, name] of [
    ['--guest-username-env', usernameEnv],
    ['--guest-password-env', passwordEnv],
  ] as const) {
    if (!ENV_NAME.test(name))
      throw new ConfigError(`${flag} must name an environment variable, not "${name}"`, {
        hint: `${flag} V2O_GUEST_${flag.includes('user') ? 'USERNAME' : 'PASSWORD'} (the value is read from the environment, never from a flag)`,
      });
  }
  const username = env[usernameEnv];
  const password = env[passwordEnv];
  if (!username || !password)
    throw new ConfigError(
      `--guest needs the guest administrator: ${!username ? usernameEnv : passwordEnv} is not set`,
      {
        hint: `export ${usernameEnv} and ${passwordEnv} (a local administrator of the guest), or name other variables with --guest-username-env / --guest-password-env`,
      },
    );
  return { username, password, names: `${usernameEnv}/${passwordEnv}` };
}

/** Reads a password from the terminal without echo. */
export async function promptPassword(username: string, url: URL): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    throw new ConfigError(`no password for ${username}`, {
      hint: 'set GOVC_PASSWORD (passwords are never taken from flags)',
    });
  }
  process.stderr.write(`Password for ${username} at ${url.host}: `);
  stdin.setRawMode(true);
  stdin.resume();
  try {
    return await new Promise<string>((resolve, reject) => {
      let buf = '';
      const onData = (d: Buffer) => {
        for (const ch of d.toString('utf8')) {
          if (ch === '\r' || ch === '\n') {
            stdin.off('data', onData);
            process.stderr.write('\n');
            resolve(buf);
            return;
          }
          if (ch === '\u0003') {
            stdin.off('data', onData);
            reject(new ConfigError('password prompt cancelled'));
            return;
          }
          if (ch === '\u007f' || ch === '\b') buf = buf.slice(0, -1);
          else buf += ch;
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
  }
}

function status(r: Readiness): string {
  return r.blockers.length ? 'BLOCKED' : r.warnings.length ? 'WARN' : 'ready';
}

function issuesText(r: Readiness, indent = '  '): string {
  const lines: string[] = [];
  for (const b of r.blockers) lines.push(`${indent}blocker  ${b.message}\n${indent}         fix: ${b.fix}`);
  for (const w of r.warnings) lines.push(`${indent}warning  ${w.message}\n${indent}         fix: ${w.fix}`);
  return lines.join('\n');
}

function detail(vm: VmInfo, r: Readiness): string {
  const rows: string[] = [
    `${vm.name} (${vm.ref.value})  ${status(r)}`,
    `  instance UUID  ${vm.instanceUuid ?? '-'}`,
    `  guest          ${vm.guestFullName ?? '-'} [${vm.guestId ?? '-'}]`,
    `  firmware       ${vm.firmware}${vm.firmware === 'efi' ? (vm.secureBoot ? ', secure boot on' : ', secure boot off') : ''}${vm.vtpm ? ', vTPM' : ''}`,
    `  CPUs / memory  ${vm.numCpu} / ${vm.memoryMiB} MiB`,
    `  power          ${vm.powerState}   host ${vm.host?.name ?? '-'}   datacenter ${vm.datacenter ?? '-'}`,
    `  tools          ${vm.tools.status ?? '-'} / ${vm.tools.runningStatus ?? '-'} (version ${vm.tools.version ?? '-'})`,
    `  CBT            ${vm.cbtEnabled ? 'on' : 'off'}   snapshots ${vm.snapshots.length ? vm.snapshots.map((s) => s.name).join(', ') : 'none'}`,
    '  disks:',
    ...vm.disks.map(
      (d) =>
        `    ${d.label.padEnd(12)} ${formatBytes(d.capacityBytes).padStart(9)}  ${d.controller?.kind ?? '?'}${d.controller?.busNumber ?? ''}:${d.unitNumber ?? '?'}  ${d.provisioning}  ${d.diskMode}${d.sharing !== 'sharingNone' ? `  ${d.sharing}` : ''}${d.rdm ? `  RDM ${d.rdm.compatibilityMode}` : ''}  ${d.fileName}`,
    ),
    '  NICs:',
    ...vm.nics.map(
      (n) => `    ${n.label.padEnd(12)} ${n.adapterType.padEnd(8)} ${n.macAddress}  ${n.network ?? '-'}`,
    ),
    '  CD-ROMs:',
    ...vm.cdroms.map(
      (c) =>
        `    ${c.label.padEnd(12)} ${c.controller?.kind ?? '?'}${c.controller?.busNumber ?? ''}:${c.unitNumber ?? '?'}  ${c.backing.kind === 'iso' ? c.backing.fileName : c.backing.kind}${c.connected ? ' (connected)' : ''}`,
    ),
  ];
  const issues = issuesText(r);
  return `${rows.join('\n')}${issues ? `\n  readiness:\n${issuesText(r, '    ')}` : ''}`;
}

async function stderrLogger(debug: boolean): Promise<Logger | undefined> {
  if (!debug) return undefined;
  const { default: pino } = await import('pino');
  const { redactOptions } = await import('../../redaction.js');
  return pino({ level: 'debug', redact: redactOptions }, pino.destination(2));
}

export const inventoryCommand: CommandModule = {
  register(program: Command) {
    program
      .command('inventory')
      .description('list vSphere VMs with what matters for a migration, and what would block or warn it')
      .option('--json', 'print the VM model and readiness as JSON')
      .option('--vm <name>', 'show one VM in detail')
      .option(
        '--guest',
        'with --vm: inspect the running guest too (read-only, through VMware Tools): network identity, disks, SAN policy, in-guest checks',
      )
      .option(
        '--guest-username-env <name>',
        'variable holding the guest administrator (default V2O_GUEST_USERNAME)',
      )
      .option('--guest-password-env <name>', 'variable holding its password (default V2O_GUEST_PASSWORD)')
      .option('--url <url>', 'vCenter/ESXi SDK URL (default: $GOVC_URL)')
      .option(
        '--username <user>',
        'user name (default: $GOVC_USERNAME); the password comes from $GOVC_PASSWORD or a prompt',
      )
      .option('--insecure', 'do not verify the server certificate (default: $GOVC_INSECURE)')
      .option('--ca-file <pem>', 'trust this CA / certificate (default: $GOVC_TLS_CA_CERTS)')
      .option(
        '--thumbprint <sha256>',
        'pin the server certificate by its SHA-256 fingerprint (default: $GOVC_THUMBPRINT)',
      )
      .addHelpText('after', `${EXAMPLES}\n${EXIT_CODES}`)
      .action(async (o: InventoryOptions, cmd: Command) => {
        // The plan file's defaults, loaded only here: every v2o start would pay for zod and yaml.
        const { DEFAULT_GUEST_CREDENTIALS } = await import('../../migration/plan-file.js');
        const guestCreds = guestOptions(o, process.env, DEFAULT_GUEST_CREDENTIALS);
        // Loaded here, not at the top: every v2o start (resume at 3 a.m. too) would pay for them.
        const [
          { vsphereConfigFromEnv },
          { connect },
          { findVmByName, getVm, listVms },
          rules,
          { toSourceVm, VSphereSource },
        ] = await Promise.all([
          import('../../vsphere/config.js'),
          import('../../vsphere/objects/client.js'),
          import('../../vsphere/objects/vm.js'),
          import('../../migration/rules/index.js'),
          import('../../migration/source-vsphere.js'),
        ]);
        const { captureGuest } = await import('../../migration/guest/capture.js');
        const assess = (vm: VmInfo) =>
          rules.toReadiness(rules.evaluateRules(toSourceVm(vm), rules.defaultRuleSettings, 'source'));
        const g = cmd.optsWithGlobals<GlobalOptions>();
        const config = await vsphereConfigFromEnv(
          process.env,
          {
            url: o.url,
            username: o.username,
            insecure: o.insecure,
            caFile: o.caFile,
            thumbprint: o.thumbprint,
          },
          promptPassword,
        );
        const ac = new AbortController();
        const onSig = () => ac.abort();
        process.once('SIGINT', onSig);
        const client = await connect(config, { log: await stderrLogger(!!g.debug), signal: ac.signal });
        try {
          const vms = o.vm
            ? [
                await getVm(client, await findVmByName(client, o.vm, { signal: ac.signal }), {
                  signal: ac.signal,
                }),
              ]
            : await listVms(client, { signal: ac.signal });
          if (guestCreds) {
            const vm = vms[0]!;
            const src = toSourceVm(vm);
            if (src.powerState !== 'poweredOn' || !src.toolsRunning)
              throw new ConfigError(
                `--guest needs VM ${vm.name} running with VMware Tools (it is ${src.powerState}, Tools ${src.toolsRunning ? 'running' : (src.toolsStatus ?? 'not running')})`,
                { hint: 'power the VM on and start VMware Tools in it, then try again' },
              );
            const facts = await captureGuest(new VSphereSource(client), src.moref, guestCreds, {
              signal: ac.signal,
            });
            const readiness = rules.toReadiness(
              rules.evaluateRules(src, rules.defaultRuleSettings, ['source', 'guest'], { facts }),
            );
            if (o.json) {
              const out = { ...vm, readiness: { status: status(readiness), ...readiness }, guest: facts };
              process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
            } else {
              const text = [detail(vm, readiness), '  guest:', ...renderGuestFacts(facts, '    ', true)];
              process.stdout.write(`${text.join('\n')}\n`);
            }
            return;
          }
          const rows = vms.map((vm) => ({ vm, readiness: assess(vm) }));
          if (o.json) {
            const out = rows.map(({ vm, readiness }) => ({
              ...vm,
              readiness: { status: status(readiness), ...readiness },
            }));
            process.stdout.write(`${JSON.stringify(o.vm ? out[0] : out, null, 2)}\n`);
            return;
          }
          if (o.vm) {
            process.stdout.write(`${detail(rows[0]!.vm, rows[0]!.readiness)}\n`);
            return;
          }
          if (!rows.length) {
            process.stdout.write(`no virtual machines at ${config.url.host}\n`);
            return;
          }
          const t = [['NAME', 'POWER', 'GUEST', 'FW', 'CPU', 'MEM', 'DISKS', 'NICS', 'TOOLS', 'READINESS']];
          for (const { vm, readiness } of rows) {
            t.push([
              vm.name,
              vm.powerState.replace(/^powered/, '').toLowerCase(),
              vm.guestId ?? '-',
              vm.firmware + (vm.secureBoot ? '+sb' : ''),
              String(vm.numCpu),
              `${vm.memoryMiB} MiB`,
              `${vm.disks.length} (${formatBytes(vm.disks.reduce((s, d) => s + d.capacityBytes, 0))})`,
              String(vm.nics.length),
              vm.tools.runningStatus === 'guestToolsRunning' ? 'running' : (vm.tools.status ?? '-'),
              `${status(readiness)}${readiness.blockers.length ? ` (${readiness.blockers.length})` : ''}`,
            ]);
          }
          process.stdout.write(`${table(t)}\n`);
          const notes = rows.filter((r) => r.readiness.blockers.length || r.readiness.warnings.length);
          if (notes.length) {
            process.stdout.write(
              `\n${notes.map((r) => `${r.vm.name}:\n${issuesText(r.readiness)}`).join('\n')}\n`,
            );
          }
        } finally {
          process.off('SIGINT', onSig);
          await client.close();
        }
      });
  },
};
