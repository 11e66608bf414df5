// A TCP proxy on loopback that a test can cut and restore: the network between one worker and
// PostgreSQL. Bytes pass untouched (TLS too: the lab's certificate names 127.0.0.1, and only the
// port changes). cut() resets every connection and refuses new ones, as a dead link or a database
// host gone would; restore() listens again on the same port.
import net from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** Connections made through it so far (a reconnect after restore() counts). */
  readonly accepted: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function tcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  };
  const onConnection = (client: net.Socket) => {
    accepted++;
    const up = net.connect(target.port, target.host);
    track(client);
    track(up);
    // Either side gone: both go (a half-open pair would hide the cut from the client).
    const both = () => {
      client.destroy();
      up.destroy();
    };
    client.on('error', both).on('close', both);
    up.on('error', both).on('close', both);
    client.pipe(up);
    up.pipe(client);
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
  let up = true;
  const cut = async () => {
    if (!up) return;
    up = false;
    const closed = new Promise<void>((r) => server.close(() => r()));
    for (const s of sockets) s.destroy();
    await closed;
  };
  return {
    port,
    get accepted() {
      return accepted;
    },
    cut,
    async restore() {
      if (up) return;
      server = net.createServer(onConnection);
      await listen(port);
      up = true;
    },
    close: cut,
  };
}
