// The metrics endpoint as Prometheus scrapes it.
import { describe, expect, it } from 'vitest';
import { createMetrics, metricsObserver, serveMetrics } from '../../../src/fleet/metrics.js';

describe('metrics', () => {
  it('serves the named metrics on /metrics and 404 elsewhere', async () => {
    const m = createMetrics(async () => ({ running: 2, succeeded: 5 }));
    let t = 0;
    const obs = metricsObserver(m, () => t);
    obs.stepStarted('upload-images');
    obs.stepProgress('upload-images', { done: 0, unit: 'bytes' });
    t = 2000;
    obs.stepProgress('upload-images', { done: 4000, unit: 'bytes' });
    obs.stepFinished('upload-images');
    m.leaseTakeover();
    const s = await serveMetrics(m, { host: '127.0.0.1', port: 0 });
    try {
      const res = await fetch(`http://127.0.0.1:${s.address.port}/metrics`);
      expect(res.status).toBe(200);
      const body = await res.text();
      expect(body).toContain('v2o_runs{state="running"} 2');
      expect(body).toContain('v2o_runs{state="failed"} 0');
      expect(body).toContain('v2o_bytes_moved_total 4000');
      expect(body).toContain('v2o_transfer_rate_bytes 2000');
      expect(body).toContain('v2o_step_duration_seconds_sum{step="upload-images"} 2');
      expect(body).toContain('v2o_lease_takeovers_total 1');
      expect((await fetch(`http://127.0.0.1:${s.address.port}/`)).status).toBe(404);
    } finally {
      await s.close();
    }
  });
});
