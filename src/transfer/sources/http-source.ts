// A disk behind an HTTP(S) URL (datastore /folder URLs, export lease device URLs, benchmarks) as a
// ByteSource. TLS is verified (pass the vCenter CA as `ca`); Range answers are checked byte for byte.
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { redactUrl } from '../../redaction.js';
import { SourceHttpError } from '../errors.js';
import type { ByteSource } from '../types.js';

export interface HttpSourceOptions {
  url: string;
  /** Extra request headers (e.g. the vmware_soap_session cookie). Never logged. */
  headers?: Record<string, string>;
  /** PEM CA bundle for self-signed vCenter/ESXi certificates. */
  ca?: string | Buffer;
  /** Known size; otherwise taken from HEAD. */
  size?: number;
  /** Force Range on/off; otherwise taken from HEAD (Accept-Ranges: bytes). */
  supportsRange?: boolean;
  agent?: http.Agent;
}

function request(
  opts: HttpSourceOptions,
  method: 'GET' | 'HEAD',
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<http.IncomingMessage> {
  const u = new URL(opts.url);
  const mod = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      u,
      { method, headers: { ...opts.headers, ...headers }, ca: opts.ca, agent: opts.agent, signal },
      resolve,
    );
    req.on('error', reject);
    req.end();
  });
}

/** HEAD the URL to learn size and Range support (both may be given instead). */
export async function httpSource(opts: HttpSourceOptions, signal?: AbortSignal): Promise<ByteSource> {
  let size = opts.size;
  let supportsRange = opts.supportsRange;
  const description = redactUrl(opts.url);
  if (size === undefined || supportsRange === undefined) {
    const res = await request(opts, 'HEAD', {}, signal ?? new AbortController().signal);
    res.resume();
    if (res.statusCode !== 200) {
      throw new SourceHttpError(`HEAD ${description}: HTTP ${res.statusCode}`, res.statusCode);
    }
    const len = res.headers['content-length'];
    size ??= len === undefined ? undefined : Number(len);
    supportsRange ??= /\bbytes\b/.test(String(res.headers['accept-ranges'] ?? ''));
  }
  return {
    size,
    supportsRange: supportsRange ?? false,
    description,
    async open(offset: number, sig: AbortSignal): Promise<Readable> {
      const res = await request(opts, 'GET', offset > 0 ? { range: `bytes=${offset}-` } : {}, sig);
      const want = offset > 0 ? 206 : 200;
      if (res.statusCode !== want) {
        res.resume();
        throw new SourceHttpError(
          `GET ${description} at byte ${offset}: HTTP ${res.statusCode}`,
          res.statusCode,
        );
      }
      if (offset > 0) {
        // A server that ignores part of the Range would silently shift every following byte.
        const m = /^bytes (\d+)-/.exec(String(res.headers['content-range'] ?? ''));
        if (!m || Number(m[1]) !== offset) {
          res.destroy();
          throw new SourceHttpError(
            `GET ${description}: asked for byte ${offset}, got Content-Range "${res.headers['content-range']}"`,
            res.statusCode,
          );
        }
      }
      return res;
    },
  };
}
