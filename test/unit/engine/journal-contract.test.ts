// The journal contract on SQLite: two journals on one file, time from a fake clock.
import path from 'node:path';
import { FakeClock } from '../../../src/engine/clock.js';
import { SqliteJournal } from '../../../src/engine/journal/sqlite.js';
import { tmpDir } from './helpers.js';
import { journalContract } from './journal-contract.js';

const clock = new FakeClock(Date.UTC(2030, 0, 1));
journalContract('sqlite', {
  shortTtlMs: 1_000,
  pass: async (ms) => clock.advance(ms),
  open: async () => {
    const file = path.join(tmpDir(), 'journal.db');
    const a = SqliteJournal.open(file, { clock });
    const b = SqliteJournal.open(file, { clock });
    return {
      a,
      b,
      close: async () => {
        await a.close();
        await b.close();
      },
    };
  },
});
