// The one recipe that prepares Windows' storage drivers on VMware so it boots on KVM: stage every
// package, copy the boot driver's .sys, write its full service key, make storahci boot-critical
// for the SATA fallback. `auto` runs it action by action through guest operations
// (steps/install-drivers.ts); `manual` hands the operator the same actions as one PowerShell
// script (`v2o guest-script`). Pure: both renderings are unit-tested line by line.
import type { DriverName, DriverPlan, RegValue } from './drivers.js';

export type RecipeAction =
  /** pnputil stages the package (DriverStore\FileRepository + oemN.inf); no device takes it on VMware. */
  | { kind: 'stage'; driver: DriverName; isoPath: string; syntax: DriverPlan['pnputil'] }
  /** Copy a file from the ISO to %SystemRoot%\<to>. */
  | { kind: 'copy'; driver: string; isoPath: string; to: string }
  | { kind: 'reg'; driver: string; value: RegValue };

/**
 * pnputil: 0; 259 ERROR_NO_MORE_ITEMS = staged, no device took it (always so on VMware, and what
 * virt-v2v accepts too, libguestfs/virt-v2v PR #96); 3010 = staged, a reboot is pending
 * (Microsoft "PnPUtil Return Values").
 */
export const PNPUTIL_OK = [0, 259, 3010];
export const REBOOT_PENDING = 3010;

export function okExitCodes(a: RecipeAction): number[] {
  return a.kind === 'stage' ? PNPUTIL_OK : [0];
}

export function driverRecipe(plan: DriverPlan): RecipeAction[] {
  const actions: RecipeAction[] = plan.install.map((d) => ({
    kind: 'stage',
    driver: d.name,
    isoPath: `${d.isoDir}\\${d.inf}`,
    syntax: plan.pnputil,
  }));
  for (const s of plan.bootServices) {
    // The INF's CopyFiles runs only when a device installs: copy the driver where ImagePath points.
    if (s.fromIso) {
      actions.push({
        kind: 'copy',
        driver: s.name,
        isoPath: `${s.fromIso.isoDir}\\${s.fromIso.sys}`,
        to: `System32\\drivers\\${s.sys}`,
      });
    }
    for (const value of s.values) actions.push({ kind: 'reg', driver: s.name, value });
    if (s.startOverrideKey) {
      actions.push({
        kind: 'reg',
        driver: s.name,
        value: { key: s.startOverrideKey, name: '0', type: 'REG_DWORD', data: 0 },
      });
    }
  }
  return actions;
}

/** Every file the recipe reads from the ISO: probed before anything changes in the guest. */
export function isoFilesNeeded(plan: DriverPlan): string[] {
  const files = driverRecipe(plan).flatMap((a) => (a.kind === 'reg' ? [] : [a.isoPath]));
  // The guest agent's MSI is copied by install-firstboot; missing, the run would fail after shutdown.
  return plan.guestAgentMsi ? [...files, plan.guestAgentMsi] : files;
}

export function describeAction(a: RecipeAction): string {
  switch (a.kind) {
    case 'stage':
      return `stage ${a.driver} (${a.isoPath})`;
    case 'copy':
      return `copy ${a.isoPath} to %SystemRoot%\\${a.to}`;
    case 'reg':
      return `${a.value.key}\\${a.value.name} = ${a.value.data}`;
  }
}

const q = (s: string) => `"${s}"`;

function regData(v: RegValue): string {
  return typeof v.data === 'number' ? String(v.data) : v.data;
}

// --- auto: one cmd.exe command line per action (guest operations run `cmd.exe /c …`) ----------

export const PNPUTIL = '%SystemRoot%\\System32\\pnputil.exe';
export const REG = '%SystemRoot%\\System32\\reg.exe';

/** The action as a cmd.exe command line, with the ISO at `drive` (e.g. `E:`). */
export function cmdCommand(a: RecipeAction, drive: string): string {
  switch (a.kind) {
    case 'stage':
      return a.syntax === 'legacy'
        ? `${PNPUTIL} -i -a ${q(`${drive}\\${a.isoPath}`)}`
        : `${PNPUTIL} /add-driver ${q(`${drive}\\${a.isoPath}`)} /install`;
    case 'copy':
      return `copy /y ${q(`${drive}\\${a.isoPath}`)} ${q(`%SystemRoot%\\${a.to}`)}`;
    case 'reg':
      return `${REG} add ${q(a.value.key)} /v ${q(a.value.name)} /t ${a.value.type} /d ${q(regData(a.value))} /f`;
  }
}

// --- finding the ISO, shared by auto and the script -----------------------------------------

/**
 * CD-ROM drive letters, one a line, through CIM (PowerShell 3+, so Server 2012 too): wmic is
 * deprecated and disabled by default from Windows 11 24H2 on (Microsoft "WMIC" feature page).
 */
export const CDROM_PROBE_PS = '(Get-CimInstance -ClassName Win32_CDROMDrive).Drive';

export const CDROM_PROBE = `powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -Command ${q(CDROM_PROBE_PS)}`;

export function parseCdromDrives(output: string): string[] {
  const out: string[] = [];
  for (const line of output.split(/\r?\n/)) {
    const m = /^\s*([A-Za-z]:)\\?\s*$/.exec(line);
    if (m && !out.includes(m[1]!.toUpperCase())) out.push(m[1]!.toUpperCase());
  }
  return out;
}

export function fileExistsCommand(path: string): string {
  return `if exist ${q(path)} (exit 0) else (exit 1)`;
}

// --- manual: the same actions as one PowerShell script ---------------------------------------

function psAction(a: RecipeAction): string {
  const what = describeAction(a).replaceAll("'", "''");
  const ok = okExitCodes(a).join(', ');
  switch (a.kind) {
    case 'stage': {
      const inf = q(`$iso\\${a.isoPath}`);
      const call =
        a.syntax === 'legacy'
          ? `& "$env:SystemRoot\\System32\\pnputil.exe" -i -a ${inf}`
          : `& "$env:SystemRoot\\System32\\pnputil.exe" /add-driver ${inf} /install`;
      return `Invoke-V2oNative '${what}' @(${ok}) { ${call} }`;
    }
    case 'copy':
      return `Copy-Item -LiteralPath ${q(`$iso\\${a.isoPath}`)} -Destination ${q(`$env:SystemRoot\\${a.to}`)} -Force`;
    case 'reg':
      return `Invoke-V2oNative '${what}' @(${ok}) { & "$env:SystemRoot\\System32\\reg.exe" add '${a.value.key}' /v '${a.value.name}' /t ${a.value.type} /d '${regData(a.value)}' /f }`;
  }
}

export interface GuestScriptContext {
  vm: string;
  windowsLabel: string;
  /** What the operator does once the script has run (e.g. `v2o approve <run>`). */
  next: string;
}

/** The whole recipe as one PowerShell script (Windows PowerShell 5.1 / 3.0 on Server 2012). */
export function guestScript(plan: DriverPlan, c: GuestScriptContext): string {
  const actions = driverRecipe(plan);
  const probe = isoFilesNeeded(plan);
  const boot = plan.bootServices.map((s) => s.name).join(' and ');
  const lines = [
    `# v2o: prepare the storage drivers of VM ${c.vm} (${c.windowsLabel}) for KVM/OpenStack.`,
    `# Boot-critical afterwards: ${boot}. Run it in the guest while it still runs on VMware, as an`,
    '# administrator, with the virtio-win ISO in a CD-ROM drive:',
    '#   powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\\v2o-drivers.ps1',
    `# Then: ${c.next}`,
    "$ErrorActionPreference = 'Stop'",
    '',
    '# A native command whose exit code is not in $Ok stops the script.',
    'function Invoke-V2oNative([string]$What, [int[]]$Ok, [scriptblock]$Run) {',
    '  & $Run | Out-Host',
    '  $code = $LASTEXITCODE',
    '  if ($Ok -notcontains $code) { throw "$What failed (exit code $code)" }',
    `  if ($code -eq ${REBOOT_PENDING}) { Write-Warning "\${What}: done, a reboot is pending (${REBOOT_PENDING})" }`,
    '}',
    '',
    '# The CD-ROM that holds the virtio-win files this Windows needs.',
    '$iso = $null',
    `foreach ($d in @(${CDROM_PROBE_PS})) {`,
    `  if ($d -and (Test-Path -LiteralPath "$d\\${probe[0] ?? 'virtio-win_license.txt'}")) { $iso = $d; break }`,
    '}',
    `if (-not $iso) { throw 'no CD-ROM drive holds ${probe[0] ?? 'the virtio-win ISO'}: attach the virtio-win ISO (one that has this folder) and run the script again' }`,
    ...probe.map(
      (p) =>
        `if (-not (Test-Path -LiteralPath "$iso\\${p}")) { throw "the ISO in $iso has no ${p}: use a virtio-win ISO that has it" }`,
    ),
    '',
    ...actions.map(psAction),
    '',
    `Write-Output 'v2o: drivers prepared (${boot} boot-critical)'`,
    '',
  ];
  return lines.join('\r\n');
}
