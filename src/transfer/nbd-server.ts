// A minimal read-only NBD server (fixed newstyle, simple replies) on a unix socket, so qemu-img can read
// a disk that v2o streams from vCenter: qemu-img cannot read a pipe, its NBD client is built in (the curl
// driver needs qemu-block-extra and its Ceph/Gluster dependencies), and TLS to vCenter stays verified by
// v2o instead of qemu. Spec: https://github.com/NetworkBlockDevice/nbd/blob/master/doc/proto.md
import net from 'node:net';

const NBDMAGIC = 0x4e42444d41474943n;
const IHAVEOPT = 0x49484156454f5054n;
const REPLY_MAGIC = 0x3e889045565a9n;
const REQUEST_MAGIC = 0x25609513;
const SIMPLE_REPLY_MAGIC = 0x67446698;

const OPT_EXPORT_NAME = 1;
const OPT_ABORT = 2;
const OPT_INFO = 6;
const OPT_GO = 7;
const REP_ACK = 1;
const REP_INFO = 3;
const REP_ERR_UNSUP = 0x80000001;
const INFO_EXPORT = 0;
const FLAG_FIXED_NEWSTYLE = 1;
const FLAG_NO_ZEROES = 2;
const TFLAG_HAS_FLAGS = 1;
const TFLAG_READ_ONLY = 2;
const CMD_READ = 0;
const CMD_WRITE = 1;
const CMD_DISC = 2;
const CMD_FLUSH = 3;
const EPERM = 1;
const EIO = 5;
const EINVAL = 22;

export interface NbdExport {
  size: number;
  read(offset: number, length: number): Promise<Buffer>;
}

/** Reads exact byte counts from a socket. */
class SocketReader {
  private buf: Buffer = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  private ended = false;
  constructor(sock: net.Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      this.waiter?.();
    });
    const end = () => {
      this.ended = true;
      this.waiter?.();
    };
    sock.on('end', end);
    sock.on('close', end);
  }
  async take(n: number): Promise<Buffer | undefined> {
    while (this.buf.length < n) {
      if (this.ended) return undefined;
      await new Promise<void>((r) => {
        this.waiter = r;
      });
      this.waiter = undefined;
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }
}

function write(sock: net.Socket, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    if (sock.destroyed) return reject(new Error('NBD client went away'));
    if (sock.write(data)) return resolve();
    const onDrain = () => {
      sock.off('close', onClose);
      resolve();
    };
    const onClose = () => {
      sock.off('drain', onDrain);
      reject(new Error('NBD client went away'));
    };
    sock.once('drain', onDrain);
    sock.once('close', onClose);
  });
}

function optReply(opt: number, type: number, data: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(20);
  h.writeBigUInt64BE(REPLY_MAGIC, 0);
  h.writeUInt32BE(opt, 8);
  h.writeUInt32BE(type, 12);
  h.writeUInt32BE(data.length, 16);
  return Buffer.concat([h, data]);
}

function simpleReply(handle: Buffer, error: number): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt32BE(SIMPLE_REPLY_MAGIC, 0);
  h.writeUInt32BE(error, 4);
  handle.copy(h, 8);
  return h;
}

async function serve(sock: net.Socket, exp: NbdExport, onError: (e: unknown) => void): Promise<void> {
  const rd = new SocketReader(sock);
  const hello = Buffer.alloc(18);
  hello.writeBigUInt64BE(NBDMAGIC, 0);
  hello.writeBigUInt64BE(IHAVEOPT, 8);
  hello.writeUInt16BE(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES, 16);
  await write(sock, hello);
  const cflags = await rd.take(4);
  if (!cflags) return;
  const noZeroes = (cflags.readUInt32BE(0) & FLAG_NO_ZEROES) !== 0;
  const tflags = TFLAG_HAS_FLAGS | TFLAG_READ_ONLY;

  // Option haggling: answer GO/INFO/EXPORT_NAME, refuse the rest (structured replies, meta contexts).
  for (;;) {
    const h = await rd.take(16);
    if (!h) return;
    if (h.readBigUInt64BE(0) !== IHAVEOPT) throw new Error('NBD: bad option magic');
    const opt = h.readUInt32BE(8);
    const len = h.readUInt32BE(12);
    const data = (await rd.take(len)) ?? Buffer.alloc(0);
    void data;
    if (opt === OPT_EXPORT_NAME) {
      const r = Buffer.alloc(noZeroes ? 10 : 134);
      r.writeBigUInt64BE(BigInt(exp.size), 0);
      r.writeUInt16BE(tflags, 8);
      await write(sock, r);
      break;
    }
    if (opt === OPT_GO || opt === OPT_INFO) {
      const info = Buffer.alloc(12);
      info.writeUInt16BE(INFO_EXPORT, 0);
      info.writeBigUInt64BE(BigInt(exp.size), 2);
      info.writeUInt16BE(tflags, 10);
      await write(sock, optReply(opt, REP_INFO, info));
      await write(sock, optReply(opt, REP_ACK));
      if (opt === OPT_GO) break;
      continue;
    }
    if (opt === OPT_ABORT) {
      await write(sock, optReply(opt, REP_ACK)).catch(() => {});
      sock.end();
      return;
    }
    await write(sock, optReply(opt, REP_ERR_UNSUP));
  }

  // Transmission: requests are served one at a time, in order, which is what a sequential reader wants.
  for (;;) {
    const req = await rd.take(28);
    if (!req) return;
    if (req.readUInt32BE(0) !== REQUEST_MAGIC) throw new Error('NBD: bad request magic');
    const type = req.readUInt16BE(6);
    const handle = req.subarray(8, 16);
    const offset = Number(req.readBigUInt64BE(16));
    const length = req.readUInt32BE(24);
    if (type === CMD_DISC) {
      sock.end();
      return;
    }
    if (type === CMD_READ) {
      if (offset + length > exp.size) {
        await write(sock, simpleReply(handle, EINVAL));
        continue;
      }
      let data: Buffer;
      try {
        data = await exp.read(offset, length);
        if (data.length !== length) throw new Error(`short read at ${offset}: ${data.length} of ${length}`);
      } catch (err) {
        onError(err);
        await write(sock, simpleReply(handle, EIO));
        continue;
      }
      await write(sock, Buffer.concat([simpleReply(handle, 0), data]));
      continue;
    }
    if (type === CMD_WRITE) await rd.take(length);
    await write(sock, simpleReply(handle, type === CMD_FLUSH ? 0 : type === CMD_WRITE ? EPERM : EINVAL));
  }
}

export interface NbdServer {
  /** For qemu: `nbd+unix:///?socket=<path>`. */
  readonly uri: string;
  /** The first error a read hit (qemu only sees EIO); rethrown by the caller with its real cause. */
  readonly readError: unknown;
  close(): Promise<void>;
}

/** Serve `exp` read-only on the unix socket `path` until close(). */
export async function startNbdServer(path: string, exp: NbdExport): Promise<NbdServer> {
  let readError: unknown;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    serve(sock, exp, (e) => {
      readError ??= e;
    }).catch((e) => {
      readError ??= e;
      sock.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  return {
    uri: `nbd+unix:///?socket=${path}`,
    get readError() {
      return readError;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
