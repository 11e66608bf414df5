// Datastore files over HTTP (/folder/<path>?dcPath=…&dsName=…), streamed both ways with Range and
// progress. Every path segment is percent-encoded, so names with spaces and non-ASCII work.
import type { Readable } from 'node:stream';
import { VSphereHttpError } from '../errors.js';
import type { VSphereClient } from './client.js';
import { expectStatus, progressCounter, safeUrl, withSession } from './http.js';

export interface DatastoreFile {
  /** Datacenter inventory path (its name, or "folder/name" when it sits in a folder). */
  datacenter: string;
  /** Datastore name. */
  datastore: string;
  /** Path inside the datastore, "/"-separated, unencoded: "iso/virtio win.iso". */
  path: string;
}

export interface TransferOptions {
  signal?: AbortSignal;
  /** Bytes transferred so far (called at most every 250 ms and at the end). */
  onProgress?: (bytes: number) => void;
}

/** A pure builder for the datastore HTTP URL. */
export function datastoreUrl(base: URL, file: DatastoreFile): URL {
  const path = file.path.replace(/^\/+/, '').split('/').map(encodeURIComponent).join('/');
  const u = new URL(`/folder/${path}`, base);
  u.search = new URLSearchParams({ dcPath: file.datacenter, dsName: file.datastore }).toString();
  return u;
}

/** Streams `size` bytes from `source` into the datastore file (created or replaced). */
export async function datastoreUpload(
  client: VSphereClient,
  file: DatastoreFile,
  source: Readable,
  size: number,
  opts: TransferOptions = {},
): Promise<void> {
  const url = datastoreUrl(client.transport.url, file);
  await client.ensureSession(opts.signal); // the body is a stream: a 401 could not be retried
  const counter = progressCounter(opts.onProgress);
  const body = source.pipe(counter);
  source.once('error', (err) => counter.destroy(err));
  const res = await client.transport.request({
    method: 'PUT',
    url,
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': size },
    body,
    signal: opts.signal,
    timeoutMs: 0,
  });
  await expectStatus(res, 'PUT', url, [200, 201, 204]);
  res.resume();
}

export interface DownloadOptions extends TransferOptions {
  /** Byte range, inclusive end (HTTP Range semantics); end omitted = to the end of the file. */
  range?: { start: number; end?: number };
}

/**
 * Opens the datastore file for reading. The stream carries `contentLength` (bytes in this reply)
 * and `totalSize` (the file's size when the server says it). 404 → VSphereHttpError status 404.
 */
export async function datastoreDownload(
  client: VSphereClient,
  file: DatastoreFile,
  opts: DownloadOptions = {},
): Promise<Readable & { contentLength?: number; totalSize?: number; rangeStart?: number }> {
  const url = datastoreUrl(client.transport.url, file);
  const headers: Record<string, string> = {};
  if (opts.range) headers.Range = `bytes=${opts.range.start}-${opts.range.end ?? ''}`;
  const res = await withSession(
    client,
    async () => {
      const r = await client.transport.request({
        method: 'GET',
        url,
        headers,
        signal: opts.signal,
        timeoutMs: 0,
      });
      await expectStatus(r, 'GET', url, opts.range ? [206] : [200]);
      return r;
    },
    opts.signal,
  );
  const len = Number(res.headers['content-length']);
  const contentRange = String(res.headers['content-range'] ?? '');
  const total = /\/(\d+)$/.exec(contentRange)?.[1];
  const rangeStart = /^bytes (\d+)-/.exec(contentRange)?.[1];
  const out = (
    opts.onProgress ? res.pipe(progressCounter(opts.onProgress, opts.range?.start ?? 0)) : res
  ) as Readable & {
    contentLength?: number;
    totalSize?: number;
    rangeStart?: number;
  };
  if (opts.onProgress) res.once('error', (err) => out.destroy(err));
  out.contentLength = Number.isFinite(len) ? len : undefined;
  out.totalSize = total ? Number(total) : opts.range ? undefined : out.contentLength;
  out.rangeStart = rangeStart === undefined ? undefined : Number(rangeStart);
  return out;
}

/** HEAD on the file: whether it exists and its size. */
export async function datastoreStat(
  client: VSphereClient,
  file: DatastoreFile,
  opts: { signal?: AbortSignal } = {},
): Promise<{ exists: boolean; size?: number }> {
  const url = datastoreUrl(client.transport.url, file);
  const res = await withSession(
    client,
    async () => {
      const r = await client.transport.request({ method: 'HEAD', url, signal: opts.signal });
      r.resume();
      if (r.statusCode !== 200 && r.statusCode !== 404)
        throw new VSphereHttpError('HEAD', safeUrl(url), r.statusCode ?? 0, '');
      return r;
    },
    opts.signal,
  );
  if (res.statusCode === 404) return { exists: false };
  const len = Number(res.headers['content-length']);
  return { exists: true, size: Number.isFinite(len) ? len : undefined };
}
