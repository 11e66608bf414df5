// The first-boot task v2o leaves in the guest before shutdown: a PowerShell script, its config file
// and a scheduled task that runs it at startup as SYSTEM. On the target it replays the guest's
// identity (firstboot.json version 2, replay-script.ts), writes one line to COM1 (`v2o-firstboot:
// {json}` with what it applied as `result`, see marker.ts) and removes itself once nothing failed
// or after FIRSTBOOT_MAX_BOOTS boots; on the VMware source it does nothing.
// Forklift signals its conversion the same way (99999-signal-conversion-done.ps1 writes to COM1).
// Pure text builders: the install-firstboot step and `v2o guest-script` (manual mode) share them.
import { FIRSTBOOT_MAX_BOOTS, type FirstbootConfigV2 } from './actions.js';
import { REPLAY_LINES } from './replay-script.js';

export const FIRSTBOOT_TASK = 'v2o-firstboot';
export const FIRSTBOOT_DIR = 'C:\\ProgramData\\v2o';
export const FIRSTBOOT_SCRIPT_PATH = `${FIRSTBOOT_DIR}\\firstboot.ps1`;
export const FIRSTBOOT_CONFIG_PATH = `${FIRSTBOOT_DIR}\\firstboot.json`;
/** Where install-firstboot copies the guest agent's MSI from the ISO (firstbootConfigV2 names it). */
export const GUEST_AGENT_MSI_PATH = `${FIRSTBOOT_DIR}\\qemu-ga-x86_64.msi`;

/**
 * firstboot.json: which run the marker must name, the bus v2o planned, and (version 2) what to
 * replay. The script reads version 1 files too (runId and expectBus only: nothing to replay).
 * ASCII: PowerShell 5.1's Get-Content reads a file without a BOM in the ANSI code page.
 */
export function firstbootConfig(c: FirstbootConfigV2): string {
  return `${JSON.stringify(c).replace(/[\u007f-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`)}\r\n`;
}

/** Run through `cmd.exe /c` (exit 0 = created). /F replaces a task left by an earlier attempt. */
export const createTaskCommand = (): string =>
  `schtasks /Create /TN "${FIRSTBOOT_TASK}" /SC ONSTART /RU SYSTEM /RL HIGHEST /F /TR "powershell.exe -NoProfile -ExecutionPolicy Bypass -File ${FIRSTBOOT_SCRIPT_PATH}"`;
/** Exit 0: the task exists, 1: it does not. Its text is localised: never parsed. */
export const queryTaskCommand = (): string => `schtasks /Query /TN "${FIRSTBOOT_TASK}"`;
export const deleteTaskCommand = (): string => `schtasks /Delete /TN "${FIRSTBOOT_TASK}" /F`;
/** `del` of a file that is not there still exits 0 with /Q; all files in one command. */
export const deleteFilesCommand = (): string =>
  `del /F /Q "${FIRSTBOOT_SCRIPT_PATH}" "${FIRSTBOOT_CONFIG_PATH}" "${GUEST_AGENT_MSI_PATH}"`;
/** The guest agent's MSI from the virtio-win ISO at `drive` (contract §C), before shutdown. */
export const copyGuestAgentCommand = (drive: string, isoPath: string): string =>
  `copy /Y "${drive}\\${isoPath}" "${GUEST_AGENT_MSI_PATH}"`;

/**
 * firstboot.ps1: Windows PowerShell 4.0 (Server 2012 R2) to 5.1, ASCII only (5.1 reads a file
 * without a BOM in the ANSI code page), CRLF line ends. Each choice is explained where it is made.
 */
const SCRIPT_LINES = [
  '# v2o first-boot task (written by v2o; see src/migration/firstboot/script.ts).',
  `# Started at boot by the scheduled task "${FIRSTBOOT_TASK}" as SYSTEM. On the migrated machine it`,
  '# writes one line to COM1 for v2o (which reads the Nova console log), then removes itself.',
  "$ErrorActionPreference = 'Stop'",
  `$dir = '${FIRSTBOOT_DIR}'`,
  `$taskName = '${FIRSTBOOT_TASK}'`,
  "$logFile = Join-Path $dir 'firstboot.log'",
  "$attemptsFile = Join-Path $dir 'attempts.txt'",
  'function Write-Log([string]$text) {',
  "  $stamp = (Get-Date).ToUniversalTime().ToString(\"yyyy-MM-dd'T'HH:mm:ss'Z'\")",
  '  Add-Content -Path $logFile -Value "$stamp $text" -Encoding ASCII',
  '}',
  'function Remove-Task {',
  '  # schtasks exists on every release; Unregister-ScheduledTask needs the ScheduledTasks module.',
  '  & schtasks.exe /Delete /TN $taskName /F | Out-Null',
  "  Remove-Item -Force -ErrorAction SilentlyContinue -Path (Join-Path $dir 'firstboot.json'), (Join-Path $dir 'qemu-ga-x86_64.msi'), $attemptsFile, $PSCommandPath",
  '}',
  '',
  '# Still the VMware VM (the task was registered there before shutdown): stay for the target.',
  '$cs = Get-CimInstance -ClassName Win32_ComputerSystem',
  "if ($cs.Manufacturer -eq 'VMware, Inc.') { exit 0 }",
  '# Nova sets the SMBIOS system UUID to the server id (libvirt driver): it tells attempts apart. The',
  "# source's own UUID (captured before shutdown) means the source booted again: do nothing at all.",
  '$uuid = ([string](Get-CimInstance -ClassName Win32_ComputerSystemProduct).UUID).ToLowerInvariant()',
  '$config = $null',
  "try { $config = Get-Content -Raw -Path (Join-Path $dir 'firstboot.json') | ConvertFrom-Json } catch { $config = $null }",
  'if ($config -and $config.sourceUuid -and $uuid -eq ([string]$config.sourceUuid).ToLowerInvariant()) { exit 0 }',
  '',
  ...REPLAY_LINES,
  '',
  '# A machine where COM1 never opens must not run this at every boot forever: three tries.',
  '$attempts = 0',
  'if (Test-Path $attemptsFile) { $attempts = [int](Get-Content -Path $attemptsFile -TotalCount 1) }',
  '$attempts++',
  'Set-Content -Path $attemptsFile -Value $attempts -Encoding ASCII',
  '',
  'try {',
  "  if (-not $config) { $config = Get-Content -Raw -Path (Join-Path $dir 'firstboot.json') | ConvertFrom-Json }",
  "  $build = [string](Get-ItemProperty -Path 'HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion').CurrentBuild",
  '',
  '  # The bus of the boot disk as Windows sees it: the service of the controller above the disk',
  '  # that holds the system drive (viostor = virtio-blk, vioscsi = virtio-scsi, storahci = SATA AHCI).',
  "  $busOf = @{ 'viostor' = 'virtio'; 'vioscsi' = 'scsi'; 'storahci' = 'sata' }",
  '  $bus = $null',
  '  try {',
  '    $logical = Get-CimInstance -ClassName Win32_LogicalDisk -Filter "DeviceID=\'$($env:SystemDrive)\'"',
  '    $partition = Get-CimAssociatedInstance -InputObject $logical -ResultClassName Win32_DiskPartition | Select-Object -First 1',
  '    $disk = Get-CimAssociatedInstance -InputObject $partition -ResultClassName Win32_DiskDrive | Select-Object -First 1',
  '    # cfgmgr32 walks the device tree on every release (Get-PnpDeviceProperty needs Windows 10 / 2016).',
  '    # (Single-quoted strings, no here-string: `v2o guest-script` wraps this script in one.)',
  '    $signatures = \'[DllImport("cfgmgr32.dll", CharSet = CharSet.Unicode)] public static extern int CM_Locate_DevNodeW(out uint devInst, string deviceId, int flags);\' +',
  '      \'[DllImport("cfgmgr32.dll")] public static extern int CM_Get_Parent(out uint parent, uint devInst, int flags);\' +',
  '      \'[DllImport("cfgmgr32.dll", CharSet = CharSet.Unicode)] public static extern int CM_Get_Device_IDW(uint devInst, System.Text.StringBuilder buffer, int length, int flags);\'',
  '    Add-Type -Namespace V2o -Name DevTree -MemberDefinition $signatures',
  '    $node = [uint32]0',
  '    if ([V2o.DevTree]::CM_Locate_DevNodeW([ref]$node, [string]$disk.PNPDeviceID, 0) -eq 0) {',
  "      # A storport miniport is the disk's parent; IDE-style stacks put a channel in between.",
  '      for ($i = 0; $i -lt 4 -and -not $bus; $i++) {',
  '        $parent = [uint32]0',
  '        if ([V2o.DevTree]::CM_Get_Parent([ref]$parent, $node, 0) -ne 0) { break }',
  '        $node = $parent',
  '        $id = New-Object System.Text.StringBuilder 512',
  '        if ([V2o.DevTree]::CM_Get_Device_IDW($node, $id, 512, 0) -ne 0) { break }',
  '        $key = "HKLM:\\SYSTEM\\CurrentControlSet\\Enum\\$($id.ToString())"',
  '        $service = [string](Get-ItemProperty -Path $key -ErrorAction SilentlyContinue).Service',
  '        if ($service) { $bus = $busOf[$service.ToLowerInvariant()]; if (-not $bus) { $bus = $service.ToLowerInvariant() } }',
  '      }',
  '    }',
  '  } catch {',
  '    Write-Log "device tree walk failed: $($_.Exception.Message)"',
  '  }',
  '  if (-not $bus) {',
  '    # Constrained Language Mode refuses Add-Type: the first storage driver with a device running.',
  "    foreach ($service in 'viostor', 'vioscsi', 'storahci') {",
  '      $count = (Get-ItemProperty -Path "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\$service\\Enum" -ErrorAction SilentlyContinue).Count',
  '      if ($count -gt 0) { $bus = $busOf[$service]; break }',
  '    }',
  '  }',
  "  if (-not $bus) { $bus = 'unknown' }",
  '',
  '  # Version 2: replay the identity, then read back what Windows has now.',
  '  $result = $null',
  '  if ([int]$config.version -ge 2) {',
  '    Invoke-V2oReplay $config',
  '    $result = Get-V2oResult $attempts',
  '  }',
  '',
  '  # [ordered] keeps the field order; -Compress gives one line without spaces; -Depth: the result nests.',
  '  $marker = [ordered]@{',
  '    runId = [string]$config.runId',
  '    uuid = $uuid',
  '    hostname = [string]$env:COMPUTERNAME',
  '    osBuild = $build',
  '    bus = $bus',
  "    time = (Get-Date).ToUniversalTime().ToString(\"yyyy-MM-dd'T'HH:mm:ss'Z'\")",
  '  }',
  '  if ($result) { $marker.result = $result }',
  "  $line = 'v2o-firstboot: ' + (New-Object PSObject -Property $marker | ConvertTo-Json -Compress -Depth 8)",
  '',
  '  # The serial port can still be held by the boot for a moment: a few tries, then give up.',
  '  $written = $false',
  '  for ($try = 1; $try -le 5 -and -not $written; $try++) {',
  '    try {',
  "      $port = New-Object System.IO.Ports.SerialPort 'COM1', 115200, ([System.IO.Ports.Parity]::None), 8, ([System.IO.Ports.StopBits]::One)",
  '      $port.Open()',
  '      $port.Write($line + "`r`n")',
  '      $port.Close()',
  '      $written = $true',
  '    } catch {',
  '      Write-Log "COM1 try $($try): $($_.Exception.Message)"',
  '      Start-Sleep -Seconds 5',
  '    }',
  '  }',
  '  if (-not $written) { throw "COM1 could not be written" }',
  '  Write-Log "reported: $line"',
  `  if ($failed.Count -gt 0 -and $attempts -lt ${FIRSTBOOT_MAX_BOOTS}) { Write-Log "$($failed.Count) action(s) failed: trying again at the next boot (boot $attempts of ${FIRSTBOOT_MAX_BOOTS})"; exit 1 }`,
  '  Remove-Task',
  '  exit 0',
  '} catch {',
  '  Write-Log "failed (attempt $attempts): $($_.Exception.Message)"',
  `  if ($attempts -ge ${FIRSTBOOT_MAX_BOOTS}) { Remove-Task }`,
  '  exit 1',
  '}',
];

export function firstbootScript(): string {
  return `${SCRIPT_LINES.join('\r\n')}\r\n`;
}

/**
 * The same task for `manual` driver mode, as PowerShell the operator runs in the guest (elevated),
 * appended by `v2o guest-script`: writes both files and registers the task. `runId` is the run the
 * marker must name (the gate of that run prints it).
 */
export function firstbootGuestScript(
  config: FirstbootConfigV2,
  o: { guestAgentIsoPath?: string } = {},
): string {
  const lines = [
    `# --- v2o first-boot task (run ${config.runId}): replays this server's identity on OpenStack and reports its first boot to v2o ---`,
    `New-Item -ItemType Directory -Force -Path '${FIRSTBOOT_DIR}' | Out-Null`,
    // $iso: the CD-ROM the driver part above found.
    ...(config.guestAgent && o.guestAgentIsoPath
      ? [
          `Copy-Item -LiteralPath "$iso\\${o.guestAgentIsoPath}" -Destination '${config.guestAgent.msi}' -Force`,
        ]
      : []),
    // A single-quoted here-string takes the script literally; it contains no line starting with '@.
    "$v2oFirstboot = @'",
    ...firstbootScript().trimEnd().split('\r\n'),
    "'@",
    `Set-Content -Path '${FIRSTBOOT_SCRIPT_PATH}' -Value $v2oFirstboot -Encoding ASCII`,
    `Set-Content -Path '${FIRSTBOOT_CONFIG_PATH}' -Value '${firstbootConfig(config).trimEnd().replaceAll("'", "''")}' -Encoding ASCII`,
    `& schtasks.exe /Create /TN "${FIRSTBOOT_TASK}" /SC ONSTART /RU SYSTEM /RL HIGHEST /F /TR "powershell.exe -NoProfile -ExecutionPolicy Bypass -File ${FIRSTBOOT_SCRIPT_PATH}"`,
    `if ($LASTEXITCODE -ne 0) { throw "schtasks could not register the first-boot task (exit $LASTEXITCODE)" }`,
    `& schtasks.exe /Query /TN "${FIRSTBOOT_TASK}" | Out-Null`,
    `if ($LASTEXITCODE -ne 0) { throw "the first-boot task ${FIRSTBOOT_TASK} is not registered" }`,
  ];
  return `${lines.join('\r\n')}\r\n`;
}
