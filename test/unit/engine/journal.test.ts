import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import {
  JournalCorruptError,
  JournalLockedError,
  JournalTooNewError,
  RunNotFoundError,
} from '../../../src/engine/errors.js';
import { newRunId, toErrorRecord } from '../../../src/engine/journal/records.js';
import { SqliteJournal } from '../../../src/engine/journal/sqlite.js';
import { SCHEMA_VERSION } from '../../../src/engine/journal/sqlite-schema.js';
import { resolveStateDir } from '../../../src/engine/state-dir.js';
import { ExitCode, V2oError } from '../../../src/errors.js';
import { tmpDir } from './helpers.js';

const hash = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');
const open: SqliteJournal[] = [];
afterEach(async () => {
  for (const j of open.splice(0)) await j.close();
});
const openJ = (file: string, o = {}) => {
  const j = SqliteJournal.open(file, o);
  open.push(j);
  return j;
};
const newRun = (j: SqliteJournal) =>
  j.createRun({ workflow: 'w', workflowVersion: 1, subject: 's', params: {}, stepIds: ['a', 'b'], at: 1 });

describe('journal', () => {
  it('creates a WAL journal with mode 0600 at the current schema version', async () => {
    const file = path.join(tmpDir(), 'state', 'journal.db');
    openJ(file);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const db = new Database(file, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
  });

  it('run ids are short and typeable', async () => {
    for (let i = 0; i < 50; i++) expect(newRunId()).toMatch(/^r-[0-9a-hjkmnp-tv-z]{8}$/);
  });

  it('keeps the event log append-only', async () => {
    const j = openJ(path.join(tmpDir(), 'journal.db'));
    await newRun(j);
    const db = new Database(j.file);
    expect(() => db.prepare('UPDATE events SET type = ?').run('x')).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM events').run()).toThrow(/append-only/);
    db.close();
  });

  it('unknown run id: RunNotFoundError (exit 2) naming the journal', async () => {
    const j = openJ(path.join(tmpDir(), 'journal.db'));
    const err = (await j.requireRun('r-nope').catch((e) => e)) as RunNotFoundError;
    expect(err).toBeInstanceOf(RunNotFoundError);
    expect(err.exitCode).toBe(ExitCode.badInput);
    expect(err.message).toContain(j.file);
  });

  it('refuses a journal newer than the program and leaves it untouched', async () => {
    const file = path.join(tmpDir(), 'journal.db');
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    const before = hash(file);
    expect(() => openJ(file)).toThrow(JournalTooNewError);
    expect(hash(file)).toBe(before);
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
  });

  it.each([
    ['garbage', Buffer.from('this is not a database at all, just some text\n'.repeat(200))],
    ['a truncated database', null],
  ])('refuses a corrupt journal (%s) and leaves it untouched', async (_label, content) => {
    const file = path.join(tmpDir(), 'journal.db');
    if (content) {
      fs.writeFileSync(file, content);
    } else {
      const src = path.join(tmpDir(), 'journal.db');
      const j = SqliteJournal.open(src);
      for (let i = 0; i < 50; i++) await newRun(j);
      await j.close();
      const bytes = fs.readFileSync(src);
      fs.writeFileSync(file, Buffer.concat([bytes.subarray(0, 100), Buffer.alloc(bytes.length - 100, 0xab)]));
    }
    const before = hash(file);
    let err: unknown;
    try {
      const j = openJ(file);
      await j.listRuns();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(JournalCorruptError);
    expect((err as JournalCorruptError).hint).toContain('mv');
    expect(hash(file)).toBe(before);
  });

  it('a journal locked by another writer: JournalLockedError after the busy timeout, nothing written', async () => {
    const file = path.join(tmpDir(), 'journal.db');
    const j0 = openJ(file);
    const run = await newRun(j0);
    const other = new Database(file);
    other.exec('BEGIN IMMEDIATE');
    try {
      const j = openJ(file, { busyTimeoutMs: 50 });
      await expect(j.setRunState(run.id, 'cancelled', 2)).rejects.toThrow(JournalLockedError);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect((await j0.requireRun(run.id)).state).toBe('pending');
  });

  it('checkpoints: the newest one wins', async () => {
    const j = openJ(path.join(tmpDir(), 'journal.db'));
    const r = await newRun(j);
    expect(await j.lastCheckpoint(r.id, 'a')).toBeUndefined();
    await j.checkpoint(r.id, 'a', 1, { bytes: 1 });
    await j.checkpoint(r.id, 'a', 2, { bytes: 2 });
    expect(await j.lastCheckpoint(r.id, 'a')).toEqual({ bytes: 2 });
  });

  it('create: false does not create a missing journal', async () => {
    const file = path.join(tmpDir(), 'none', 'journal.db');
    expect(await openJ(file, { create: false }).listRuns()).toEqual([]);
    await expect(openJ(file, { create: false }).requireRun('r-x')).rejects.toThrow(
      `${file} (which does not exist yet)`,
    );
    expect(fs.existsSync(file)).toBe(false);
  });

  it('resolves the state dir: flag, then V2O_STATE_DIR, then XDG_STATE_HOME, then ~/.local/state', async () => {
    expect(resolveStateDir('/a', { V2O_STATE_DIR: '/b' })).toBe('/a');
    expect(resolveStateDir(undefined, { V2O_STATE_DIR: '/b', XDG_STATE_HOME: '/c' })).toBe('/b');
    expect(resolveStateDir(undefined, { XDG_STATE_HOME: '/c' })).toBe('/c/v2o');
    expect(resolveStateDir(undefined, { HOME: '/home/u' })).toBe('/home/u/.local/state/v2o');
  });
});

describe('error records', () => {
  it('keep the evidence of a V2oError (detail) for `v2o status`, scrubbed like the message', async () => {
    const rec = toErrorRecord(
      new V2oError('no boot', { hint: 'look', detail: 'SeaBIOS\nBooting from Hard Disk...' }),
    );
    expect(rec).toEqual({
      name: 'V2oError',
      message: 'no boot',
      hint: 'look',
      detail: 'SeaBIOS\nBooting from Hard Disk...',
    });
    expect(toErrorRecord(new Error('plain'))).toEqual({ name: 'Error', message: 'plain' });
  });
});
