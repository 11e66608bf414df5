// Step 2: get the virtio-win ISO onto this machine — a local path as is, or an http(s) URL
// downloaded into <state dir>/cache/virtio-win/ with Range resume — and verify its sha256.

import { createHash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  renameSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ConfigError, NonRetryableError, V2oError } from '../../errors.js';
import { formatBytes } from '../../format-bytes.js';
import { type Ctx, crashPoint, type MigrationStep } from './common.js';

export interface FetchIsoOutput {
  localPath: string;
  sha256: string;
  size: number;
  /** Where it came from (a path, or a URL without query string). */
  origin: string;
  cached: boolean;
}

export class IsoChecksumError extends NonRetryableError {}

export async function sha256File(
  path: string,
  signal?: AbortSignal,
  onBytes?: (n: number) => void,
): Promise<string> {
  const h = createHash('sha256');
  let n = 0;
  const rs = createReadStream(path, { highWaterMark: 1 << 20 });
  rs.on('data', (c) => {
    n += (c as Buffer).length;
    onBytes?.(n);
  });
  await pipeline(rs, h, { signal });
  return h.digest('hex');
}

function safeUrl(u: string): string {
  const url = new URL(u);
  url.username = '';
  url.password = '';
  url.search = '';
  return url.toString();
}

/** GET with an optional Range; follows up to 5 redirects. */
function get(
  url: string,
  headers: Record<string, string>,
  signal: AbortSignal,
  hops = 0,
): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.get(url, { headers, signal }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location && hops < 5) {
        res.resume();
        resolve(get(new URL(res.headers.location, url).toString(), headers, signal, hops + 1));
        return;
      }
      resolve(res);
    });
    req.on('error', reject);
  });
}

/** Downloads `url` to `dest`, continuing a `.part` file with Range when the server allows it. */
export async function downloadResumable(
  url: string,
  dest: string,
  signal: AbortSignal,
  onProgress: (done: number, total?: number) => void,
): Promise<void> {
  const part = `${dest}.part`;
  const have = existsSync(part) ? statSync(part).size : 0;
  const res = await get(url, have > 0 ? { Range: `bytes=${have}-` } : {}, signal);
  const status = res.statusCode ?? 0;
  if (status === 416) {
    // The .part is already complete (or bigger than the file): start over to be sure.
    res.resume();
    unlinkSync(part);
    return downloadResumable(url, dest, signal, onProgress);
  }
  if (status !== 200 && status !== 206) {
    res.resume();
    throw new V2oError(`downloading the virtio-win ISO from ${safeUrl(url)} failed: HTTP ${status}`, {
      hint: 'check drivers.virtioWin.url in the plan (or download the ISO yourself and set drivers.virtioWin.path)',
    });
  }
  const append = status === 206;
  const start = append ? have : 0;
  const len = Number(res.headers['content-length']);
  const total = Number.isFinite(len) ? start + len : undefined;
  let done = start;
  res.on('data', (c: Buffer) => {
    done += c.length;
    onProgress(done, total);
  });
  await pipeline(res, createWriteStream(part, { flags: append ? 'a' : 'w' }), { signal });
  if (total !== undefined && statSync(part).size !== total) {
    throw new V2oError(
      `the virtio-win ISO download ended early (${statSync(part).size} of ${total} bytes); retrying resumes it`,
    );
  }
  renameSync(part, dest);
}

export const fetchVirtioIso: MigrationStep<FetchIsoOutput> = {
  id: 'fetch-virtio-iso',
  title: 'Get the virtio-win ISO',
  retry: {
    attempts: 5,
    initialDelayMs: 2_000,
    backoff: 2,
    maxDelayMs: 30_000,
    nonRetryable: ['IsoChecksumError'],
  },
  timeoutMs: 60 * 60_000,
  plan: ({ params }) => {
    const iso = params.plan.drivers?.iso;
    if (!iso) return { summary: 'no virtio-win ISO in the plan: skipped', skip: true };
    return {
      summary: iso.url
        ? `download ${safeUrl(iso.url)} into the state dir cache (resumable)${iso.sha256 ? ', verify sha256' : ''}`
        : `use ${iso.path}${iso.sha256 ? ', verify sha256' : ''}`,
      details: { ...iso, url: iso.url ? safeUrl(iso.url) : undefined },
    };
  },
  skipIf: (ctx) => !ctx.params.plan.drivers?.iso,
  async run(ctx: Ctx) {
    crashPoint(ctx, 'before');
    const iso = ctx.params.plan.drivers!.iso!;
    const want = iso.sha256?.toLowerCase();
    const verify = async (path: string) => {
      ctx.progress.update({ message: 'verifying sha256' });
      const got = await sha256File(path, ctx.signal);
      if (want && got !== want) {
        throw new IsoChecksumError(`the virtio-win ISO ${path} has sha256 ${got}, the plan expects ${want}`, {
          hint: 'the file is corrupt or another version: fix drivers.virtioWin.sha256, or delete the file and resume',
        });
      }
      return got;
    };
    if (iso.path) {
      if (!existsSync(iso.path)) {
        throw new ConfigError(`the virtio-win ISO ${iso.path} does not exist`, {
          hint: 'fix drivers.virtioWin.path in the plan',
        });
      }
      const sha256 = await verify(iso.path);
      return { localPath: iso.path, sha256, size: statSync(iso.path).size, origin: iso.path, cached: false };
    }
    const url = iso.url!;
    const dir = join(ctx.services.stateDir, 'cache', 'virtio-win');
    mkdirSync(dir, { recursive: true });
    // Named by content when the hash is known (shared by every plan that uses it), else by URL.
    const name = want
      ? `${want}.iso`
      : `url-${createHash('sha256').update(url).digest('hex').slice(0, 16)}.iso`;
    const dest = join(dir, name);
    let cached = existsSync(dest);
    if (cached && want) {
      try {
        await verify(dest);
      } catch (err) {
        if (!(err instanceof IsoChecksumError)) throw err;
        ctx.log.warn({ dest }, 'cached ISO does not match its sha256; downloading again');
        unlinkSync(dest);
        cached = false;
      }
    }
    if (!cached) {
      await downloadResumable(url, dest, ctx.signal, (done, total) => {
        ctx.progress.update({ done, total, unit: 'bytes' });
        if (total && done >= total / 2) crashPoint(ctx, 'mid');
      });
    }
    let sha256: string;
    try {
      sha256 = await verify(dest);
    } catch (err) {
      if (err instanceof IsoChecksumError) unlinkSync(dest); // never keep a bad file in the cache
      throw err;
    }
    const size = statSync(dest).size;
    ctx.log.info({ dest, size, sha256, cached }, 'virtio-win ISO ready');
    ctx.progress.update({ message: `${formatBytes(size)}${cached ? ' (cached)' : ''}` });
    crashPoint(ctx, 'after');
    return { localPath: dest, sha256, size, origin: safeUrl(url), cached };
  },
};
