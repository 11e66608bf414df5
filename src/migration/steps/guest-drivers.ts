// The Windows commands behind driver installation and verification, and the parsers of their
// output. Pure functions, so the exact command lines and the parsing are unit-tested.
import type { DriverPlan } from '../drivers.js';

export const PNPUTIL = 'C:\\Windows\\System32\\pnputil.exe';
export const REG = 'C:\\Windows\\System32\\reg.exe';

/** Lists drives; CD-ROMs have DriveType 5 and the ISO's volume label. */
export const LIST_DRIVES = 'wmic logicaldisk get DeviceID,DriveType,VolumeName';

/** CD-ROM drive letters from `wmic logicaldisk`, virtio-win's label first. */
export function cdromDrives(wmicOutput: string): string[] {
  const rows: { letter: string; label: string }[] = [];
  for (const line of wmicOutput.split(/\r?\n/)) {
    const m = /^([A-Z]:)\s+5\b\s*(.*)$/i.exec(line.trim());
    if (m) rows.push({ letter: m[1]!.toUpperCase(), label: m[2]!.trim() });
  }
  return [
    ...rows.filter((r) => /^virtio-win/i.test(r.label)),
    ...rows.filter((r) => !/^virtio-win/i.test(r.label)),
  ].map((r) => r.letter);
}

export function probeCommand(drive: string, plan: DriverPlan): string {
  const first = plan.install[0];
  const probe = first ? `${drive}\\${first.isoDir}\\${first.inf}` : `${drive}\\virtio-win_license.txt`;
  return `if exist ${probe} (exit 0) else (exit 1)`;
}

export function installCommands(drive: string, plan: DriverPlan): { driver: string; command: string }[] {
  return plan.install.map((d) => ({
    driver: d.name,
    command: `${PNPUTIL} /add-driver ${drive}\\${d.isoDir}\\${d.inf} /install`,
  }));
}

export function bootCriticalCommand(plan: DriverPlan): string {
  return `${REG} add ${plan.serviceKey} /v Start /t REG_DWORD /d 0 /f`;
}

export function queryStartCommand(plan: DriverPlan): string {
  return `${REG} query ${plan.serviceKey} /v Start`;
}

export const ENUM_DRIVERS = `${PNPUTIL} /enum-drivers`;

/** pnputil exit codes that mean success: 0, and 3010 (a reboot is needed to finish). */
export const PNPUTIL_OK = new Set([0, 3010]);

/** `Start    REG_DWORD    0x0` → 0; undefined when absent. */
export function parseStartValue(regOutput: string): number | undefined {
  const m = /\bStart\s+REG_DWORD\s+0x([0-9a-f]+)/i.exec(regOutput);
  return m ? Number.parseInt(m[1]!, 16) : undefined;
}

/** Original names (viostor.inf, ...) of the third-party packages in the driver store. */
export function parseDriverStore(
  enumOutput: string,
): { publishedName: string; originalName: string; provider?: string; version?: string }[] {
  const out: { publishedName: string; originalName: string; provider?: string; version?: string }[] = [];
  for (const block of enumOutput.split(/\r?\n\s*\r?\n/)) {
    const field = (name: string) => new RegExp(`^\\s*${name}:\\s*(.+?)\\s*$`, 'im').exec(block)?.[1];
    const published = field('Published Name');
    const original = field('Original Name');
    if (published && original) {
      out.push({
        publishedName: published,
        originalName: original.toLowerCase(),
        provider: field('Provider Name'),
        version: field('Driver Version'),
      });
    }
  }
  return out;
}

/** The operator's instructions for manual mode, with exact paths. */
export function manualInstructions(
  plan: DriverPlan,
  vm: string,
  windowsLabel: string,
  isoPath?: string,
): string {
  const lines = [
    `install the virtio drivers in VM ${vm} (${windowsLabel}):`,
    isoPath
      ? `  the virtio-win ISO is mounted on its CD-ROM (${isoPath}); as an administrator, with D: its drive letter, run:`
      : '  from a virtio-win ISO or folder (D: below), as an administrator, run:',
    ...plan.install.map((d) => `    pnputil /add-driver D:\\${d.isoDir}\\${d.inf} /install`),
    `    reg add ${plan.serviceKey} /v Start /t REG_DWORD /d 0 /f`,
    `  (${plan.bootCriticalService} must start at boot, or Windows cannot find its disk on OpenStack)`,
  ];
  return lines.join('\n');
}
