// The ExportVm lease flow: wait for the lease to be ready, stream each disk URL (with Range to
// resume), keep the lease alive with HttpNfcLeaseProgress, then Complete or Abort.
import type https from 'node:https';
import type { Readable } from 'node:stream';
import { normalizeThumbprint } from '../config.js';
import { httpNfcLeaseAbort, httpNfcLeaseComplete, httpNfcLeaseProgress } from '../methods/http-nfc-lease.js';
import { exportVm as exportVmMethod } from '../methods/virtual-machine.js';
import { createAgent } from '../soap/tls.js';
import { arr, type XmlObject } from '../soap/xml.js';
import type { MoRef } from '../types.js';
import type { VSphereClient } from './client.js';
import { expectStatus, resolveStarHost, withSession } from './http.js';
import { retrieveOne } from './property.js';
import { faultFromLocalized } from './task.js';
import type { OpOptions } from './vm.js';
import { waitForProperties } from './wait.js';

export interface NfcDeviceUrl {
  /** vCenter's device key, e.g. "/vm-42/VirtualLsiLogicSASController0:0". */
  key: string;
  importKey: string;
  /** Download URL, `*` already replaced by the vCenter host. */
  url: URL;
  /** File name on the lease ("disk-0.vmdk"). */
  targetId?: string;
  /** Bytes, when the server says (streamOptimized VMDKs: often unknown until read). */
  fileSize?: number;
  disk: boolean;
  /** SHA-1 thumbprint of the ESXi host serving the URL (when not vCenter). */
  sslThumbprint?: string;
  datastoreKey?: string;
}

/** Default HttpNfcLeaseProgress interval: well inside vCenter's 5-minute lease timeout. */
export const LEASE_KEEPALIVE_MS = 30_000;

/** A running keep-alive (govmomi's LeaseUpdater); stop() may be called any number of times. */
export interface KeepAlive {
  stop(): void;
}

export class NfcLease {
  readonly client: VSphereClient;
  readonly ref: MoRef;
  readonly deviceUrls: NfcDeviceUrl[];
  readonly totalDiskCapacityKB: number;
  /** Seconds the server keeps the lease without progress. */
  readonly leaseTimeout: number;
  #keepAlive?: KeepAlive;
  #agents = new Map<string, https.Agent>();
  #done = false;

  constructor(client: VSphereClient, ref: MoRef, info: XmlObject) {
    this.client = client;
    this.ref = ref;
    this.totalDiskCapacityKB = Number(info.totalDiskCapacityInKB ?? 0);
    this.leaseTimeout = Number(info.leaseTimeout ?? 0);
    this.deviceUrls = arr<XmlObject>(info.deviceUrl).map((d) => {
      const size = Number(d.fileSize);
      return {
        key: String(d.key ?? ''),
        importKey: String(d.importKey ?? ''),
        url: resolveStarHost(String(d.url ?? ''), client.host),
        targetId: typeof d.targetId === 'string' ? d.targetId : undefined,
        fileSize: Number.isFinite(size) && size > 0 ? size : undefined,
        disk: d.disk === 'true',
        sslThumbprint: typeof d.sslThumbprint === 'string' && d.sslThumbprint ? d.sslThumbprint : undefined,
        datastoreKey: typeof d.datastoreKey === 'string' ? d.datastoreKey : undefined,
      };
    });
  }

  // URLs on vCenter use the session's agent; an ESXi host is pinned to the thumbprint the lease gives.
  #agentFor(d: NfcDeviceUrl): https.Agent | undefined {
    if (d.url.host === this.client.host || !d.sslThumbprint) return undefined;
    let a = this.#agents.get(d.url.host);
    if (!a) {
      a = createAgent({}, normalizeThumbprint(d.sslThumbprint));
      this.#agents.set(d.url.host, a);
    }
    return a;
  }

  /**
   * Opens a device URL for reading from `offset` (Range) and returns the body stream. The stream
   * carries `contentLength` when the server sends it.
   */
  async open(
    d: NfcDeviceUrl,
    opts: { offset?: number; signal?: AbortSignal } = {},
  ): Promise<Readable & { contentLength?: number }> {
    const offset = opts.offset ?? 0;
    const res = await withSession(
      this.client,
      async () => {
        const r = await this.client.transport.request({
          method: 'GET',
          url: d.url,
          headers: offset > 0 ? { Range: `bytes=${offset}-` } : {},
          signal: opts.signal,
          agent: this.#agentFor(d),
          timeoutMs: 0,
        });
        await expectStatus(r, 'GET', d.url, offset > 0 ? [206] : [200]);
        return r;
      },
      opts.signal,
    );
    const len = Number(res.headers['content-length']);
    return Object.assign(res, { contentLength: Number.isFinite(len) ? len : undefined });
  }

  /** One HttpNfcLeaseProgress (0–100). */
  async progress(percent: number, opts: { signal?: AbortSignal } = {}): Promise<void> {
    await httpNfcLeaseProgress(this.client, this.ref, percent, { signal: opts.signal });
  }

  /**
   * Sends HttpNfcLeaseProgress(getPercent()) every `intervalMs` (default 30 s) until stop(),
   * complete() or abort(), like govmomi's `lease.StartUpdater(ctx, info)` → `defer u.Done()`.
   * Starting another replaces this one. Failures are logged, not thrown: the transfer itself
   * notices a dead lease, and a missed beat is harmless well inside the lease timeout.
   */
  startKeepAlive(getPercent: () => number, opts: { intervalMs?: number } = {}): KeepAlive {
    this.#keepAlive?.stop();
    const beat = () => {
      const warn = (err: unknown) =>
        this.client.log?.warn(
          { lease: this.ref.value, err: err instanceof Error ? err.message : String(err) },
          'lease keep-alive failed',
        );
      try {
        this.progress(getPercent()).catch(warn);
      } catch (err) {
        warn(err);
      }
    };
    const timer = setInterval(beat, opts.intervalMs ?? LEASE_KEEPALIVE_MS);
    timer.unref();
    const handle: KeepAlive = {
      stop: () => {
        clearInterval(timer);
        if (this.#keepAlive === handle) this.#keepAlive = undefined;
      },
    };
    this.#keepAlive = handle;
    return handle;
  }

  /** Ends the lease successfully (the export is done). */
  async complete(): Promise<void> {
    this.#keepAlive?.stop();
    if (this.#done) return;
    this.#done = true;
    try {
      await httpNfcLeaseComplete(this.client, this.ref);
    } finally {
      this.#freeAgents();
    }
  }

  /** Gives the lease up; `reason` is recorded by vCenter. */
  async abort(reason?: string | Error): Promise<void> {
    this.#keepAlive?.stop();
    if (this.#done) return;
    this.#done = true;
    try {
      await httpNfcLeaseAbort(this.client, this.ref, reason instanceof Error ? reason.message : reason);
    } finally {
      this.#freeAgents();
    }
  }

  #freeAgents(): void {
    for (const a of this.#agents.values()) a.destroy();
    this.#agents.clear();
  }
}

/**
 * ExportVm on a powered-off VM, waiting (default 5 min) for the lease to be ready.
 * InvalidPowerState when the VM is on; the lease's error as VSphereFault.
 */
export async function exportVm(client: VSphereClient, vm: MoRef, opts: OpOptions = {}): Promise<NfcLease> {
  const ref = await exportVmMethod(client, vm, { signal: opts.signal });
  const state = await waitForProperties(
    client,
    ref,
    ['state', 'error'],
    (p) => (p.state === 'ready' || p.state === 'error' ? { state: p.state, error: p.error } : undefined),
    { signal: opts.signal, timeoutMs: opts.timeoutMs ?? 5 * 60_000 },
  );
  if (state.state === 'error') throw faultFromLocalized(state.error, 'ExportVm');
  const o = await retrieveOne(client, ref, ['info'], { signal: opts.signal });
  return new NfcLease(client, ref, (o.props.info ?? {}) as XmlObject);
}
