// Which conversion host a run uses: the plan's, or the one the worker driving it says it runs on
// (`v2o worker --conversion-host/--device-dir`), never by rewriting the journaled params.
import { describe, expect, it } from 'vitest';
import {
  conversionHost,
  conversionHostOverride,
  conversionHostSettings,
  deviceOptions,
  effectiveConversionHost,
  pinToThisWorker,
} from '../../../src/migration/copy/conversion-host.js';
import { DEFAULT_CONVERSION_HOST } from '../../../src/migration/plan-file.js';
import { ctx, FakeTarget, params } from './fakes.js';

const PLAN = { ...DEFAULT_CONVERSION_HOST, server: 'conv-01', deviceDir: '/plan/by-id' };
const NAMED = '    conversionHost: { server: conv-01, deviceDir: /plan/by-id }\n';

describe('the conversion host of a run', () => {
  it("is the plan's, with what the worker says over it, key by key", () => {
    expect(effectiveConversionHost(PLAN, undefined)).toEqual(PLAN);
    expect(effectiveConversionHost(PLAN, {})).toEqual(PLAN);
    expect(effectiveConversionHost(PLAN, { server: 'conv-02' })).toEqual({ ...PLAN, server: 'conv-02' });
    expect(effectiveConversionHost(PLAN, { server: 'auto', deviceDir: '/dev/disk/by-id' })).toEqual({
      ...PLAN,
      server: 'auto',
      deviceDir: '/dev/disk/by-id',
    });
    // A plan without one routes no disk to volumes: a worker's flags do not invent one.
    expect(effectiveConversionHost(undefined, { server: 'conv-02' })).toBeUndefined();
  });

  it("reads the worker's flags from the engine's host settings", () => {
    expect(conversionHostOverride({})).toEqual({});
    expect(conversionHostOverride({ conversionHost: 'conv-02', deviceDir: '/d', other: 'x' })).toEqual({
      server: 'conv-02',
      deviceDir: '/d',
    });
  });

  it('is what every step looks up: the server asked for and the device directory', async () => {
    const asked: string[] = [];
    const target = new FakeTarget();
    const find = target.findConversionHost.bind(target);
    target.findConversionHost = async (spec) => {
      asked.push(spec.server);
      return find(spec);
    };
    const p = params(NAMED);
    const c = ctx('precopy', { target, conversionHost: { server: 'conv-02', deviceDir: '/here/by-id' } }, p);
    expect(conversionHostSettings(c)).toMatchObject({ server: 'conv-02', deviceDir: '/here/by-id' });
    expect(deviceOptions(c).deviceDir).toBe('/here/by-id');
    await conversionHost(c);
    expect(asked).toEqual(['conv-02']);
    // The journaled params are untouched.
    expect(p.plan.settings.conversionHost).toMatchObject({ server: 'conv-01', deviceDir: '/plan/by-id' });

    const plain = ctx('precopy', { target }, params(NAMED));
    expect(deviceOptions(plain).deviceDir).toBe('/plan/by-id');
    await conversionHost(plain);
    expect(asked).toEqual(['conv-02', 'conv-01']);
  });

  it("a host not found names the worker's flag when the worker named it", async () => {
    const target = new FakeTarget();
    target.host = undefined;
    const c = ctx('attach-volumes', { target, conversionHost: { server: 'conv-09' } }, params(NAMED));
    await expect(conversionHost(c)).rejects.toMatchObject({
      name: 'ConversionHostError',
      message: expect.stringMatching(/conversion host \(conv-09\) was not found/),
      hint: expect.stringMatching(/v2o worker --conversion-host/),
    });
    const none = ctx('attach-volumes', { target }, params());
    expect(() => conversionHostSettings(none)).toThrow(/the plan has no conversion host/);
  });

  it('pins the run to the worker that holds its volumes, and to nobody from a CLI process', () => {
    const pins: (string | null)[] = [];
    const base = ctx('attach-volumes', {}, params(NAMED));
    const setAffinity = async (w: string | null) => void pins.push(w);
    pinToThisWorker({ ...base, setAffinity, worker: 'conv-02' });
    pinToThisWorker({ ...base, setAffinity });
    expect(pins).toEqual(['conv-02']);
  });
});
