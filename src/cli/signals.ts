// Ctrl-C / SIGTERM: the first aborts the run through its signal (the runner records the step
// interrupted and returns 130); the second exits at once.
export interface Interrupt {
  signal: AbortSignal;
  dispose(): void;
}

export function installInterruptHandlers(
  stderr: NodeJS.WritableStream = process.stderr,
  /** What the first signal does, as the operator reads it. */
  what = 'stopping the current step',
): Interrupt {
  const ctl = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (ctl.signal.aborted) process.exit(130);
    stderr.write(`\n${sig}: ${what} (press Ctrl-C again to exit at once)\n`);
    ctl.abort(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: ctl.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
