// A local HTTP server serving `bytes=a-b` Range requests of a buffer, counting the bytes it sent,
// and a DiskReader over it (what the datastore reader does, without vSphere's session).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import type { DiskReader } from '../../../src/transfer/disk-reader.js';

export interface RangeServer {
  url: string;
  /** Body bytes sent so far. */
  sent: number;
  ranges: string[];
  /** Per request index: stop sending (socket left open) after this many bytes. */
  stallAfter: Record<number, number>;
  close(): Promise<void>;
}

export async function serveRanges(data: Buffer): Promise<RangeServer> {
  const sockets = new Set<import('node:net').Socket>();
  const state: RangeServer = {
    url: '',
    sent: 0,
    ranges: [],
    stallAfter: {},
    close: async () => {},
  };
  const server = http.createServer((req, res) => {
    const n = state.ranges.length;
    const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    state.ranges.push(req.headers.range ?? '');
    if (!m) {
      res.writeHead(416);
      return res.end();
    }
    const start = Number(m[1]);
    const end = Math.min(Number(m[2]), data.length - 1);
    res.writeHead(206, {
      'content-length': end - start + 1,
      'content-range': `bytes ${start}-${end}/${data.length}`,
    });
    let body = data.subarray(start, end + 1);
    const stall = state.stallAfter[n];
    if (stall !== undefined) body = body.subarray(0, stall);
    // 64 KiB writes, so a reader that stops mid-way leaves most bytes unsent.
    let at = 0;
    const pump = () => {
      while (at < body.length) {
        const c = body.subarray(at, at + 65536);
        at += c.length;
        state.sent += c.length;
        if (!res.write(c)) return res.once('drain', pump);
      }
      if (stall === undefined) res.end();
    };
    pump();
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/disk`;
  state.close = () =>
    new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    });
  return state;
}

export function httpRangeReader(url: string, size: number): DiskReader {
  return {
    size,
    description: url,
    readRange(offset, length, signal) {
      return new Promise<Readable>((resolve, reject) => {
        const req = http.get(
          url,
          { headers: { range: `bytes=${offset}-${offset + length - 1}` }, signal },
          (res) => {
            if (res.statusCode !== 206) {
              res.resume();
              reject(new Error(`HTTP ${res.statusCode}`));
            } else resolve(res);
          },
        );
        req.on('error', reject);
      });
    },
  };
}
