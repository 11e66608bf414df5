// The line the first-boot task writes to COM1 (script.ts), as it appears in the Nova console log:
//   v2o-firstboot: {"runId":"…","uuid":"…","hostname":"…","osBuild":"…","bus":"…","time":"…","result":{…}}
// Only the guest's own line counts as a boot: ACTIVE says nothing about Windows. `result` (config
// version 2) is what the task applied, read back from Windows (FirstbootResult). Pure.
import type { FirstbootResult } from './actions.js';

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
  /** What the replay applied (firstboot.json version 2); absent from a version-1 task's line. */
  result?: FirstbootResult;
}

const arr = <T>(v: unknown): T[] =>
  Array.isArray(v) ? (v as T[]) : v === undefined || v === null ? [] : [v as T];

/**
 * The `result` object as the task's ConvertTo-Json wrote it; undefined when it is not one. Lists
 * are taken as lists even when PowerShell unwrapped a single element, MACs in v2o's form.
 */
export function parseResult(v: unknown): FirstbootResult | undefined {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const r = v as Record<string, unknown>;
  if (typeof r.boot !== 'number') return undefined;
  const adapters = arr<Record<string, unknown>>(r.adapters).map((a) => ({
    name: String(a.name ?? ''),
    mac: String(a.mac ?? '')
      .toLowerCase()
      .replace(/-/g, ':'),
    dhcp: a.dhcp === true,
    ipv4: arr<{ address: string; prefixLength: number }>(a.ipv4),
    ipv6: arr<{ address: string; prefixLength: number }>(a.ipv6),
    gateways: arr<{ nextHop: string; metric: number }>(a.gateways),
    routes: arr<{ destination: string; nextHop: string; metric: number }>(a.routes),
    dnsServers: arr<string>(a.dnsServers).map(String),
    ...(typeof a.dnsSuffix === 'string' && a.dnsSuffix ? { dnsSuffix: a.dnsSuffix } : {}),
    ...(typeof a.category === 'string'
      ? { category: a.category as FirstbootResult['adapters'][number]['category'] }
      : {}),
  }));
  return {
    boot: r.boot,
    adapters,
    ghostsRemoved: arr<string>(r.ghostsRemoved).map(String),
    ...(typeof r.sanPolicy === 'string' ? { sanPolicy: r.sanPolicy as FirstbootResult['sanPolicy'] } : {}),
    disks: arr<Record<string, unknown>>(r.disks).map((d) => ({
      number: Number(d.number),
      online: d.online === true,
      letters: arr<string>(d.letters).map((l) =>
        String(l)
          .replace(/[:\\]+$/, '')
          .toUpperCase(),
      ),
    })),
    ...(r.guestAgent === 'installed' || r.guestAgent === 'failed' ? { guestAgent: r.guestAgent } : {}),
    ...(r.vmwareTools === 'removed' || r.vmwareTools === 'kept' || r.vmwareTools === 'failed'
      ? { vmwareTools: r.vmwareTools }
      : {}),
    failed: arr<Record<string, unknown>>(r.failed).map((f) => ({
      action: String(f.action ?? ''),
      ...(f.target !== undefined && f.target !== null && f.target !== '' ? { target: String(f.target) } : {}),
      message: String(f.message ?? ''),
    })),
  };
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
      const result = parseResult(j.result);
      out.push({
        runId: j.runId,
        uuid: j.uuid.toLowerCase(),
        hostname: str('hostname'),
        osBuild: str('osBuild'),
        bus: str('bus'),
        time: str('time'),
        ...(result ? { result } : {}),
      });
    } catch {
      // a garbled line (two writers on COM1) is not a marker
    }
  }
  return out;
}

/**
 * The marker of this run from this server; another run's or an earlier server's does not count.
 * The last one: a task that failed an action writes a line at each of its boots.
 */
export function findMarker(log: string, runId: string, serverId: string): FirstbootMarker | undefined {
  return parseMarkers(log).findLast((m) => m.runId === runId && m.uuid === serverId.toLowerCase());
}

/** The last `n` lines of a console log: the evidence kept with a failed attempt. */
export function consoleTail(log: string, n = 30): string {
  const lines = log.replace(/\r\n/g, '\n').replace(/\n+$/, '').split('\n');
  return lines.slice(-n).join('\n');
}
