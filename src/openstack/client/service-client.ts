// A client for one service endpoint: a got instance (prefixUrl = the endpoint) whose hooks send the
// token and the microversion header on every request and, on a 401, issue a new token once and
// repeat the request. Streamed uploads get the same headers and the same one re-authentication.
import type { Readable } from 'node:stream';
import type { Got } from 'got';
import type { Logger } from 'pino';
import { isStatus } from '../errors.js';
import type { TokenSource } from '../identity/identity.js';
import { type CallContext, type Http, type RawResponse, type SendOptions, toHttpError } from './http.js';
import { sendStream } from './stream-upload.js';

export type Query = Record<string, string | number | boolean | undefined | null | string[]>;

export interface RequestOptions extends Omit<SendOptions, 'searchParams' | 'service'> {
  query?: Query;
}

/** A request body for `upload`: a Readable (sent once), or a function that opens the data from the start. */
export type UploadData = Readable | (() => Readable);

export interface UploadOptions {
  okCodes: number[];
  /** Bytes in all, when known: sent as Content-Length (else chunked). */
  size?: number;
  signal?: AbortSignal;
  timeoutMs?: number;
  contentType?: string;
}

export interface ServiceClientInit {
  serviceType: string;
  endpoint: string;
  auth: TokenSource;
  http: Http;
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
  private readonly got: Got;

  constructor(init: ServiceClientInit) {
    this.init = init;
    this.serviceType = init.serviceType;
    this.endpoint = init.endpoint.replace(/\/+$/, '');
    this.microversion = init.microversion;
    this.log = init.http.log;
    this.got = init.http.got.extend({
      prefixUrl: `${this.endpoint}/`,
      hooks: {
        beforeRequest: [
          async (options) => {
            const token = await init.auth.token(options.signal as AbortSignal | undefined);
            Object.assign(options.headers, this.authHeaders(token));
          },
        ],
        afterResponse: [
          async (response, retryWithMergedOptions) => {
            const ctx = response.request.options.context as CallContext;
            if (response.statusCode !== 401 || ctx.okCodes?.includes(401) || ctx.reauthenticated) {
              return response;
            }
            const sent = String(response.request.options.headers['x-auth-token'] ?? '');
            const token = await this.reauthenticate(
              sent,
              String(response.request.options.method),
              response.request.options.signal as AbortSignal | undefined,
            );
            // beforeRequest does not run for this repeat: the new token goes in the merged options.
            return retryWithMergedOptions({
              headers: { 'x-auth-token': token },
              context: { ...ctx, reauthenticated: true },
            });
          },
        ],
      },
    });
  }

  /** The same client sending another microversion (a new object; this one is unchanged). */
  withMicroversion(version: string | undefined): ServiceClient {
    return new ServiceClient({ ...this.init, microversion: version });
  }

  /** Path segments below the endpoint, each URL-encoded (relative: got prefixes the endpoint). */
  url(...segments: string[]): string {
    return segments.map((s) => encodeURIComponent(s)).join('/');
  }

  /** A path from url(), or an absolute URL, as the absolute URL. */
  absolute(url: string): string {
    return /^https?:\/\//.test(url) ? url : `${this.endpoint}/${url}`;
  }

  /** The token and, when negotiated, the microversion: what every request of this client carries. */
  private authHeaders(token: string): Record<string, string> {
    const h: Record<string, string> = { 'x-auth-token': token };
    if (this.microversion && this.init.microversionService) {
      h['openstack-api-version'] = `${this.init.microversionService} ${this.microversion}`;
      if (this.init.microversionService === 'compute') h['x-openstack-nova-api-version'] = this.microversion;
    }
    return h;
  }

  /** The token was revoked or expired early: forget it and issue a new one. */
  private async reauthenticate(rejected: string, method: string, signal?: AbortSignal): Promise<string> {
    this.log?.info({ service: this.serviceType, method }, 'token rejected (401); re-authenticating once');
    this.init.auth.invalidate(rejected);
    return this.init.auth.token(signal);
  }

  /** A call by path (from url()) or absolute URL (a `next` link, a version document). */
  async request(method: string, url: string, opts: RequestOptions): Promise<RawResponse> {
    const { query, ...rest } = opts;
    return this.init.http.send(this.got, method, url, {
      ...rest,
      searchParams: toSearchParams(query),
      service: this.serviceType,
    });
  }

  /**
   * A streamed body (stream-upload.ts says why this is not on got). A 401 invalidates the token; when
   * `data` is a function it opens the data again and the request is repeated once with a new token,
   * a Readable cannot be replayed and the 401 is thrown (a step retry then gets a new token).
   */
  async upload(method: string, url: string, data: UploadData, o: UploadOptions): Promise<RawResponse> {
    const full = this.absolute(url);
    const send = async (token: string) => {
      const res = await sendStream(this.init.http, {
        method,
        url: full,
        headers: { Accept: 'application/json', ...this.authHeaders(token) },
        open: typeof data === 'function' ? data : () => data,
        contentType: o.contentType ?? 'application/octet-stream',
        size: o.size,
        signal: o.signal,
        timeoutMs: o.timeoutMs,
      });
      if (o.okCodes.includes(res.status)) return res;
      throw toHttpError(method, full, res, o.okCodes, this.serviceType);
    };
    const token = await this.init.auth.token(o.signal);
    try {
      return await send(token);
    } catch (err) {
      if (!isStatus(err, 401) || o.okCodes.includes(401)) throw err;
      if (typeof data !== 'function') {
        this.init.auth.invalidate(token);
        throw err;
      }
      return send(await this.reauthenticate(token, method, o.signal));
    }
  }

  async get<T>(url: string, opts: Omit<RequestOptions, 'okCodes'> & { okCodes?: number[] } = {}): Promise<T> {
    return parseJson<T>(await this.request('GET', url, { okCodes: [200], ...opts }));
  }

  /** GET one resource and unwrap its envelope (`{"server": {...}}` → the server), in one place. */
  async getOne(url: string, key: string, o: { signal?: AbortSignal } = {}): Promise<Record<string, unknown>> {
    const r = await this.get<Record<string, Record<string, unknown>>>(url, { signal: o.signal });
    return r[key]!;
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

function toSearchParams(query: Query | undefined): URLSearchParams | undefined {
  if (!query) return undefined;
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) for (const x of v) p.append(k, x);
    else p.set(k, String(v));
  }
  return p;
}
