// One API call: the exchange, the okCodes check, the error shape, and retries as data
// (which statuses, only idempotent methods, Retry-After honoured) through p-retry.
import { setTimeout as sleepTimer } from 'node:timers/promises';
import pRetry, { AbortError } from 'p-retry';
import type { Logger } from 'pino';
import { ConfigError, InterruptedError } from '../../errors.js';
import { redactUrl } from '../../redaction.js';
import {
  isQuotaMessage,
  OpenStackConnectionError,
  OpenStackHttpError,
  OpenStackQuotaError,
  parseServiceMessage,
  quotaFromMessage,
} from '../errors.js';
import {
  type RawRequest,
  type RawResponse,
  requestIdOf,
  type Transport,
  TransportError,
} from './transport.js';

/** Retry defaults, as data. */
export interface HttpRetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  minDelayMs: number;
  maxDelayMs: number;
  factor: number;
  /** A Retry-After longer than this is not waited for: the error is raised instead. */
  maxRetryAfterMs: number;
  /** Statuses retried for idempotent methods (GET, HEAD, PUT, DELETE, PATCH on JSON patch is not). */
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

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

export interface CallOptions {
  okCodes: number[];
  /** Overrides the method's idempotency (e.g. POST /auth/tokens or os-getConsoleOutput are safe). */
  idempotent?: boolean;
  retry?: Partial<HttpRetryPolicy> | false;
  /** Catalog service type, for quota hints. */
  service?: string;
}

export interface CallEnv {
  transport: Transport;
  log?: Logger;
  /** Injected for tests; defaults to an abortable timer. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export const defaultSleep = async (ms: number, signal?: AbortSignal): Promise<void> => {
  try {
    await sleepTimer(ms, undefined, { signal });
  } catch (e) {
    if (signal?.aborted) throw new InterruptedError('interrupted', { cause: signal.reason });
    throw e;
  }
};

/** Send with retries; resolve with the response when its status is in okCodes, else throw. */
export async function call(env: CallEnv, req: RawRequest, opts: CallOptions): Promise<RawResponse> {
  const policy: HttpRetryPolicy | undefined =
    opts.retry === false ? undefined : { ...defaultRetryPolicy, ...(opts.retry ?? {}) };
  const idempotent = opts.idempotent ?? IDEMPOTENT.has(req.method);
  const sleep = env.sleep ?? defaultSleep;

  const attempt = async (): Promise<RawResponse> => {
    let res: RawResponse;
    try {
      res = await env.transport.send(req);
    } catch (err) {
      if (err instanceof ConfigError || err instanceof InterruptedError) throw new AbortError(err);
      if (err instanceof TransportError) {
        const retryable = policy && !err.sourceFailed && connectionRetryable(err, idempotent);
        const wrapped = err.sourceFailed
          ? ((err.cause as Error) ?? err)
          : new OpenStackConnectionError(
              req.method,
              req.url,
              err.cause ?? err,
              connectionHint(err.code, req.url),
            );
        if (!retryable) throw new AbortError(wrapped);
        throw wrapped;
      }
      throw new AbortError(err as Error);
    }
    if (opts.okCodes.includes(res.status)) return res;
    const err = toHttpError(req, res, opts);
    if (err instanceof OpenStackQuotaError) throw new AbortError(err);
    const retryAfterMs = err.retryAfterMs;
    const idempotentOr429 = idempotent || err.status === 429;
    const retryable =
      !!policy?.statuses.includes(err.status) &&
      idempotentOr429 &&
      (retryAfterMs === undefined || retryAfterMs <= (policy?.maxRetryAfterMs ?? 0));
    if (!retryable) throw new AbortError(err);
    throw err;
  };

  if (!policy) {
    try {
      return await attempt();
    } catch (e) {
      throw e instanceof AbortError ? e.originalError : e;
    }
  }
  try {
    return await pRetry(attempt, {
      retries: policy.retries,
      // Delays are ours (backoff vs. Retry-After), slept in onFailedAttempt.
      minTimeout: 0,
      maxTimeout: 0,
      signal: req.signal,
      onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
        if (retriesLeft <= 0) return;
        const backoff = Math.min(policy.maxDelayMs, policy.minDelayMs * policy.factor ** (attemptNumber - 1));
        const retryAfter = error instanceof OpenStackHttpError ? error.retryAfterMs : undefined;
        const delay = retryAfter !== undefined ? Math.max(retryAfter, 0) : backoff;
        env.log?.warn(
          {
            method: req.method,
            url: redactUrl(req.url),
            status: (error as OpenStackHttpError).status,
            code: (error as OpenStackConnectionError).code,
            attempt: attemptNumber,
            delayMs: delay,
          },
          'openstack request failed; retrying',
        );
        await sleep(delay, req.signal);
      },
    });
  } catch (e) {
    if (req.signal?.aborted && !(e instanceof InterruptedError) && !(e instanceof ConfigError)) {
      throw new InterruptedError('interrupted', { cause: req.signal.reason });
    }
    throw e;
  }
}

function connectionRetryable(err: TransportError, idempotent: boolean): boolean {
  // Nothing reached the service: safe for every method.
  if (['ECONNREFUSED', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'].includes(err.code ?? '')) return true;
  // A keep-alive socket the server had closed: the request was never read (Node's documented pattern).
  if (err.staleSocket) return true;
  return idempotent;
}

function connectionHint(code: string | undefined, url: string): string {
  if (code === 'ECONNREFUSED') {
    return `nothing listens at ${new URL(url).host}: check the service is running and the URL in clouds.yaml or the catalog`;
  }
  return 'check the network path to the cloud; the step can be resumed';
}

export function toHttpError(
  req: RawRequest,
  res: RawResponse,
  opts: CallOptions,
): OpenStackHttpError | OpenStackQuotaError {
  const text = res.body.toString('utf8');
  const ct = String(res.headers['content-type'] ?? '');
  const serviceMessage = parseServiceMessage(text, ct);
  const http = new OpenStackHttpError({
    method: req.method,
    url: req.url,
    status: res.status,
    expected: opts.okCodes,
    requestId: requestIdOf(res.headers),
    serviceMessage,
    body: text.length > 4096 ? `${text.slice(0, 4096)}…` : text,
    retryAfterMs: parseRetryAfter(res.headers['retry-after']),
  });
  if (isQuotaMessage(res.status, serviceMessage)) {
    return new OpenStackQuotaError(http, quotaFromMessage(serviceMessage!), opts.service);
  }
  return http;
}

/** Retry-After is delta-seconds or an HTTP date. */
export function parseRetryAfter(v: string | string[] | undefined, now = Date.now()): number | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (!s) return undefined;
  if (/^\d+(\.\d+)?$/.test(s.trim())) return Math.round(Number(s) * 1000);
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}
