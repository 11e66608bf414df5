// One streamed request body (Glance image data and staging) over node:http(s), no retries.
//
// Why not got: the upload is `pipeline(source, req)`, where `req.write()` returning false pauses the
// source until the socket drains, so memory stays at a few buffers for a multi-GiB body; and when the
// service answers before taking the whole body (401, 413 ...) we must see that response and stop the
// source at once. got 14 wraps stream bodies in its own machinery (and refuses to retry them) and
// reports such an early response only as a write error, so this one path keeps node:http(s).
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { redactUrl } from '../../redaction.js';
import { type Http, type RawResponse, requestIdOf } from './http.js';
import { interrupted, TLS_HANDSHAKE_TIMEOUT, toNetworkError } from './network-errors.js';

export interface StreamRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  /** Called once, when the request starts. */
  open: () => Readable;
  contentType: string;
  /** Sent as Content-Length when known, else the body is chunked. */
  size?: number;
  signal?: AbortSignal;
  /** Socket inactivity limit. */
  timeoutMs?: number;
}

/** An error of the body's source (not the network): passed on as it is. */
class SourceFailed {
  constructor(readonly error: unknown) {}
}

/** One exchange. Rejects with ConfigError (TLS, DNS), InterruptedError, OpenStackConnectionError or the source's error. */
export function sendStream(h: Http, req: StreamRequest): Promise<RawResponse> {
  const started = Date.now();
  const url = new URL(req.url);
  const isHttps = url.protocol === 'https:';
  const headers: Record<string, string> = {
    'User-Agent': h.userAgent,
    ...req.headers,
    'Content-Type': req.contentType,
  };
  if (req.size !== undefined) headers['Content-Length'] = String(req.size);
  else headers['Transfer-Encoding'] = 'chunked';
  const signal = req.signal;
  if (signal?.aborted) return Promise.reject(interrupted(signal));
  const fail = (err: unknown) =>
    err instanceof SourceFailed
      ? err.error
      : toNetworkError(err, {
          method: req.method,
          url: req.url,
          tlsHint: h.tlsHint,
          connectTimeoutMs: h.connectTimeoutMs,
        });

  return new Promise<RawResponse>((resolve, reject) => {
    let settled = false;
    let gotResponse = false;
    let bodyDone = false;
    let source: Readable | undefined;
    let sourceError: unknown;
    let bodySent: Promise<void> | undefined;
    const finish = (err: unknown, res?: RawResponse) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      if (err) return reject(fail(err));
      h.log?.debug(
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
    };
    const creq = (isHttps ? https : http).request(url, {
      method: req.method,
      headers,
      agent: isHttps ? h.httpsAgent : h.httpAgent,
    });
    const onAbort = () => {
      source?.destroy();
      creq.destroy();
      if (!settled) {
        settled = true;
        reject(interrupted(signal!));
      }
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const timeoutMs = req.timeoutMs ?? h.timeoutMs;
    creq.setTimeout(timeoutMs, () => {
      creq.destroy(Object.assign(new Error(`no data for ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    });
    creq.on('socket', (sock) => {
      if (creq.reusedSocket) return;
      const code = isHttps ? TLS_HANDSHAKE_TIMEOUT : 'ECONNTIMEDOUT';
      const timer = setTimeout(() => {
        creq.destroy(Object.assign(new Error(`no connection within ${h.connectTimeoutMs} ms`), { code }));
      }, h.connectTimeoutMs);
      sock.once(isHttps ? 'secureConnect' : 'connect', () => clearTimeout(timer));
      sock.once('close', () => clearTimeout(timer));
    });
    creq.on('response', (res) => {
      gotResponse = true;
      // The service refused the body before taking all of it (401, 413 ...): stop sending. A success
      // can arrive as the last bytes go out, before the source has ended: let that body finish.
      if (!bodyDone && !creq.writableEnded && source && (res.statusCode ?? 0) >= 300) {
        source.unpipe();
        source.destroy();
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const done = () =>
          finish(undefined, {
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          });
        // A success answers the whole body: report it once the source has ended too, so the caller
        // never sees a finished upload whose stream is still being torn down.
        if ((res.statusCode ?? 0) < 300 && bodySent) bodySent.then(done, done);
        else done();
      });
      res.on('error', (err) => finish(err));
      res.on('aborted', () => finish(new Error('response aborted')));
    });
    creq.on('error', (err) => {
      if (gotResponse) return;
      const end = () => finish(sourceError !== undefined ? new SourceFailed(sourceError) : err);
      // A service that rejects an upload early may reset the socket right after its response;
      // give that response a moment to be parsed before calling it a network failure.
      if (!bodyDone && sourceError === undefined) setTimeout(() => gotResponse || end(), 500);
      else end();
    });
    try {
      source = req.open();
    } catch (e) {
      creq.destroy();
      finish(new SourceFailed(e));
      return;
    }
    source.once('error', (e) => {
      if (!gotResponse) sourceError = e;
    });
    bodySent = pipeline(source, creq).then(
      () => {
        bodyDone = true;
      },
      () => {
        // errors are reported through creq's 'error' (or the response already came)
      },
    );
  });
}
