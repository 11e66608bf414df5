// Convert a streamed disk to qcow2/raw with qemu-img and no staged copy of the input: v2o serves the
// source to qemu-img over NBD on a private unix socket (qemu-img cannot read a pipe), answering its reads
// from one long Range-capable GET. The output file is the only local copy.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InterruptedError } from '../errors.js';
import { ConversionError } from './errors.js';
import { startNbdServer } from './nbd-server.js';
import { type RandomAccessOptions, RandomAccessReader } from './random-access.js';
import type { ByteSource } from './types.js';

export interface ConvertOptions extends RandomAccessOptions {
  source: ByteSource;
  /** qemu-img -f: the detected, checked format of the source (never probed). */
  inputFormat: 'vmdk' | 'qcow2' | 'raw';
  outputFormat: 'qcow2' | 'raw';
  outPath: string;
  qemuImg?: string;
  /** Called with the highest source offset read so far. */
  onProgress?: (offset: number) => void;
  signal: AbortSignal;
}

export interface ConvertResult {
  /** Source bytes pulled over the network (including re-reads after jumps). */
  bytesFetched: number;
  opens: number;
}

/** Arguments for qemu-img; pure, so tests check them (explicit -f: probing is a known attack). */
export function qemuImgConvertArgs(
  input: string,
  inputFormat: string,
  outputFormat: string,
  out: string,
): string[] {
  const opts = outputFormat === 'qcow2' ? ['-o', 'compat=1.1'] : [];
  // -m 1: one reader coroutine keeps the reads in order for the sequential reader behind NBD.
  return ['convert', '-f', inputFormat, '-O', outputFormat, ...opts, '-m', '1', input, out];
}

export async function convertStream(o: ConvertOptions): Promise<ConvertResult> {
  if (o.source.size === undefined) {
    throw new ConversionError(`${o.source.description}: size unknown, cannot serve it to qemu-img`);
  }
  const reader = new RandomAccessReader(o.source, o);
  // Unix socket paths are limited to 108 bytes, so not under a deep work directory.
  const dir = await mkdtemp(join(tmpdir(), 'v2o-nbd-'));
  const nbd = await startNbdServer(join(dir, 'disk.sock'), {
    size: o.source.size,
    read: async (off, len) => {
      const b = await reader.read(off, len);
      o.onProgress?.(reader.highWater);
      return b;
    },
  });
  try {
    const args = qemuImgConvertArgs(nbd.uri, o.inputFormat, o.outputFormat, o.outPath);
    await runQemuImg(o.qemuImg ?? 'qemu-img', args, o.signal, () => nbd.readError);
    return { bytesFetched: reader.bytesFetched, opens: reader.opens };
  } finally {
    reader.close();
    await nbd.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export function runQemuImg(
  bin: string,
  args: string[],
  signal: AbortSignal,
  realCause: () => unknown = () => undefined,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      if (err.length < 8192) err += d;
    });
    const onAbort = () => child.kill('SIGTERM');
    signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => {
      signal.removeEventListener('abort', onAbort);
      reject(
        new ConversionError(`cannot run ${bin}: ${e.message}`, {
          cause: e,
          hint: 'Install qemu-img (Debian/Ubuntu: apt-get install qemu-utils).',
        }),
      );
    });
    child.on('close', (code) => {
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted) return reject(new InterruptedError('conversion aborted', { cause: signal.reason }));
      if (code === 0) return resolve(out);
      const cause = realCause();
      // The source's own error (stall, HTTP) is the useful one; qemu-img only saw an I/O error.
      if (cause instanceof Error && 'hint' in cause) return reject(cause);
      reject(new ConversionError(`qemu-img ${args[0]} failed (exit ${code}): ${err.trim()}`, { cause }));
    });
  });
}
