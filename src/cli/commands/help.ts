// Help text shared by commands: the exit codes each one can return.
const CODES: Record<number, string> = {
  0: 'ok',
  1: 'failed (journaled; `v2o status <run>`, fix the cause, `v2o resume <run>`)',
  2: 'bad input: unknown run, corrupt/locked/newer journal, workflow version mismatch, blocked plan, run held by another process',
  3: 'waiting: for approval (`v2o approve <run>`, then `v2o resume <run>`), or until a time (`v2o resume <run> --wait`)',
  130: 'interrupted by Ctrl-C / SIGTERM (`v2o resume <run>` continues; a --wait stopped leaves the run as it was)',
};

export function exitCodesHelp(codes: number[]): string {
  return `\nExit codes:\n${codes.map((c) => `  ${String(c).padEnd(4)} ${CODES[c]}`).join('\n')}`;
}
