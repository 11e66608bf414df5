// Run logs: pino JSON lines, one file per run, secrets redacted (src/redaction.ts has the list).
import fs from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { redactOptions } from '../redaction.js';

export interface RunLogger {
  log: Logger;
  file: string;
  close(): void;
}

/** Opens <state>/runs/<run>.log (mode 0600, synchronous writes so a crash loses nothing). */
export function createRunLogger(file: string, runId: string, level = 'debug'): RunLogger {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const dest = pino.destination({ dest: file, sync: true, mkdir: true, mode: 0o600, append: true });
  const log = pino({ level, redact: redactOptions, base: { runId } }, dest);
  return {
    log,
    file,
    close: () => {
      try {
        dest.flushSync();
      } catch {
        // already closed or nothing buffered
      }
      dest.end();
    },
  };
}

/** A logger that drops everything; for plans and tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
