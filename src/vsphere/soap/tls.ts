// TLS for vSphere: verified by default; a CA file (pinned), a pinned certificate fingerprint,
// or --insecure. Node cannot check a fingerprint during the handshake, so the thumbprint agent
// hands a socket to HTTP only after it has compared the fingerprint: no request byte (and no
// password) reaches a server that does not match.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { ConfigError } from '../../errors.js';
import { formatThumbprint, type VSphereConfig } from '../config.js';

export class ThumbprintMismatchError extends ConfigError {
  readonly observedSha256: string;
  constructor(host: string, observedSha256: string) {
    super(
      `the certificate of ${host} does not match the pinned thumbprint (it is SHA-256 ${formatThumbprint(observedSha256)})`,
      {
        hint: `if you trust this certificate, pin it: GOVC_THUMBPRINT=${formatThumbprint(observedSha256)} (or --thumbprint)`,
      },
    );
    this.observedSha256 = observedSha256;
  }
}

function fingerprintHex(cert: tls.PeerCertificate, len: number): string {
  const f = len === 40 ? cert.fingerprint : cert.fingerprint256;
  return (f ?? '').replace(/:/g, '').toLowerCase();
}

/** An https.Agent that accepts exactly the certificate with this fingerprint (hex, SHA-256 or SHA-1). */
class ThumbprintAgent extends https.Agent {
  readonly #thumbprint: string;
  constructor(thumbprint: string, opts: https.AgentOptions) {
    super({ ...opts, rejectUnauthorized: false });
    this.#thumbprint = thumbprint;
  }

  override createConnection(
    reqOptions: https.RequestOptions,
    cb?: (err: Error | null, socket: Duplex) => void,
  ): Duplex | null | undefined {
    const options = reqOptions as tls.ConnectionOptions;
    // SNI must not carry an IP address (RFC 6066); Node warns and will ignore it.
    const servername = options.servername && !net.isIP(options.servername) ? options.servername : undefined;
    const socket = tls.connect({ ...options, servername, rejectUnauthorized: false });
    let done = false;
    const finish = (err: Error | null, s?: Duplex) => {
      if (done) return;
      done = true;
      socket.removeListener('error', onError);
      cb?.(err, s as Duplex);
    };
    const onError = (err: Error) => finish(err);
    socket.once('error', onError);
    // Callers that want the socket at once (HTTP mocking layers) still get the check: a mismatch
    // destroys the socket before any reply can be read.
    const sync = !cb;
    socket.once('secureConnect', () => {
      const seen = fingerprintHex(socket.getPeerCertificate(), this.#thumbprint.length);
      if (seen !== this.#thumbprint) {
        const sha256 = fingerprintHex(socket.getPeerCertificate(), 64);
        const err = new ThumbprintMismatchError(String(options.host ?? options.servername), sha256);
        socket.destroy(sync ? err : undefined);
        if (!sync) finish(err);
        return;
      }
      finish(null, socket);
    });
    return sync ? socket : undefined;
  }
}

export function createAgent(
  config: Pick<VSphereConfig, 'insecure' | 'caFiles' | 'thumbprint'>,
  thumbprint?: string,
): https.Agent {
  const base: https.AgentOptions = { keepAlive: true, maxSockets: 16 };
  const pin = thumbprint ?? config.thumbprint;
  if (pin) return new ThumbprintAgent(pin, base);
  if (config.insecure) return new https.Agent({ ...base, rejectUnauthorized: false });
  if (config.caFiles?.length) {
    const ca = config.caFiles.map((f) => {
      try {
        return readFileSync(f, 'utf8');
      } catch (err) {
        throw new ConfigError(`cannot read the CA file ${f}: ${(err as Error).message}`, {
          hint: 'set GOVC_TLS_CA_CERTS (or --ca-file) to a readable PEM file',
          cause: err,
        });
      }
    });
    return new https.Agent({ ...base, ca });
  }
  return new https.Agent(base);
}

/** Connects without verifying, only to read the certificate's SHA-256 fingerprint for an error message. */
export function observeThumbprint(host: string, port: number, timeoutMs = 5000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = tls.connect({
      host,
      port,
      servername: net.isIP(host) ? undefined : host,
      rejectUnauthorized: false,
    });
    const t = setTimeout(() => {
      s.destroy();
      resolve(undefined);
    }, timeoutMs);
    s.once('secureConnect', () => {
      clearTimeout(t);
      const f = fingerprintHex(s.getPeerCertificate(), 64);
      s.destroy();
      resolve(f || undefined);
    });
    s.once('error', () => {
      clearTimeout(t);
      resolve(undefined);
    });
  });
}

const CERT_ERRORS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

export function isCertificateError(err: unknown): boolean {
  const code = (err as { code?: string })?.code;
  return !!code && CERT_ERRORS.has(code);
}

const NET_ERRORS = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'ECONNRESET',
]);

/** Turns connection-level failures into ConfigErrors a person can act on; other errors pass through. */
export async function explainConnectError(err: unknown, url: URL): Promise<unknown> {
  if (err instanceof ConfigError) return err;
  const code = (err as { code?: string })?.code;
  const host = url.host;
  if (isCertificateError(err)) {
    const port = Number(url.port || 443);
    const seen = await observeThumbprint(url.hostname.replace(/^\[|\]$/g, ''), port);
    const pin = seen ? formatThumbprint(seen) : undefined;
    return new ConfigError(
      `the certificate of ${host} is not trusted (${code})${pin ? `; its SHA-256 thumbprint is ${pin}` : ''}`,
      {
        hint: pin
          ? `check the thumbprint with your vCenter administrator, then pin it: GOVC_THUMBPRINT=${pin} (or --thumbprint), or give the CA: GOVC_TLS_CA_CERTS=ca.pem (or --ca-file)`
          : 'give the CA with GOVC_TLS_CA_CERTS=ca.pem (or --ca-file), or pin the certificate with GOVC_THUMBPRINT',
        cause: err,
      },
    );
  }
  if (code && NET_ERRORS.has(code)) {
    const what =
      code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? `cannot resolve ${url.hostname}`
        : code === 'ECONNREFUSED'
          ? `connection to ${host} refused`
          : code === 'ETIMEDOUT'
            ? `connection to ${host} timed out`
            : `cannot reach ${host} (${code})`;
    return new ConfigError(what, {
      hint: 'check GOVC_URL (or --url): host name, port and that vCenter/ESXi is up',
      cause: err,
    });
  }
  return err;
}
