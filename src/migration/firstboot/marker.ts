// The line the first-boot task writes to COM1 (script.ts), as it appears in the Nova console log:
//   v2o-firstboot: {"runId":"…","uuid":"…","hostname":"…","osBuild":"…","bus":"…","time":"…"}
// Only the guest's own line counts as a boot: ACTIVE says nothing about Windows. Pure.

export const MARKER_PREFIX = 'v2o-firstboot: ';

export interface FirstbootMarker {
  runId: string;
  /** The SMBIOS system UUID, lower case: Nova's server id. */
  uuid: string;
  hostname: string;
  osBuild: string;
  /** virtio | scsi | sata as Windows sees the boot disk's controller (or its driver's name). */
  bus: string;
  time: string;
}

/** Every well-formed marker in a console log, in order. Lines that do not parse are skipped. */
export function parseMarkers(log: string): FirstbootMarker[] {
  const out: FirstbootMarker[] = [];
  for (const raw of log.split(/\r?\n/)) {
    // Firmware or the kernel can leave bytes before the line on a shared serial port.
    const at = raw.indexOf(MARKER_PREFIX);
    if (at < 0) continue;
    try {
      const j = JSON.parse(raw.slice(at + MARKER_PREFIX.length).trim()) as Record<string, unknown>;
      if (typeof j.runId !== 'string' || typeof j.uuid !== 'string') continue;
      const str = (k: string) => (typeof j[k] === 'string' ? (j[k] as string) : '');
      out.push({
        runId: j.runId,
        uuid: j.uuid.toLowerCase(),
        hostname: str('hostname'),
        osBuild: str('osBuild'),
        bus: str('bus'),
        time: str('time'),
      });
    } catch {
      // a garbled line (two writers on COM1) is not a marker
    }
  }
  return out;
}

/** The marker of this run from this server; another run's or an earlier server's does not count. */
export function findMarker(log: string, runId: string, serverId: string): FirstbootMarker | undefined {
  return parseMarkers(log).find((m) => m.runId === runId && m.uuid === serverId.toLowerCase());
}

/** The last `n` lines of a console log: the evidence kept with a failed attempt. */
export function consoleTail(log: string, n = 30): string {
  const lines = log.replace(/\r\n/g, '\n').replace(/\n+$/, '').split('\n');
  return lines.slice(-n).join('\n');
}
