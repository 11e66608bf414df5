#!/usr/bin/env node
// Serves the lab's files (the virtio-win ISO) over plain HTTP on 127.0.0.1, like a mirror would:
// GET and HEAD with Content-Length, ETag, Last-Modified, single-range `Range: bytes=a-b` (206/416)
// and `If-Range`. Test hook: `?cutAfter=N` sends the headers of the full answer and then drops the
// connection after N body bytes, so a resumable download can be tested end to end.
//
//   node iso-server.mjs <dir> <port>
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { basename, join } from 'node:path';

const [dir, portArg] = process.argv.slice(2);
const port = Number(portArg);
if (!dir || !Number.isInteger(port)) {
  console.error('usage: iso-server.mjs <dir> <port>');
  process.exit(2);
}

function parseRange(header, size) {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start;
  let end;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start > end || start >= size) return null;
  return { start, end };
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD' }).end();
    return;
  }
  if (url.pathname === '/healthz') {
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok\n');
    return;
  }
  const name = basename(decodeURIComponent(url.pathname));
  let st;
  try {
    st = statSync(join(dir, name));
    if (!st.isFile()) throw new Error('not a file');
  } catch {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
    return;
  }
  const etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
  const headers = {
    'Accept-Ranges': 'bytes',
    'Content-Type': name.endsWith('.iso') ? 'application/x-iso9660-image' : 'application/octet-stream',
    ETag: etag,
    'Last-Modified': st.mtime.toUTCString(),
  };
  let start = 0;
  let end = st.size - 1;
  let status = 200;
  const range = req.headers.range;
  const ifRange = req.headers['if-range'];
  if (range && (!ifRange || ifRange === etag || ifRange === headers['Last-Modified'])) {
    const r = parseRange(range, st.size);
    if (r === null) {
      res.writeHead(416, { ...headers, 'Content-Range': `bytes */${st.size}` }).end();
      return;
    }
    if (r) {
      ({ start, end } = r);
      status = 206;
      headers['Content-Range'] = `bytes ${start}-${end}/${st.size}`;
    }
  }
  headers['Content-Length'] = String(st.size === 0 ? 0 : end - start + 1);
  res.writeHead(status, headers);
  if (req.method === 'HEAD' || st.size === 0) {
    res.end();
    return;
  }
  const cutAfter = url.searchParams.get('cutAfter');
  if (cutAfter !== null) end = Math.min(end, start + Number(cutAfter) - 1);
  const stream = createReadStream(join(dir, name), { start, end });
  stream.pipe(res, { end: cutAfter === null });
  if (cutAfter !== null) stream.on('end', () => setTimeout(() => req.socket.destroy(), 20));
});

server.listen(port, '127.0.0.1', () => {
  console.log(`iso-server listening on http://127.0.0.1:${port}/ serving ${dir}`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
