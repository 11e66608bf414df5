// Failures before any response, in words an operator can act on: TLS and DNS problems are bad input
// (ConfigError, exit 2) with the fix; the rest are OpenStackConnectionError. One copy for the got
// path (JSON calls) and the node:http(s) path (streamed uploads).
import { ConfigError, InterruptedError } from '../../errors.js';
import { OpenStackConnectionError } from '../errors.js';

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

/** Codes that mean nothing reached the service: a retry cannot do anything twice. */
export const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Set on an error when the TLS handshake did not finish within the connect limit. */
export const TLS_HANDSHAKE_TIMEOUT = 'ETLSHANDSHAKETIMEOUT';

export interface NetworkContext {
  method: string;
  url: string;
  /** The fix for an untrusted certificate (names the CA bundle when one is configured). */
  tlsHint: string;
  connectTimeoutMs: number;
}

export function tlsHintFor(cacert: string | undefined): string {
  return cacert
    ? `the CA bundle ${cacert} does not vouch for this server: fix cacert (or OS_CACERT), or the server's certificate`
    : 'set cacert: /path/to/ca.pem in clouds.yaml (or OS_CACERT) to the CA that signed the cloud’s certificate';
}

/** True for the failures toNetworkError turns into ConfigError: retrying cannot fix them. */
export function isBadInputCode(code: string | undefined): boolean {
  return (
    !!code &&
    (TLS_CODES.has(code) || code === TLS_HANDSHAKE_TIMEOUT || code === 'ENOTFOUND' || code === 'EAI_NONAME')
  );
}

export function toNetworkError(err: unknown, c: NetworkContext): Error {
  if (err instanceof ConfigError || err instanceof InterruptedError) return err;
  const code = (err as { code?: string })?.code;
  const host = safeHost(c.url);
  if (code && TLS_CODES.has(code)) {
    return new ConfigError(`TLS to ${host} failed: ${(err as Error).message} (${code})`, {
      cause: err,
      hint:
        code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'EPROTO'
          ? `the endpoint ${host} does not speak TLS on that port: use http:// or the TLS port in auth_url/the catalog`
          : c.tlsHint,
    });
  }
  if (code === TLS_HANDSHAKE_TIMEOUT) {
    return new ConfigError(`TLS to ${host} failed: no TLS handshake within ${c.connectTimeoutMs} ms`, {
      cause: err,
      hint: `if ${host} speaks plain HTTP use http:// in auth_url (or the catalog); otherwise check proxies and firewalls on the way`,
    });
  }
  if (code === 'ENOTFOUND' || code === 'EAI_NONAME') {
    return new ConfigError(`host ${host} not found (DNS)`, {
      cause: err,
      hint: 'check auth_url in clouds.yaml (or OS_AUTH_URL) and the endpoints in the service catalog',
    });
  }
  return new OpenStackConnectionError(c.method, c.url, err, connectionHint(code, c.url));
}

function connectionHint(code: string | undefined, url: string): string {
  if (code === 'ECONNREFUSED') {
    return `nothing listens at ${safeHost(url)}: check the service is running and the URL in clouds.yaml or the catalog`;
  }
  return 'check the network path to the cloud; the step can be resumed';
}

function safeHost(u: string): string {
  try {
    return new URL(u).host;
  } catch {
    return u;
  }
}

export function interrupted(signal: AbortSignal): InterruptedError {
  const r = signal.reason;
  if (r instanceof InterruptedError) return r;
  return new InterruptedError('interrupted', { cause: r });
}
