// A local file as a ByteSource (staged or converted disks, tests).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { ByteSource } from '../types.js';

export async function fileSource(path: string): Promise<ByteSource> {
  const { size } = await stat(path);
  return {
    size,
    supportsRange: true,
    description: `file ${path}`,
    async open(offset: number, signal: AbortSignal): Promise<Readable> {
      return createReadStream(path, { start: offset, highWaterMark: 1024 * 1024, signal });
    },
  };
}
