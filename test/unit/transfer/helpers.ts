// Test helpers: disks made with the real qemu-img, and a local HTTP server that misbehaves on cue.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempDir(prefix = 'v2o-transfer-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A raw disk with `dataBytes` of random data at the start and zeros up to `size`, plus its conversions. */
export function makeDisks(dir: string, size = 8 * 1024 * 1024, dataBytes = 3 * 1024 * 1024) {
  const raw = join(dir, 'disk.raw');
  const buf = Buffer.alloc(size);
  randomBytes(dataBytes).copy(buf);
  writeFileSync(raw, buf);
  const out = (name: string, args: string[]) => {
    const p = join(dir, name);
    execFileSync('qemu-img', ['convert', '-f', 'raw', ...args, raw, p]);
    return p;
  };
  return {
    raw,
    streamOptimized: out('so.vmdk', ['-O', 'vmdk', '-o', 'subformat=streamOptimized']),
    monolithicSparse: out('ms.vmdk', ['-O', 'vmdk', '-o', 'subformat=monolithicSparse']),
    monolithicFlat: out('flat.vmdk', ['-O', 'vmdk', '-o', 'subformat=monolithicFlat']),
    split: out('split.vmdk', ['-O', 'vmdk', '-o', 'subformat=twoGbMaxExtentSparse']),
    qcow2: out('disk.qcow2', ['-O', 'qcow2']),
  };
}

export const head = (path: string, n = 1024 * 1024) => readFileSync(path).subarray(0, n);

export interface Misbehaviour {
  /** Per request index (0-based): cut the connection after this many body bytes. */
  dropAfter?: Record<number, number>;
  /** Per request index: stop sending (keep the socket open) after this many body bytes. */
  stallAfter?: Record<number, number>;
  /** Answer Range requests (default true). */
  range?: boolean;
}

export interface TestServer {
  url: string;
  ranges: (string | undefined)[];
  close(): Promise<void>;
}

/** Serve `data` at /disk with HEAD, optional Range, and scripted drops/stalls. */
export async function serveBytes(data: Buffer, mis: Misbehaviour = {}): Promise<TestServer> {
  const ranges: (string | undefined)[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((req, res) => {
    const useRange = mis.range !== false;
    if (req.method === 'HEAD') {
      res.writeHead(200, {
        'content-length': data.length,
        ...(useRange ? { 'accept-ranges': 'bytes' } : {}),
      });
      return res.end();
    }
    const n = ranges.length;
    ranges.push(req.headers.range);
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m && useRange) {
      start = Number(m[1]);
      res.writeHead(206, {
        'content-length': data.length - start,
        'content-range': `bytes ${start}-${data.length - 1}/${data.length}`,
      });
    } else {
      res.writeHead(200, {
        'content-length': data.length,
        ...(useRange ? { 'accept-ranges': 'bytes' } : {}),
      });
    }
    const body = data.subarray(start);
    const drop = mis.dropAfter?.[n];
    const stall = mis.stallAfter?.[n];
    const cut = drop ?? stall;
    if (cut === undefined) return res.end(body);
    res.write(body.subarray(0, cut), () => {
      if (drop !== undefined) setTimeout(() => req.socket.destroy(), 20);
      // stall: never end; the client has to give up.
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/disk`,
    ranges,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
