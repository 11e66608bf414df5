// A TCP proxy on loopback that a test can cut and restore: the network between one worker and
// PostgreSQL. Bytes pass untouched (TLS too: the lab's certificate names 127.0.0.1, and only the
// port changes). Two ways to cut:
//   - 'reset': every connection is reset and new ones are refused, as when the database host is gone;
//   - 'silent': nothing is closed, nothing passes (new connections are accepted, never answered), as
//     when a link drops packets; restore() then lets the held bytes through, as TCP retransmits once
//     the partition heals, so late writes of the cut-off side do reach the database.
import net from 'node:net';

export type Cut = 'reset' | 'silent';

export interface TcpProxy {
  readonly port: number;
  cut(how?: Cut): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function tcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const pairs = new Set<[net.Socket, net.Socket]>();
  /** Connections accepted during a silent cut, forwarded once it heals. */
  const held: net.Socket[] = [];
  let state: 'up' | Cut = 'up';
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  };
  const forward = (client: net.Socket) => {
    const up = net.connect(target.port, target.host);
    track(up);
    const pair: [net.Socket, net.Socket] = [client, up];
    pairs.add(pair);
    // Either side gone: both go (a half-open pair would hide the cut from the client).
    const both = () => {
      pairs.delete(pair);
      client.destroy();
      up.destroy();
    };
    client.on('error', both).on('close', both);
    up.on('error', both).on('close', both);
    client.pipe(up);
    up.pipe(client);
  };
  const onConnection = (client: net.Socket) => {
    track(client);
    if (state === 'silent') {
      client.pause();
      client.on('error', () => client.destroy());
      held.push(client);
    } else forward(client);
  };
  let server = net.createServer(onConnection);
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  const port = await listen(0);
  const reset = async () => {
    const closed = new Promise<void>((r) => server.close(() => r()));
    for (const s of sockets) s.destroy();
    held.length = 0;
    await closed;
  };
  return {
    port,
    async cut(how: Cut = 'reset') {
      if (state !== 'up') throw new Error(`the proxy is already cut (${state})`);
      state = how;
      if (how === 'reset') return reset();
      for (const [client, up] of pairs) {
        client.unpipe(up);
        up.unpipe(client);
        client.pause();
        up.pause();
      }
    },
    async restore() {
      if (state === 'reset') {
        server = net.createServer(onConnection);
        await listen(port);
      } else if (state === 'silent') {
        for (const [client, up] of pairs) {
          client.pipe(up);
          up.pipe(client);
          client.resume();
          up.resume();
        }
        for (const c of held.splice(0)) if (!c.destroyed) forward(c);
      }
      state = 'up';
    },
    async close() {
      if (state !== 'reset') await reset();
      state = 'reset';
    },
  };
}
