// The Windows commands that verify the driver recipe, and the parsers of their output. Nothing
// here reads a localised word: pnputil's and reg's messages are translated (German "Veröffentlichter
// Name") and in the OEM code page, so verification looks at exit codes, registry value lines
// (names, REG_* types and data are never translated) and file names.

import { fileExistsCommand, REG } from '../driver-recipe.js';
import type { BootService, DriverPlan, RegValue } from '../drivers.js';

export const DRIVER_STORE = '%SystemRoot%\\System32\\DriverStore\\FileRepository';

/** All values of the key and its subkeys. */
export function regQueryCommand(key: string): string {
  return `${REG} query "${key}" /s`;
}

export type RegTree = Map<string, Map<string, { type: string; data: string }>>;

const fullHive = (key: string) => key.replace(/^HKLM\\/i, 'HKEY_LOCAL_MACHINE\\').toLowerCase();

/** `reg query … /s` output: key lines, then `    Name    REG_TYPE    data` lines under each. */
export function parseRegQuery(output: string): RegTree {
  const tree: RegTree = new Map();
  let current: Map<string, { type: string; data: string }> | undefined;
  for (const line of output.split(/\r?\n/)) {
    if (/^HKEY_/i.test(line)) {
      current = new Map();
      tree.set(fullHive(line.trim()), current);
      continue;
    }
    const m = /^ {4}(.+?) {4}(REG_[A-Z_]+)(?: {4}(.*))?$/.exec(line);
    if (m && current) current.set(m[1]!.toLowerCase(), { type: m[2]!, data: m[3] ?? '' });
  }
  return tree;
}

function valueMatches(want: RegValue, got: { type: string; data: string }): boolean {
  if (want.type === 'REG_DWORD') {
    return got.type === 'REG_DWORD' && Number.parseInt(got.data, 16) === want.data;
  }
  return got.type === want.type && got.data.toLowerCase() === String(want.data).toLowerCase();
}

const shown = (v: RegValue) => `${v.name}=${typeof v.data === 'number' ? v.data : JSON.stringify(v.data)}`;

/** What is wrong with a boot service's registry, from `reg query <key> /s` (exit code and output). */
export function serviceProblems(s: BootService, exitCode: number, output: string): string[] {
  if (exitCode !== 0) return [`the service key ${s.key} does not exist`];
  const tree = parseRegQuery(output);
  const problems: string[] = [];
  for (const v of s.values) {
    const got = tree.get(fullHive(v.key))?.get(v.name.toLowerCase());
    const where = v.key === s.key ? '' : ` (${v.key.slice(s.key.length + 1)})`;
    if (!got) problems.push(`${s.name}: ${v.name}${where} is missing (want ${shown(v)})`);
    else if (!valueMatches(v, got))
      problems.push(`${s.name}: ${v.name}${where} is ${got.data}, not ${shown(v)}`);
  }
  if (s.startOverrideKey) {
    for (const [name, got] of tree.get(fullHive(s.startOverrideKey)) ?? []) {
      if (!valueMatches({ key: s.startOverrideKey, name, type: 'REG_DWORD', data: 0 }, got))
        problems.push(`${s.name}: StartOverride\\${name} is ${got.data}, not 0 (remove it or set it to 0)`);
    }
  }
  return problems;
}

export function sysPresentCommand(s: BootService): string {
  return fileExistsCommand(`%SystemRoot%\\System32\\drivers\\${s.sys}`);
}

/** The package's folders in the driver store (`<inf>_amd64_<hash>`), as `dir /b` names them. */
export function storeFoldersCommand(inf: string): string {
  return `dir /b /ad "${DRIVER_STORE}\\${inf}_amd64_*"`;
}

export function parseStoreFolders(inf: string, output: string): string[] {
  const prefix = `${inf.toLowerCase()}_amd64_`;
  return output
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.toLowerCase().startsWith(prefix));
}

export function storeInfCommand(folder: string, inf: string): string {
  return fileExistsCommand(`${DRIVER_STORE}\\${folder}\\${inf}`);
}

/** The packages that must be staged: every one pnputil added. */
export function stagedInfs(plan: DriverPlan): string[] {
  return plan.install.map((i) => i.inf);
}
