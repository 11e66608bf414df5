// Prometheus metrics of a worker (prom-client, its own registry) and the HTTP server that serves them
// on `v2o worker --metrics HOST:PORT` at /metrics.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import client from 'prom-client';
import { ConfigError } from '../errors.js';

const RUN_STATES = ['pending', 'running', 'waiting', 'succeeded', 'failed', 'cancelled'] as const;

export interface FleetMetrics {
  readonly registry: client.Registry;
  bytesMoved(n: number): void;
  transferRate(bytesPerSecond: number): void;
  stepDuration(step: string, seconds: number): void;
  leaseTakeover(): void;
}

/** `runsByState` is read at each scrape (the journal is the truth, not this process's view). */
export function createMetrics(runsByState: () => Promise<Partial<Record<string, number>>>): FleetMetrics {
  const registry = new client.Registry();
  new client.Gauge({
    name: 'v2o_runs',
    help: 'Runs in the journal by state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const counts = await runsByState();
      for (const s of RUN_STATES) this.set({ state: s }, counts[s] ?? 0);
    },
  });
  const bytes = new client.Counter({
    name: 'v2o_bytes_moved_total',
    help: 'Disk bytes this worker moved',
    registers: [registry],
  });
  const rate = new client.Gauge({
    name: 'v2o_transfer_rate_bytes',
    help: 'Current transfer rate of this worker, bytes per second',
    registers: [registry],
  });
  const steps = new client.Histogram({
    name: 'v2o_step_duration_seconds',
    help: 'Duration of step attempts',
    labelNames: ['step'],
    buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 14400],
    registers: [registry],
  });
  const takeovers = new client.Counter({
    name: 'v2o_lease_takeovers_total',
    help: 'Runs this worker took over from a holder whose lease had expired',
    registers: [registry],
  });
  return {
    registry,
    bytesMoved: (n) => n > 0 && bytes.inc(n),
    transferRate: (bps) => rate.set(bps),
    stepDuration: (step, s) => steps.observe({ step }, s),
    leaseTakeover: () => takeovers.inc(),
  };
}

/**
 * A RunObserver (src/engine/runner.ts's shape) feeding the metrics: step durations, and bytes and rate
 * from progress updates with unit 'bytes' (done counts up per step attempt).
 */
export function metricsObserver(m: FleetMetrics, now: () => number = Date.now) {
  const started = new Map<string, number>();
  const last = new Map<string, { done: number; at: number }>();
  return {
    stepStarted(stepId: string) {
      started.set(stepId, now());
      last.delete(stepId);
    },
    stepProgress(stepId: string, u: { done?: number; unit?: 'bytes' | 'items' }) {
      if (u.unit !== 'bytes' || u.done === undefined) return;
      const prev = last.get(stepId);
      const at = now();
      if (prev && u.done >= prev.done) {
        m.bytesMoved(u.done - prev.done);
        if (at > prev.at) m.transferRate(((u.done - prev.done) * 1000) / (at - prev.at));
      }
      last.set(stepId, { done: u.done, at });
    },
    stepFinished(stepId: string) {
      const t = started.get(stepId);
      if (t !== undefined) m.stepDuration(stepId, (now() - t) / 1000);
      started.delete(stepId);
      last.delete(stepId);
    },
  };
}

/** `HOST:PORT` (an IPv6 host in brackets) → its parts; ConfigError naming the flag otherwise. */
export function parseListen(s: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || !(port >= 0 && port <= 65535))
    throw new ConfigError(`--metrics ${s}: expected HOST:PORT`, {
      hint: 'for example --metrics 127.0.0.1:9464 (IPv6: --metrics [::1]:9464)',
    });
  return { host: (m[1] ?? m[2])!, port };
}

export interface MetricsServer {
  readonly address: { host: string; port: number };
  close(): Promise<void>;
}

export async function serveMetrics(
  m: FleetMetrics,
  listen: { host: string; port: number },
): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics here\n');
      return;
    }
    m.registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': m.registry.contentType }).end(body),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new ConfigError(`cannot serve metrics on ${listen.host}:${listen.port}: ${err.code ?? err.message}`, {
          cause: err,
          hint: 'choose another --metrics HOST:PORT (the port may be in use)',
        }),
      ),
    );
    server.listen(listen.port, listen.host, resolve);
  });
  const a = server.address() as AddressInfo;
  return {
    address: { host: listen.host, port: a.port },
    close: () => new Promise((r) => server.close(() => r())),
  };
}
