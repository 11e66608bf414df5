// A rate-limited TCP proxy on loopback, like a 1 GbE link between two sites: each direction is paced
// to `bytesPerSecond` across all its connections (a shared link, full duplex). TLS passes through
// untouched, so certificates for 127.0.0.1 still verify.
import net from 'node:net';
import { Transform, type TransformCallback } from 'node:stream';

/** Paces bytes to a rate with a virtual clock; a late wake-up lets the next chunks through at once. */
export class Pacer {
  private next = 0;
  constructor(
    readonly bytesPerSecond: number,
    private readonly burstMs = 20,
  ) {}
  async take(n: number): Promise<void> {
    const now = performance.now();
    const start = Math.max(this.next, now - this.burstMs);
    this.next = start + (n / this.bytesPerSecond) * 1000;
    const wait = this.next - now - this.burstMs;
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
  }
}

function paced(p: Pacer): Transform {
  return new Transform({
    highWaterMark: 64 * 1024,
    transform(chunk: Buffer, _e, cb: TransformCallback) {
      // Pieces of 16 KiB keep the pacing smooth at 100 MB/s.
      const pieces: Buffer[] = [];
      for (let i = 0; i < chunk.length; i += 16 * 1024) pieces.push(chunk.subarray(i, i + 16 * 1024));
      (async () => {
        for (const piece of pieces) {
          await p.take(piece.length);
          this.push(piece);
        }
      })().then(() => cb(), cb);
    },
  });
}

export interface ThrottleProxy {
  port: number;
  /** Bytes moved client→target and target→client. */
  stats: { up: number; down: number };
  close(): Promise<void>;
}

export async function startThrottleProxy(
  target: { host: string; port: number },
  bytesPerSecond: number,
): Promise<ThrottleProxy> {
  const up = new Pacer(bytesPerSecond);
  const down = new Pacer(bytesPerSecond);
  const stats = { up: 0, down: 0 };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (c: Buffer) => {
      stats.up += c.length;
    });
    upstream.on('data', (c: Buffer) => {
      stats.down += c.length;
    });
    client.pipe(paced(up)).pipe(upstream);
    upstream.pipe(paced(down)).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    stats,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
