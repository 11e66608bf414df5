// Shared helpers for the plain-HTTP endpoints beside SOAP (datastore, NFC lease, guest files).
import type { IncomingMessage } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import { VSphereHttpError } from '../errors.js';
import { readText } from '../soap/transport.js';
import type { VSphereClient } from './client.js';

/** `https://*​/…` (the host vSphere leaves for the client to fill in) → the vCenter/ESXi host we talk to. */
export function resolveStarHost(url: string, host: string): URL {
  // `https://*:443/guestFile?…` keeps its port; `https://*/nfc/…` takes vCenter's host:port.
  return new URL(
    url.replace(/^(https?:\/\/)\*(:\d+)?(?=\/)/, (_, scheme: string, port?: string) =>
      port ? `${scheme}${host.replace(/:\d+$/, '')}${port}` : `${scheme}${host}`,
    ),
  );
}

/** URL for messages: no query (it can carry tickets). */
export function safeUrl(u: URL): string {
  return `${u.origin}${u.pathname}`;
}

/** Throws VSphereHttpError (with a short body) unless the status is one of `ok`. */
export async function expectStatus(
  res: IncomingMessage,
  method: string,
  url: URL,
  ok: number[],
): Promise<void> {
  const status = res.statusCode ?? 0;
  if (ok.includes(status)) return;
  let body = '';
  try {
    body = (await readText(res)).slice(0, 500).trim();
  } catch {
    // the body is only for the message
  }
  throw new VSphereHttpError(method, safeUrl(url), status, body);
}

/** Counts bytes flowing through; `onProgress(total)` at most every `everyMs`, and once at the end. */
export function progressCounter(
  onProgress: ((bytes: number) => void) | undefined,
  start = 0,
  everyMs = 250,
): Transform {
  let bytes = start;
  let last = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      bytes += chunk.length;
      const now = Date.now();
      if (onProgress && now - last >= everyMs) {
        last = now;
        onProgress(bytes);
      }
      cb(null, chunk);
    },
    flush(cb) {
      onProgress?.(bytes);
      cb();
    },
  });
}

/**
 * Runs a request on a cookie-authenticated endpoint; when the server says 401 (the session
 * expired during a long migration) it logs in again once and repeats. Only for requests that can
 * be repeated (GET, HEAD); uploads call client.ensureSession() first instead.
 */
export async function withSession<T>(
  client: VSphereClient,
  fn: () => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof VSphereHttpError && err.status === 401) {
      client.log?.info({ url: err.url }, 'vSphere session expired; logging in again');
      await client.relogin(signal);
      return fn();
    }
    throw err;
  }
}
