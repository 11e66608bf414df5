// A rate-limited TCP proxy on loopback, like a 1 GbE link between two sites: each direction is paced
// to `bytesPerSecond` across all its connections (a shared link, full duplex). TLS passes through
// untouched, so certificates for 127.0.0.1 still verify.
import net from 'node:net';

/** Paces bytes to a rate with a virtual clock; a late wake-up lets the next chunks through at once. */
export class Pacer {
  private next = 0;
  constructor(
    readonly bytesPerSecond: number,
    private readonly burstMs = 20,
  ) {}
  /** Accounts `n` bytes sent now; returns how long the sender must wait before its next chunk (ms). */
  account(n: number): number {
    const now = performance.now();
    const start = Math.max(this.next, now - this.burstMs);
    this.next = start + (n / this.bytesPerSecond) * 1000;
    return this.next - now - this.burstMs;
  }
}

/**
 * Copies `from` to `to` at the pacer's rate: each chunk is written as it comes, and the source is
 * paused while the link is ahead of its rate (or the receiver is full). No copy, no promise per
 * chunk: the proxy's own CPU must not be what limits a benchmark on 2 cores.
 */
function pacedPipe(from: net.Socket, to: net.Socket, p: Pacer, count: (n: number) => void): void {
  let paused = 0; // reasons to stay paused: the link ahead of its rate, the receiver full
  const hold = () => {
    if (paused++ === 0) from.pause();
  };
  const release = () => {
    if (--paused === 0) from.resume();
  };
  from.on('data', (c: Buffer) => {
    count(c.length);
    if (!to.write(c)) {
      hold();
      to.once('drain', release);
    }
    const wait = p.account(c.length);
    if (wait > 1) {
      hold();
      setTimeout(release, wait);
    }
  });
  from.on('end', () => to.end());
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
    pacedPipe(client, upstream, up, (n) => {
      stats.up += n;
    });
    pacedPipe(upstream, client, down, (n) => {
      stats.down += n;
    });
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
