// One HTTP error type for every OpenStack service (gophercloud's ErrUnexpectedResponseCode),
// plus the parsing of the many error body shapes the services use.
import { hasCause, NonRetryableError, V2oError } from '../errors.js';
import { redactUrl } from '../redaction.js';

export interface OpenStackHttpErrorInit {
  method: string;
  url: string;
  status: number;
  expected: number[];
  requestId?: string;
  /** The service's own message, parsed from its error body. */
  serviceMessage?: string;
  /** The raw body, cut to a few KiB (never contains our secrets: they travel in requests only). */
  body?: string;
  retryAfterMs?: number;
  hint?: string;
  cause?: unknown;
}

/** A response whose status was not in the call's okCodes. */
export class OpenStackHttpError extends V2oError {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly expected: number[];
  readonly requestId?: string;
  readonly serviceMessage?: string;
  readonly body?: string;
  readonly retryAfterMs?: number;
  constructor(init: OpenStackHttpErrorInit) {
    const msg = init.serviceMessage ? `: ${init.serviceMessage}` : '';
    const rid = init.requestId ? ` (request ${init.requestId})` : '';
    super(`${init.method} ${redactUrl(init.url)} returned ${init.status}${msg}${rid}`, {
      cause: init.cause,
      hint: init.hint,
    });
    this.method = init.method;
    this.url = init.url;
    this.status = init.status;
    this.expected = init.expected;
    this.requestId = init.requestId;
    this.serviceMessage = init.serviceMessage;
    this.body = init.body;
    this.retryAfterMs = init.retryAfterMs;
  }
}

/**
 * A quota or limit was exceeded. Retrying cannot help until an operator raises the quota,
 * so this is a NonRetryableError (the engine fails the step at once); the HTTP error is its cause.
 */
export class OpenStackQuotaError extends NonRetryableError {
  /** The quota to raise, e.g. 'instances', 'cores', 'gigabytes', 'port'; undefined when the message does not say. */
  readonly quota?: string;
  readonly status: number;
  readonly requestId?: string;
  constructor(http: OpenStackHttpError, quota: string | undefined, service?: string) {
    const which = quota ? `the '${quota}' quota` : 'a quota';
    super(`${which} is exceeded: ${http.message}`, {
      cause: http,
      hint: quotaHint(quota, service),
    });
    this.quota = quota;
    this.status = http.status;
    this.requestId = http.requestId;
  }
}

/** A connection-level failure (refused, reset, timed out) after retries. */
export class OpenStackConnectionError extends V2oError {
  readonly method: string;
  readonly url: string;
  readonly code?: string;
  constructor(method: string, url: string, cause: unknown, hint?: string) {
    const code = (cause as { code?: string })?.code;
    const what = code ?? (cause instanceof Error ? cause.message : String(cause));
    super(`${method} ${redactUrl(url)} failed: ${what}`, { cause, hint });
    this.method = method;
    this.url = url;
    this.code = code;
  }
}

/** True when err (or its cause chain) is an OpenStack HTTP error with this status (or one of these). */
export function isStatus(err: unknown, ...status: number[]): boolean {
  const e = hasCause(err, OpenStackHttpError);
  return e !== undefined && status.includes(e.status);
}

/**
 * The service's message from an error body. Shapes seen in the wild:
 *  Nova/Cinder  {"itemNotFound": {"code": 404, "message": "..."}}, {"forbidden": {...}}, {"overLimit": {...}}
 *  Keystone     {"error": {"code": 401, "title": "Unauthorized", "message": "..."}}
 *  Neutron      {"NeutronError": {"type": "OverQuota", "message": "...", "detail": ""}}
 *  Placement    {"errors": [{"status": 409, "title": "...", "detail": "..."}]}
 *  Glance/webob {"code": "413 Request Entity Too Large", "title": "...", "message": "..."}, or plain text/HTML
 */
export function parseServiceMessage(body: string | undefined, contentType?: string): string | undefined {
  if (!body) return undefined;
  const text = body.trim();
  if (text.startsWith('{') || contentType?.includes('json')) {
    try {
      return clean(messageFromJson(JSON.parse(text)));
    } catch {
      // not JSON after all: fall through to text handling
    }
  }
  if (/^<(!doctype|html)/i.test(text) || contentType?.includes('html')) {
    const stripped = text
      .replace(/<head>[\s\S]*?<\/head>/i, '')
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim();
    return clean(stripped.replace(/^\d{3} [A-Za-z ]+?\s(?=[A-Z])/, ''));
  }
  // webob's plain text: "413 Request Entity Too Large\n\n<explanation>\n\n"
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length > 1 && /^\d{3} /.test(lines[0]!)) return clean(lines.slice(1).join(' '));
  return clean(text);
}

function messageFromJson(v: unknown): string | undefined {
  if (!v || typeof v !== 'object') return typeof v === 'string' ? v : undefined;
  const o = v as Record<string, unknown>;
  if (Array.isArray(o.errors) && o.errors.length > 0) {
    return o.errors
      .map((e) => {
        const x = e as Record<string, unknown>;
        return String(x.detail ?? x.title ?? x.message ?? '');
      })
      .filter(Boolean)
      .join('; ');
  }
  if (o.NeutronError && typeof o.NeutronError === 'object') {
    const n = o.NeutronError as Record<string, unknown>;
    return [n.type, n.message].filter(Boolean).join(': ');
  }
  if (typeof o.message === 'string') return o.message;
  if (typeof o.faultstring === 'string') return o.faultstring;
  if (typeof o.error === 'string') return o.error;
  // one wrapper key: {"itemNotFound": {...}}, {"error": {...}}, {"badRequest": {...}}
  const keys = Object.keys(o);
  if (keys.length === 1) {
    const inner = o[keys[0]!];
    if (inner && typeof inner === 'object') {
      const i = inner as Record<string, unknown>;
      if (typeof i.message === 'string') return i.message;
      if (typeof i.title === 'string') return i.title;
    }
  }
  return undefined;
}

function clean(s: string | undefined): string | undefined {
  if (!s) return undefined;
  const out = s
    .replace(/<br\s*\/?>/gi, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return out.length > 500 ? `${out.slice(0, 500)}…` : out || undefined;
}

/** Quota failures come as 403 (Nova), 409 (Neutron OverQuota), 413 (Nova/Cinder/Glance). */
export function isQuotaMessage(status: number, message: string | undefined): boolean {
  if (![403, 409, 413].includes(status) || !message) return false;
  return /quota|over ?limit|overquota|limit exceeded|exceeded.*limit|maximum number of .* (allowed|exceeded)|is over a limit/i.test(
    message,
  );
}

/** Which quota a service's message names, when it names one. */
export function quotaFromMessage(message: string): string | undefined {
  const patterns: RegExp[] = [
    // Nova: "Quota exceeded for cores: Requested 4, but already used 18 of 20 cores"
    /Quota exceeded for ([a-z_]+): Requested/i,
    // Neutron: "Quota exceeded for resources: ['port']."; Nova/Cinder OverQuota "...resources: ['volumes']"
    /Quota exceeded for resources: \[?'?([a-z_-]+)/i,
    // Cinder: "Maximum number of volumes allowed (10) exceeded for quota 'volumes'."
    /exceeded for quota '([a-z_-]+)'/i,
    // Cinder: "Requested volume or snapshot exceeds allowed gigabytes quota."
    /exceeds allowed ([a-z_ ]+?) quota/i,
    // oslo.limit (Glance unified limits): "Resource image_size_total is over limit of 1000 ..."
    /Resource ([a-z_]+) is over limit/i,
    // Nova: "Maximum number of ports exceeded", Cinder "Maximum number of snapshots allowed (10) exceeded"
    /Maximum number of ([a-z_ ]+?) (?:allowed|exceeded|exceeds)/i,
    // Nova: "Quota exceeded, too many key pairs."
    /too many ([a-z_ ]+?)(?:\.|$| in )/i,
    // Glance per-user storage quota
    /(storage) quota/i,
  ];
  for (const p of patterns) {
    const m = p.exec(message);
    if (m?.[1]) return m[1].trim().replace(/ /g, '_');
  }
  return undefined;
}

function quotaHint(quota: string | undefined, service?: string): string {
  const flag = quota ? `--${quota.replace(/_/g, '-')} <n> ` : '';
  if (service === 'image') {
    return 'ask an admin to raise the image storage quota (Glance user_storage_quota or the image_size_total limit in Keystone), or delete unused images';
  }
  return `ask an admin to raise it: openstack quota set ${flag}<project> (or free resources in the project), then resume`;
}
