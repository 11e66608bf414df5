// A local file as the destination of a disk (staged copies, `--output` style exports, tests).
import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { DiskSink, SinkResult, SinkWriteInfo } from '../types.js';

/** Writes to `<path>.part` and renames on success, so a file at `path` is always complete. */
export function fileSink(path: string): DiskSink {
  return {
    description: `file ${path}`,
    async write(stream: Readable, info: SinkWriteInfo): Promise<SinkResult> {
      const part = `${path}.part`;
      try {
        await pipeline(stream, createWriteStream(part), { signal: info.signal });
      } catch (err) {
        await rm(part, { force: true });
        throw err;
      }
      const { size: bytes } = await stat(part);
      await rename(part, path);
      return { path, bytes };
    },
  };
}
