import { describe, expect, it } from 'vitest';
import { splitByLease } from '../../../bench/fleet-latency.js';

// The takeover bench once killed the idle worker of a later round (it looked for the lease holder
// by round 0's name, 'bench-2'), so the real holder kept the run and no takeover ever came.
describe('splitByLease (bench/fleet-latency.ts)', () => {
  const w3 = { name: 'bench-3', pid: 300 };
  const w4 = { name: 'bench-4', pid: 400 };

  it('kills the worker the lease names, in any round and either position', () => {
    expect(splitByLease({ worker: 'bench-4', pid: 400 }, [w3, w4])).toEqual({ dying: w4, surviving: w3 });
    expect(splitByLease({ worker: 'bench-3', pid: 300 }, [w3, w4])).toEqual({ dying: w3, surviving: w4 });
    expect(splitByLease({ worker: 'bench-4', pid: 400 }, [w4, w3])).toEqual({ dying: w4, surviving: w3 });
  });

  it('refuses a lease held by neither worker (a stale name, a reused pid, no lease)', () => {
    expect(() => splitByLease({ worker: 'bench-2', pid: 200 }, [w3, w4])).toThrow(
      /held by bench-2 \(pid 200\), not by bench-3 \(pid 300\) or bench-4 \(pid 400\)/,
    );
    expect(() => splitByLease({ worker: 'bench-4', pid: 401 }, [w3, w4])).toThrow(/held by bench-4/);
    expect(() => splitByLease(undefined, [w3, w4])).toThrow(/held by nobody/);
  });
});
