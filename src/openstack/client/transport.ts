// One HTTP exchange over node:http(s), no retries: keep-alive agents, CA file / insecure,
// JSON or streamed request bodies with backpressure, the response body read in full.
//
// Why node:http(s) and not got: an upload is `pipeline(source, hasher, req)`, where `req.write()`
// returning false pauses the source until the socket drains, so memory stays at a few buffers for
// a multi-GiB body; we also need to see an early error response (401/413 while the body is still
// flowing) and stop the source, and restart uploads from a fresh stream on re-auth. got 14 wraps all
// this in its own stream/retry machinery (which refuses to retry stream bodies) with little gain.
import { readFileSync } from 'node:fs';
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import { ConfigError, InterruptedError } from '../../errors.js';
import { redactUrl } from '../../redaction.js';

export interface TransportOptions {
  /** PEM bundle trusted for TLS. */
  cacert?: string;
  /** Skip TLS verification (test clouds only). */
  insecure?: boolean;
  log?: Logger;
  userAgent?: string;
  /** Socket inactivity limit per exchange. */
  timeoutMs?: number;
  /** Keep-alive sockets per host. */
  maxSockets?: number;
  /** TCP connect plus TLS handshake limit (a TLS client talking to a plain-HTTP port waits forever). */
  connectTimeoutMs?: number;
}

export type RequestBody =
  | { kind: 'none' }
  | { kind: 'buffer'; data: Buffer; contentType: string }
  /** A factory so that a retried or re-authenticated request gets a fresh stream. */
  | { kind: 'stream'; open: () => Readable; contentType: string; size?: number };

export interface RawRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: RequestBody;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Response bodies above this are cut (console logs can be large, JSON never is). */
  maxResponseBytes?: number;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Failure before any response: carries whether the request could have reached the service. */
export class TransportError extends Error {
  readonly code?: string;
  /** The connection was a reused keep-alive socket and no response came: the server never saw it. */
  readonly staleSocket: boolean;
  /** The request body's source stream failed (not the network): never retried. */
  readonly sourceFailed: boolean;
  constructor(cause: unknown, staleSocket: boolean, sourceFailed: boolean) {
    const code = (cause as { code?: string })?.code;
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = 'TransportError';
    this.code = code;
    this.staleSocket = staleSocket;
    this.sourceFailed = sourceFailed;
  }
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

export class Transport {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly log?: Logger;
  private readonly userAgent: string;
  private readonly timeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly tlsHint: string;

  constructor(opts: TransportOptions = {}) {
    let ca: Buffer | undefined;
    if (opts.cacert) {
      try {
        ca = readFileSync(opts.cacert);
      } catch (cause) {
        throw new ConfigError(`cannot read the CA bundle ${opts.cacert}`, {
          cause,
          hint: 'point cacert (or OS_CACERT) at a readable PEM file',
        });
      }
    }
    const common = { keepAlive: true, maxSockets: opts.maxSockets ?? 16, keepAliveMsecs: 10_000 };
    this.httpAgent = new http.Agent(common);
    this.httpsAgent = new https.Agent({ ...common, ca, rejectUnauthorized: !opts.insecure });
    this.log = opts.log;
    this.userAgent = opts.userAgent ?? 'v2o';
    this.timeoutMs = opts.timeoutMs ?? 120_000;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 15_000;
    this.tlsHint = opts.cacert
      ? `the CA bundle ${opts.cacert} does not vouch for this server: fix cacert (or OS_CACERT), or the server's certificate`
      : 'set cacert: /path/to/ca.pem in clouds.yaml (or OS_CACERT) to the CA that signed the cloud’s certificate';
  }

  /** Close idle keep-alive sockets. */
  destroy(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  /** One exchange. Rejects with ConfigError (TLS, DNS), InterruptedError (signal) or TransportError. */
  send(req: RawRequest): Promise<RawResponse> {
    const started = Date.now();
    const url = new URL(req.url);
    const isHttps = url.protocol === 'https:';
    const headers: Record<string, string> = { 'User-Agent': this.userAgent, ...req.headers };
    if (req.body.kind === 'buffer') {
      headers['Content-Type'] = req.body.contentType;
      headers['Content-Length'] = String(req.body.data.length);
    } else if (req.body.kind === 'stream') {
      headers['Content-Type'] = req.body.contentType;
      if (req.body.size !== undefined) headers['Content-Length'] = String(req.body.size);
      else headers['Transfer-Encoding'] = 'chunked';
    }
    const signal = req.signal;
    if (signal?.aborted) return Promise.reject(interrupted(signal));

    return new Promise<RawResponse>((resolve, reject) => {
      let settled = false;
      let gotResponse = false;
      let bodyDone = req.body.kind !== 'stream';
      let source: Readable | undefined;
      let sourceError: unknown;
      const finish = (err: unknown, res?: RawResponse) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else {
          this.log?.debug(
            {
              method: req.method,
              url: redactUrl(req.url),
              status: res!.status,
              ms: Date.now() - started,
              requestId: requestIdOf(res!.headers),
            },
            'openstack http',
          );
          resolve(res!);
        }
      };
      const mod = isHttps ? https : http;
      const creq = mod.request(url, {
        method: req.method,
        headers,
        agent: isHttps ? this.httpsAgent : this.httpAgent,
      });
      const onAbort = () => {
        source?.destroy();
        creq.destroy();
        finish(interrupted(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      creq.setTimeout(req.timeoutMs ?? this.timeoutMs, () => {
        creq.destroy(
          Object.assign(new Error(`no data for ${req.timeoutMs ?? this.timeoutMs} ms`), {
            code: 'ETIMEDOUT',
          }),
        );
      });
      creq.on('socket', (sock) => {
        if (creq.reusedSocket) return;
        const code = isHttps ? 'ETLSHANDSHAKETIMEOUT' : 'ECONNTIMEDOUT';
        const timer = setTimeout(() => {
          creq.destroy(
            Object.assign(new Error(`no connection within ${this.connectTimeoutMs} ms`), { code }),
          );
        }, this.connectTimeoutMs);
        sock.once(isHttps ? 'secureConnect' : 'connect', () => clearTimeout(timer));
        sock.once('close', () => clearTimeout(timer));
      });
      creq.on('response', (res) => {
        gotResponse = true;
        if (!bodyDone && source) {
          // The service answered before taking the whole body (401, 413 ...): stop sending.
          source.unpipe();
          source.destroy();
        }
        const chunks: Buffer[] = [];
        let size = 0;
        const max = req.maxResponseBytes ?? 32 * 1024 * 1024;
        res.on('data', (c: Buffer) => {
          if (size < max) chunks.push(c);
          size += c.length;
        });
        res.on('end', () =>
          finish(undefined, {
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        );
        res.on('error', (err) => finish(this.mapError(err, req, false, false)));
        res.on('aborted', () => finish(this.mapError(new Error('response aborted'), req, false, false)));
      });
      creq.on('error', (err) => {
        if (gotResponse) return;
        const fail = () =>
          finish(
            sourceError !== undefined
              ? this.mapError(sourceError, req, false, true)
              : this.mapError(err, req, creq.reusedSocket, false),
          );
        // A service that rejects an upload early may reset the socket right after its response;
        // give that response a moment to be parsed before calling it a network failure.
        if (!bodyDone && sourceError === undefined) setTimeout(() => gotResponse || fail(), 500);
        else fail();
      });
      if (req.body.kind === 'stream') {
        try {
          source = req.body.open();
        } catch (e) {
          creq.destroy();
          finish(this.mapError(e, req, false, true));
          return;
        }
        source.once('error', (e) => {
          if (!gotResponse) sourceError = e;
        });
        pipeline(source, creq).then(
          () => {
            bodyDone = true;
          },
          () => {
            // errors are reported through creq's 'error' (or the response already came)
          },
        );
      } else if (req.body.kind === 'buffer') {
        creq.end(req.body.data);
      } else {
        creq.end();
      }
    });
  }

  private mapError(err: unknown, req: RawRequest, stale: boolean, sourceFailed: boolean): Error {
    if (err instanceof ConfigError || err instanceof InterruptedError) return err;
    const code = (err as { code?: string })?.code;
    const host = safeHost(req.url);
    if (!sourceFailed && code && TLS_CODES.has(code)) {
      return new ConfigError(`TLS to ${host} failed: ${(err as Error).message} (${code})`, {
        cause: err,
        hint:
          code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'EPROTO'
            ? `the endpoint ${host} does not speak TLS on that port: use http:// or the TLS port in auth_url/the catalog`
            : this.tlsHint,
      });
    }
    if (code === 'ETLSHANDSHAKETIMEOUT') {
      return new ConfigError(`TLS to ${host} failed: no TLS handshake within ${this.connectTimeoutMs} ms`, {
        cause: err,
        hint: `if ${host} speaks plain HTTP use http:// in auth_url (or the catalog); otherwise check proxies and firewalls on the way`,
      });
    }
    if (!sourceFailed && (code === 'ENOTFOUND' || code === 'EAI_NONAME')) {
      return new ConfigError(`host ${host} not found (DNS)`, {
        cause: err,
        hint: 'check auth_url in clouds.yaml (or OS_AUTH_URL) and the endpoints in the service catalog',
      });
    }
    return new TransportError(err, stale, sourceFailed);
  }
}

export function requestIdOf(h: IncomingHttpHeaders): string | undefined {
  const v = h['x-openstack-request-id'] ?? h['x-compute-request-id'] ?? h['x-request-id'];
  return Array.isArray(v) ? v[0] : v;
}

function safeHost(u: string): string {
  try {
    return new URL(u).host;
  } catch {
    return u;
  }
}

function interrupted(signal: AbortSignal): Error {
  const r = signal.reason;
  if (r instanceof InterruptedError) return r;
  return new InterruptedError('interrupted', { cause: r });
}
