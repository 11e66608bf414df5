// `v2o logs <run> [--follow]`: the run's log file, as readable lines (or raw JSON lines).
import fs from 'node:fs';
import type { Command } from 'commander';
import { runLogPath } from '../../engine/state-dir.js';
import type { CommandModule } from '../command.js';
import { globalOptions, stateDirOf, withJournal } from '../context.js';
import { exitCodesHelp } from './help.js';

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/** One pino JSON line → `time LEVEL [step] message (error)`. Lines that are not JSON pass as they are. */
function formatLogLine(line: string): string {
  try {
    const o = JSON.parse(line) as {
      time?: number;
      level?: number;
      msg?: string;
      stepId?: string;
      err?: { message?: string };
    };
    const t = o.time ? new Date(o.time).toISOString().slice(11, 23) : '';
    return `${t} ${(LEVELS[o.level ?? 30] ?? '').padEnd(5)} ${o.stepId ? `[${o.stepId}] ` : ''}${o.msg ?? ''}${o.err?.message ? ` (${o.err.message})` : ''}`;
  } catch {
    return line;
  }
}

export const logsCommand: CommandModule = {
  register(program: Command) {
    program
      .command('logs')
      .description("print a run's log (secrets are redacted)")
      .argument('<run>', 'run id')
      .option('-f, --follow', 'keep printing new lines until the run stops (Ctrl-C to quit)')
      .option('--json', 'print the raw JSON lines')
      .addHelpText('after', exitCodesHelp([0, 2]))
      .action(async (runId: string, o: { follow?: boolean; json?: boolean }, cmd: Command) => {
        const globals = globalOptions(cmd);
        await withJournal(globals, (j) => j.requireRun(runId), { create: false });
        const file = runLogPath(stateDirOf(globals), runId);
        let pos = 0;
        let rest = '';
        const drain = () => {
          if (!fs.existsSync(file)) return;
          const size = fs.statSync(file).size;
          if (size <= pos) return;
          const fd = fs.openSync(file, 'r');
          const buf = Buffer.alloc(size - pos);
          fs.readSync(fd, buf, 0, buf.length, pos);
          fs.closeSync(fd);
          pos = size;
          const lines = (rest + buf.toString('utf8')).split('\n');
          rest = lines.pop() ?? '';
          for (const l of lines) if (l) process.stdout.write(`${o.json ? l : formatLogLine(l)}\n`);
        };
        drain();
        if (!o.follow) return;
        // Poll: simple and works on every filesystem. Stop when nobody drives the run any more.
        await new Promise<void>((resolve) => {
          let quiet = 0;
          const timer = setInterval(async () => {
            drain();
            const active = await withJournal(globals, async (j) => (await j.getLease(runId)) !== undefined, {
              create: false,
            });
            quiet = active ? 0 : quiet + 1;
            if (quiet >= 3) finish();
          }, 500);
          const finish = () => {
            clearInterval(timer);
            process.off('SIGINT', finish);
            drain();
            resolve();
          };
          process.on('SIGINT', finish);
        });
      });
  },
};
