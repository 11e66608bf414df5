// The HTTP layer every OpenStack client shares: keep-alive agents, TLS (CA file / insecure), and the
// got instance JSON calls stand on — its retry (the policy below as data: which statuses, only
// idempotent methods, Retry-After honoured), its timeouts and the okCodes check with one error shape.
// Streamed uploads go through stream-upload.ts on the same agents.
import { readFileSync } from 'node:fs';
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { setTimeout as sleepTimer } from 'node:timers/promises';
import got, { type Got, HTTPError, type Method, RequestError, type RetryObject } from 'got';
import type { Logger } from 'pino';
import { ConfigError, InterruptedError } from '../../errors.js';
import { redactUrl } from '../../redaction.js';
import {
  isQuotaMessage,
  OpenStackHttpError,
  OpenStackQuotaError,
  parseServiceMessage,
  quotaFromMessage,
} from '../errors.js';
import {
  interrupted,
  isBadInputCode,
  NOT_SENT_CODES,
  TLS_HANDSHAKE_TIMEOUT,
  tlsHintFor,
  toNetworkError,
} from './network-errors.js';

/** Retry defaults, as data. */
export interface HttpRetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  minDelayMs: number;
  maxDelayMs: number;
  factor: number;
  /** A Retry-After longer than this is not waited for: the error is raised instead. */
  maxRetryAfterMs: number;
  /** Statuses retried for idempotent methods (429 for every method: the service did nothing). */
  statuses: number[];
}

export const defaultRetryPolicy: HttpRetryPolicy = {
  retries: 4,
  minDelayMs: 500,
  maxDelayMs: 15_000,
  factor: 2,
  maxRetryAfterMs: 120_000,
  statuses: [429, 500, 502, 503, 504],
};

/** PATCH is not here: a JSON patch may be relative; calls whose patch is absolute say idempotent. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const defaultSleep: Sleep = async (ms, signal) => {
  try {
    await sleepTimer(ms, undefined, { signal });
  } catch (e) {
    if (signal?.aborted) throw new InterruptedError('interrupted', { cause: signal.reason });
    throw e;
  }
};

export interface HttpOptions {
  /** PEM bundle trusted for TLS. */
  cacert?: string;
  /** Skip TLS verification (test clouds only). */
  insecure?: boolean;
  log?: Logger;
  userAgent?: string;
  /** Socket inactivity limit per exchange (default 120 s). */
  timeoutMs?: number;
  /** Keep-alive sockets per host. */
  maxSockets?: number;
  /** TCP connect, and then the TLS handshake, limit (a TLS client talking to a plain-HTTP port waits forever). */
  connectTimeoutMs?: number;
  /** The wait between retries; injected in tests, which assert the waits without waiting. */
  sleep?: Sleep;
}

/** What one call asks, carried in got's per-request `context` to the retry and 401 hooks. */
export interface CallContext {
  /** Statuses that mean success for this call (gophercloud's OkCodes). */
  okCodes: number[];
  /** Overrides the method's idempotency (e.g. POST /auth/tokens or os-getConsoleOutput are safe). */
  idempotent?: boolean;
  /** Catalog service type, for quota hints. */
  service?: string;
  /** Set once the 401 hook has issued a new token, so a second 401 is an error, not a loop. */
  reauthenticated?: boolean;
  [key: string]: unknown;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface SendOptions {
  okCodes: number[];
  headers?: Record<string, string>;
  /** A JSON body, sent as `contentType` (default application/json). */
  json?: unknown;
  contentType?: string;
  searchParams?: URLSearchParams;
  signal?: AbortSignal;
  idempotent?: boolean;
  /** false: one attempt only. */
  retry?: false;
  timeoutMs?: number;
  service?: string;
}

export class Http {
  readonly httpAgent: http.Agent;
  readonly httpsAgent: https.Agent;
  readonly log?: Logger;
  readonly userAgent: string;
  readonly timeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly tlsHint: string;
  readonly policy: HttpRetryPolicy;
  /** got with the agents, TLS, timeouts, retry policy and logging; service clients extend it. */
  readonly got: Got;
  private readonly sleep: Sleep;

  constructor(opts: HttpOptions = {}) {
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
    this.tlsHint = tlsHintFor(opts.cacert);
    this.policy = defaultRetryPolicy;
    this.sleep = opts.sleep ?? defaultSleep;
    const log = this.log;
    this.got = got.extend({
      agent: { http: this.httpAgent, https: this.httpsAgent },
      https: { certificateAuthority: ca, rejectUnauthorized: !opts.insecure },
      headers: { 'user-agent': this.userAgent, accept: 'application/json' },
      responseType: 'buffer',
      // A 3xx is an answer to check against okCodes (the version documents' 300), not to follow.
      followRedirect: false,
      throwHttpErrors: true,
      timeout: {
        connect: this.connectTimeoutMs,
        secureConnect: this.connectTimeoutMs,
        socket: this.timeoutMs,
      },
      retry: {
        limit: this.policy.retries,
        // Every method reaches calculateDelay, which applies idempotency per call (context.idempotent).
        methods: ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'POST', 'PATCH'],
        statusCodes: this.policy.statuses,
        maxRetryAfter: this.policy.maxRetryAfterMs,
        calculateDelay: (r) => this.retryDelay(r),
      },
      hooks: {
        afterResponse: [
          (response) => {
            log?.debug(
              {
                method: response.request.options.method,
                url: redactUrl(response.url),
                status: response.statusCode,
                ms: response.timings.phases.total,
                requestId: requestIdOf(response.headers),
              },
              'openstack http',
            );
            return response;
          },
        ],
      },
    });
  }

  /** Close idle keep-alive sockets. */
  destroy(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  /**
   * got's calculateDelay: 0 = give up. Whether to retry follows the policy (statuses for idempotent
   * methods and 429 for all; connection failures where nothing reached the service for all, the rest
   * for idempotent methods); the wait is Retry-After when the service sent one (got parses it), else
   * the back-off. The wait is slept here, through the injectable sleep, and got then goes on at once.
   */
  private async retryDelay({ attemptCount, error, retryAfter }: RetryObject): Promise<number> {
    // The 401 hook's retryWithMergedOptions: a new token, no wait.
    if (error.name === 'RetryError') return 1;
    const p = this.policy;
    if (attemptCount > p.retries) return 0;
    const ctx = error.options.context as CallContext;
    const method = String(error.options.method).toUpperCase();
    const idempotent = ctx.idempotent ?? IDEMPOTENT.has(method);
    const status = error.response?.statusCode;
    let delay = Math.min(p.maxDelayMs, p.minDelayMs * p.factor ** (attemptCount - 1));
    if (status !== undefined) {
      if (ctx.okCodes?.includes(status) || !p.statuses.includes(status)) return 0;
      if (!idempotent && status !== 429) return 0;
      if (retryAfter !== undefined) {
        if (retryAfter > p.maxRetryAfterMs) return 0;
        delay = retryAfter;
      }
    } else if (!connectionRetryable(error, idempotent)) {
      return 0;
    }
    this.log?.warn(
      {
        method,
        url: redactUrl(String(error.options.url)),
        status,
        code: status === undefined ? error.code : undefined,
        attempt: attemptCount,
        delayMs: delay,
      },
      'openstack request failed; retrying',
    );
    await this.sleep(delay, error.options.signal as AbortSignal | undefined);
    return 1;
  }

  /**
   * One call on `client` (this.got or a service client's extension of it): resolves with the response
   * when its status is in okCodes; else OpenStackHttpError (or OpenStackQuotaError), ConfigError
   * (TLS, DNS), InterruptedError (signal) or OpenStackConnectionError.
   */
  async send(client: Got, method: string, url: string, o: SendOptions): Promise<RawResponse> {
    const absolute = /^https?:\/\//.test(url);
    const context: CallContext = { okCodes: o.okCodes, idempotent: o.idempotent, service: o.service };
    const headers: Record<string, string> = { ...o.headers };
    let body: Buffer | undefined;
    if (o.json !== undefined) {
      body = Buffer.from(JSON.stringify(o.json));
      headers['content-type'] = o.contentType ?? 'application/json';
    }
    if (o.signal?.aborted) throw interrupted(o.signal);
    let res: RawResponse;
    try {
      const r = await client(url, {
        method: method as Method,
        headers,
        body,
        searchParams: o.searchParams,
        signal: o.signal,
        context,
        ...(absolute ? { prefixUrl: '' } : {}),
        ...(o.retry === false ? { retry: { limit: 0 } } : {}),
        ...(o.timeoutMs !== undefined ? { timeout: { socket: o.timeoutMs } } : {}),
      });
      res = { status: r.statusCode, headers: r.headers, body: r.rawBody ?? Buffer.alloc(0) };
    } catch (err) {
      if (o.signal?.aborted) throw interrupted(o.signal);
      if (err instanceof HTTPError) {
        const r = err.response;
        res = { status: r.statusCode, headers: r.headers, body: r.rawBody ?? Buffer.alloc(0) };
      } else {
        const full = err instanceof RequestError ? String(err.options.url ?? url) : url;
        throw toNetworkError(gotCause(err), {
          method,
          url: full,
          tlsHint: this.tlsHint,
          connectTimeoutMs: this.connectTimeoutMs,
        });
      }
    }
    if (o.okCodes.includes(res.status)) return res;
    throw toHttpError(method, fullUrl(client, url), res, o.okCodes, o.service);
  }
}

function connectionRetryable(error: RequestError, idempotent: boolean): boolean {
  const code = connectionCode(error);
  if (isBadInputCode(code)) return false;
  if (error.cause instanceof InterruptedError || error.cause instanceof ConfigError) return false;
  // Nothing reached the service: safe for every method.
  if (NOT_SENT_CODES.has(code ?? '')) return true;
  // A keep-alive socket the server had closed: the request was never read (Node's documented pattern).
  const native = (error.request as unknown as { _request?: { reusedSocket?: boolean } } | undefined)
    ?._request;
  if (native?.reusedSocket && !error.response) return true;
  return idempotent;
}

/** got names every timeout ETIMEDOUT; a TLS handshake that never finishes is a wrong-port problem. */
function connectionCode(error: RequestError): string | undefined {
  if (error.name === 'TimeoutError' && (error as { event?: string }).event === 'secureConnect') {
    return TLS_HANDSHAKE_TIMEOUT;
  }
  return error.code;
}

/** The error the network gave (with its code), or ours (InterruptedError from the sleep). */
function gotCause(err: unknown): unknown {
  if (!(err instanceof RequestError)) return err;
  const cause = err.cause;
  if (cause instanceof InterruptedError || cause instanceof ConfigError) return cause;
  const code = connectionCode(err);
  return code === err.code ? err : Object.assign(new Error(err.message, { cause: err }), { code });
}

function fullUrl(client: Got, url: string): string {
  if (/^https?:\/\//.test(url)) return url;
  const prefix = String(client.defaults.options.prefixUrl ?? '');
  return `${prefix.replace(/\/+$/, '')}/${url}`;
}

export function toHttpError(
  method: string,
  url: string,
  res: RawResponse,
  okCodes: number[],
  service?: string,
): OpenStackHttpError | OpenStackQuotaError {
  const text = res.body.toString('utf8');
  const ct = String(res.headers['content-type'] ?? '');
  const serviceMessage = parseServiceMessage(text, ct);
  const err = new OpenStackHttpError({
    method,
    url,
    status: res.status,
    expected: okCodes,
    requestId: requestIdOf(res.headers),
    serviceMessage,
    body: text.length > 4096 ? `${text.slice(0, 4096)}…` : text,
    retryAfterMs: parseRetryAfter(res.headers['retry-after']),
  });
  if (isQuotaMessage(res.status, serviceMessage)) {
    return new OpenStackQuotaError(err, quotaFromMessage(serviceMessage!), service);
  }
  return err;
}

/** Retry-After is delta-seconds or an HTTP date (kept on the error for callers that wait longer). */
export function parseRetryAfter(v: string | string[] | undefined, now = Date.now()): number | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (!s) return undefined;
  if (/^\d+(\.\d+)?$/.test(s.trim())) return Math.round(Number(s) * 1000);
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

export function requestIdOf(h: IncomingHttpHeaders): string | undefined {
  const v = h['x-openstack-request-id'] ?? h['x-compute-request-id'] ?? h['x-request-id'];
  return Array.isArray(v) ? v[0] : v;
}
