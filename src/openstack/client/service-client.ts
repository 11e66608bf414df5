// A client for one service endpoint: sends the token (re-issued once on 401, also for streamed
// uploads, whose body is re-opened from its factory) and the microversion header, in one place.
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { isStatus } from '../errors.js';
import type { TokenSource } from '../identity/identity.js';
import { type CallOptions, call, type HttpRetryPolicy } from './request.js';
import type { RawResponse, RequestBody, Transport } from './transport.js';

export type Query = Record<string, string | number | boolean | undefined | null | string[]>;

export interface RequestOptions {
  /** Statuses that mean success for this call (gophercloud's OkCodes). */
  okCodes: number[];
  json?: unknown;
  /** A raw body; a stream body is a factory so re-auth or retry can start it over. */
  body?: RequestBody;
  query?: Query;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  idempotent?: boolean;
  retry?: Partial<HttpRetryPolicy> | false;
  timeoutMs?: number;
  maxResponseBytes?: number;
  /** Content-Type for `json` (JSON patch needs its own). */
  contentType?: string;
}

export interface ServiceClientInit {
  serviceType: string;
  endpoint: string;
  auth: TokenSource;
  transport: Transport;
  log?: Logger;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Name used in the OpenStack-API-Version header ('compute', 'volume'); none for services without microversions. */
  microversionService?: string;
  microversion?: string;
}

export class ServiceClient {
  readonly serviceType: string;
  /** Base URL without a trailing slash, e.g. http://host:8774/v2.1 or http://host:9292/v2. */
  readonly endpoint: string;
  readonly microversion?: string;
  readonly log?: Logger;
  private readonly init: ServiceClientInit;

  constructor(init: ServiceClientInit) {
    this.init = init;
    this.serviceType = init.serviceType;
    this.endpoint = init.endpoint.replace(/\/+$/, '');
    this.microversion = init.microversion;
    this.log = init.log;
  }

  /** The same client sending another microversion (a new object; this one is unchanged). */
  withMicroversion(version: string | undefined): ServiceClient {
    return new ServiceClient({ ...this.init, microversion: version });
  }

  /** endpoint + path segments, each URL-encoded. */
  url(...segments: string[]): string {
    return [this.endpoint, ...segments.map((s) => encodeURIComponent(s))].join('/');
  }

  get transport(): Transport {
    return this.init.transport;
  }

  async request(method: string, url: string, opts: RequestOptions): Promise<RawResponse> {
    const full = withQuery(url, opts.query);
    const send = async (token: string) => {
      const headers: Record<string, string> = {
        Accept: 'application/json',
        ...opts.headers,
        'X-Auth-Token': token,
      };
      if (this.microversion && this.init.microversionService) {
        headers['OpenStack-API-Version'] = `${this.init.microversionService} ${this.microversion}`;
        if (this.init.microversionService === 'compute')
          headers['X-OpenStack-Nova-API-Version'] = this.microversion;
      }
      const body: RequestBody =
        opts.json !== undefined
          ? {
              kind: 'buffer',
              data: Buffer.from(JSON.stringify(opts.json)),
              contentType: opts.contentType ?? 'application/json',
            }
          : (opts.body ?? { kind: 'none' });
      const callOpts: CallOptions = {
        okCodes: opts.okCodes,
        idempotent: opts.idempotent,
        retry: opts.retry,
        service: this.serviceType,
      };
      return call(
        { transport: this.init.transport, log: this.init.log, sleep: this.init.sleep },
        {
          method,
          url: full,
          headers,
          body,
          signal: opts.signal,
          timeoutMs: opts.timeoutMs,
          maxResponseBytes: opts.maxResponseBytes,
        },
        callOpts,
      );
    };
    const token = await this.init.auth.token(opts.signal);
    try {
      return await send(token);
    } catch (err) {
      if (!isStatus(err, 401) || opts.okCodes.includes(401)) throw err;
      // The token was revoked or expired early: issue a new one and try once more.
      this.init.log?.info(
        { service: this.serviceType, method },
        'token rejected (401); re-authenticating once',
      );
      this.init.auth.invalidate(token);
      return send(await this.init.auth.token(opts.signal));
    }
  }

  async get<T>(url: string, opts: Omit<RequestOptions, 'okCodes'> & { okCodes?: number[] } = {}): Promise<T> {
    return parseJson<T>(await this.request('GET', url, { okCodes: [200], ...opts }));
  }

  async post<T>(url: string, json: unknown, opts: Omit<RequestOptions, 'json'>): Promise<T> {
    return parseJson<T>(await this.request('POST', url, { ...opts, json }));
  }

  async put<T>(url: string, json: unknown, opts: Omit<RequestOptions, 'json'>): Promise<T> {
    return parseJson<T>(await this.request('PUT', url, { ...opts, json }));
  }

  async delete(
    url: string,
    opts: Omit<RequestOptions, 'okCodes'> & { okCodes?: number[] } = {},
  ): Promise<void> {
    await this.request('DELETE', url, { okCodes: [202, 204], ...opts });
  }
}

/** The JSON body, or undefined for an empty body (204). */
export function parseJson<T>(res: RawResponse): T {
  if (res.body.length === 0) return undefined as T;
  return JSON.parse(res.body.toString('utf8')) as T;
}

export function withQuery(url: string, query: Query | undefined): string {
  if (!query) return url;
  const u = new URL(url);
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) for (const x of v) u.searchParams.append(k, x);
    else u.searchParams.set(k, String(v));
  }
  return u.toString();
}

/** Convenience for stream bodies. */
export function streamBody(
  open: () => Readable,
  size?: number,
  contentType = 'application/octet-stream',
): RequestBody {
  return { kind: 'stream', open, size, contentType };
}
