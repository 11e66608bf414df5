import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { reassignCommand } from '../../../src/cli/commands/reassign.js';
import { parseWorkerFlags, workerCommand } from '../../../src/cli/commands/worker.js';
import { parseListen } from '../../../src/fleet/metrics.js';

const never = () => Promise.reject(new Error('not used'));

describe('v2o worker flags', () => {
  it('defaults the name to the host and --max-vms to 2', () => {
    expect(parseWorkerFlags({}, 'conv-01')).toEqual({
      name: 'conv-01',
      maxVms: 2,
      fleetVms: undefined,
      metrics: undefined,
      host: {},
    });
    expect(parseWorkerFlags({ name: 'w2', maxVms: '3', fleetVms: '8' }, 'h').maxVms).toBe(3);
  });
  it('refuses bad numbers and names', () => {
    expect(() => parseWorkerFlags({ maxVms: '0' })).toThrow(/--max-vms 0/);
    expect(() => parseWorkerFlags({ fleetVms: '1.5' })).toThrow(/--fleet-vms/);
    expect(() => parseWorkerFlags({ name: 'a b' })).toThrow(/--name/);
    expect(() => parseWorkerFlags({ conversionHost: ' ' })).toThrow(/--conversion-host is empty/);
    expect(() => parseWorkerFlags({ deviceDir: 'dev/disk' })).toThrow(
      /--device-dir dev\/disk: expected an absolute path/,
    );
  });
  it('passes --conversion-host and --device-dir on as the host settings the runs read', () => {
    expect(parseWorkerFlags({ conversionHost: 'conv-02', deviceDir: '/dev/disk/by-id' }, 'h').host).toEqual({
      conversionHost: 'conv-02',
      deviceDir: '/dev/disk/by-id',
    });
    expect(parseWorkerFlags({ conversionHost: 'auto' }, 'h').host).toEqual({ conversionHost: 'auto' });
  });
  it('parses --metrics HOST:PORT, IPv6 in brackets', () => {
    expect(parseListen('127.0.0.1:9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(() => parseListen('9464')).toThrow(/HOST:PORT/);
    expect(() => parseListen('h:70000')).toThrow(/HOST:PORT/);
  });
});

describe('help', () => {
  for (const [name, mod] of [
    ['worker', workerCommand(never)],
    ['reassign', reassignCommand(never)],
  ] as const) {
    it(`${name} --help has examples and exit codes`, () => {
      let out = '';
      const p = new Command('v2o').exitOverride().configureOutput({
        writeOut: (s) => {
          out += s;
        },
      });
      mod.register(p);
      expect(() => p.parse(['node', 'v2o', name, '--help'])).toThrow();
      expect(out).toContain(`Usage: v2o ${name}`);
      expect(out).toContain('Examples:');
      expect(out).toContain('Exit codes:');
      if (name === 'worker') expect(out).toMatch(/--conversion-host <server>[\s\S]*--device-dir <dir>/);
    });
  }
});
