import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { installInterruptHandlers } from '../../../src/cli/signals.js';
import { spawnCli, tmpState } from './helpers.js';

describe('interrupt handlers', () => {
  it('the first SIGINT aborts the run signal; the second exits 130 at once', () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const err = new PassThrough();
    const i = installInterruptHandlers(err);
    try {
      process.emit('SIGINT', 'SIGINT');
      expect(i.signal.aborted).toBe(true);
      expect(exit).not.toHaveBeenCalled();
      expect(String(err.read())).toContain('press Ctrl-C again to exit at once');
      process.emit('SIGINT', 'SIGINT');
      expect(exit).toHaveBeenCalledWith(130);
    } finally {
      i.dispose();
      exit.mockRestore();
    }
    expect(process.listenerCount('SIGINT')).toBe(0);
  });
});

describe('a reader that goes away', () => {
  it('`v2o … | head`: output into a closed pipe ends quietly, not with an EPIPE stack trace', async () => {
    const child = spawnCli(tmpState(), 'list', '--json');
    // The read end closes long before the child has started and written anything.
    child.proc.stdout?.destroy();
    const { code } = await child.exit;
    expect(child.output()).not.toMatch(/EPIPE|Unhandled/);
    expect(code).toBe(0);
  }, 20_000);
});
