// SOAP over HTTPS (node:https with a keep-alive agent, so nock can intercept it in tests).
// Holds the session cookie and turns SOAP faults into VSphereFault. Re-login lives one layer up.
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { InterruptedError } from '../../errors.js';
import { VSphereFault, VSphereHttpError } from '../errors.js';
import { child, envelope, parseXml, textOf, type XmlNode } from './xml.js';

export const SESSION_COOKIE = 'vmware_soap_session';

export interface TransportOptions {
  url: URL;
  agent: https.Agent;
  log?: Logger;
  /** Per-request timeout (ms) for SOAP calls; 0 = none. */
  timeoutMs?: number;
  /** SOAPAction version; vCenter 6.5+ and vcsim accept 7.0. */
  apiVersion?: string;
}

export interface HttpRequestOptions {
  method: string;
  url: URL;
  headers?: Record<string, string | number>;
  body?: Readable | Buffer | string;
  signal?: AbortSignal;
  /** Send the session cookie (datastore and NFC URLs need it; guest file URLs carry a ticket instead). */
  session?: boolean;
  /** Agent for hosts other than vCenter (NFC / guest URLs pinned to another thumbprint). */
  agent?: https.Agent | http.Agent;
  timeoutMs?: number;
}

export class SoapTransport {
  readonly url: URL;
  readonly agent: https.Agent;
  readonly log?: Logger;
  readonly timeoutMs: number;
  readonly apiVersion: string;
  /** `vmware_soap_session=…`, never logged. */
  #cookie?: string;

  constructor(opts: TransportOptions) {
    this.url = opts.url;
    this.agent = opts.agent;
    this.log = opts.log;
    this.timeoutMs = opts.timeoutMs ?? 120_000;
    this.apiVersion = opts.apiVersion ?? '7.0';
  }

  get hasSession(): boolean {
    return this.#cookie !== undefined;
  }

  clearSession(): void {
    this.#cookie = undefined;
  }

  /** The session cookie header value, for endpoints beside SOAP. */
  get cookie(): string | undefined {
    return this.#cookie;
  }

  /** Calls a vim25 method; `body` is the method element (`<Login>…</Login>`). Returns the `…Response` element. */
  async call(
    method: string,
    body: string,
    opts: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<XmlNode> {
    const started = Date.now();
    const res = await this.request({
      method: 'POST',
      url: this.url,
      headers: {
        'Content-Type': 'text/xml; charset=utf-8',
        SOAPAction: `"urn:vim25/${this.apiVersion}"`,
      },
      body: envelope(body),
      signal: opts.signal,
      session: true,
      timeoutMs: opts.timeoutMs,
    });
    const text = await readText(res, opts.signal);
    this.log?.debug({ method, status: res.statusCode, ms: Date.now() - started }, 'vsphere soap');
    let doc: XmlNode;
    try {
      doc = parseXml(text);
    } catch (err) {
      throw new VSphereHttpError('POST', this.url.href, res.statusCode ?? 0, text.slice(0, 200), {
        cause: err,
      });
    }
    const bodyNode = child(doc, 'Body');
    const fault = child(bodyNode, 'Fault');
    if (fault) throw parseFault(fault, method);
    if ((res.statusCode ?? 0) >= 400 || !bodyNode) {
      throw new VSphereHttpError('POST', this.url.href, res.statusCode ?? 0, text.slice(0, 200));
    }
    const response = bodyNode.children[0];
    if (!response) throw new VSphereHttpError('POST', this.url.href, res.statusCode ?? 0, 'empty SOAP body');
    return response;
  }

  /**
   * One HTTP request on the vCenter agent; resolves with the response (any status). A request that
   * failed with ECONNRESET on a reused keep-alive socket (the server closed it while idle) is sent
   * once more on a new socket, unless its body was a stream that cannot be replayed.
   */
  async request(opts: HttpRequestOptions): Promise<http.IncomingMessage> {
    try {
      return await this.#request(opts);
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { reusedSocket?: boolean };
      const replayable =
        opts.body === undefined || typeof opts.body === 'string' || Buffer.isBuffer(opts.body);
      if (
        e.reusedSocket &&
        (e.code === 'ECONNRESET' || e.code === 'EPIPE') &&
        replayable &&
        !opts.signal?.aborted
      ) {
        this.log?.debug({ host: opts.url.host }, 'stale keep-alive socket; retrying on a new one');
        return this.#request(opts);
      }
      throw err;
    }
  }

  #request(opts: HttpRequestOptions): Promise<http.IncomingMessage> {
    const { url } = opts;
    const headers: Record<string, string | number> = { ...opts.headers };
    if (opts.session !== false && this.#cookie) headers.Cookie = this.#cookie;
    if (typeof opts.body === 'string' || Buffer.isBuffer(opts.body))
      headers['Content-Length'] = Buffer.byteLength(opts.body);
    const mod = url.protocol === 'http:' ? http : https;
    const agent = opts.agent ?? (url.protocol === 'http:' ? undefined : this.agent);
    return new Promise((resolve, reject) => {
      if (opts.signal?.aborted) {
        reject(new InterruptedError('vSphere request aborted', { cause: opts.signal.reason }));
        return;
      }
      const req = mod.request(url, { method: opts.method, headers, agent });
      const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
      if (timeoutMs > 0) {
        req.setTimeout(timeoutMs, () => {
          req.destroy(
            Object.assign(new Error(`no answer from ${url.host} within ${timeoutMs} ms`), {
              code: 'ETIMEDOUT',
            }),
          );
        });
      }
      const onAbort = () =>
        req.destroy(new InterruptedError('vSphere request aborted', { cause: opts.signal?.reason }));
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      req.once('response', (res) => {
        req.setTimeout(0);
        opts.signal?.removeEventListener('abort', onAbort);
        const set = res.headers['set-cookie'];
        for (const c of set ?? []) {
          const m = new RegExp(`^${SESSION_COOKIE}=([^;]*)`).exec(c);
          if (m) this.#cookie = `${SESSION_COOKIE}=${m[1]}`;
        }
        // The response stream is the caller's; an abort after this point destroys it.
        if (opts.signal) {
          const abortBody = () =>
            res.destroy(new InterruptedError('vSphere request aborted', { cause: opts.signal?.reason }));
          opts.signal.addEventListener('abort', abortBody, { once: true });
          res.once('close', () => opts.signal?.removeEventListener('abort', abortBody));
        }
        resolve(res);
      });
      req.once('error', (err) => {
        opts.signal?.removeEventListener('abort', onAbort);
        // Name the request in the message: "socket hang up" alone does not say which call failed.
        if (!(err instanceof InterruptedError))
          err.message = `${opts.method} ${url.origin}${url.pathname}: ${err.message}`;
        reject(Object.assign(err, { reusedSocket: req.reusedSocket }));
      });
      const body = opts.body;
      if (body === undefined) req.end();
      else if (typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
      else {
        body.once('error', (err) => req.destroy(err));
        body.pipe(req);
      }
    });
  }
}

export async function readText(res: Readable, signal?: AbortSignal): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) {
    if (signal?.aborted) throw new InterruptedError('vSphere request aborted');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** `<Fault><faultstring>…</faultstring><detail><InvalidLoginFault xsi:type="InvalidLogin"/></detail></Fault>` */
export function parseFault(fault: XmlNode, method?: string): VSphereFault {
  const message = textOf(fault, 'faultstring') ?? '';
  const detail = child(fault, 'detail')?.children[0];
  const name =
    detail?.xsiType ?? detail?.name.replace(/Fault$/, '') ?? textOf(fault, 'faultcode') ?? 'SOAPFault';
  return new VSphereFault(name, message, { method });
}
