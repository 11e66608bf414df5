// The everyday client: a logged-in SOAP session with ServiceContent, one re-login when the
// session is lost (NotAuthenticated), and logout at close.
import type { Logger } from 'pino';
import { ConfigError } from '../../errors.js';
import type { VSphereConfig } from '../config.js';
import { isFault } from '../errors.js';
import type { CallOptions, SoapCaller } from '../methods/caller.js';
import { retrievePropertiesEx } from '../methods/property-collector.js';
import { login, logout, retrieveServiceContent } from '../methods/session.js';
import { createAgent, explainConnectError } from '../soap/tls.js';
import { SoapTransport } from '../soap/transport.js';
import type { XmlNode } from '../soap/xml.js';
import type { ServiceContent } from '../types.js';

export interface ConnectOptions {
  log?: Logger;
  signal?: AbortSignal;
}

export class VSphereClient implements SoapCaller {
  readonly transport: SoapTransport;
  readonly serviceContent: ServiceContent;
  readonly log?: Logger;
  readonly username: string;
  readonly #password: string;
  #closed = false;
  #login?: Promise<void>;

  constructor(transport: SoapTransport, serviceContent: ServiceContent, config: VSphereConfig, log?: Logger) {
    this.transport = transport;
    this.serviceContent = serviceContent;
    this.username = config.username;
    this.#password = config.password;
    this.log = log;
  }

  /** host[:port] of vCenter/ESXi, used for `*` in lease and guest file URLs. */
  get host(): string {
    return this.transport.url.host;
  }

  get isVCenter(): boolean {
    return this.serviceContent.about.apiType === 'VirtualCenter';
  }

  /** One SOAP call; on NotAuthenticated it logs in again once and repeats the call. */
  async call(method: string, body: string, opts: CallOptions = {}): Promise<XmlNode> {
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await this.transport.call(method, body, opts);
        opts.check?.(res);
        return res;
      } catch (err) {
        if (
          attempt === 1 &&
          isFault(err, 'NotAuthenticated') &&
          method !== 'Login' &&
          method !== 'Logout' &&
          !this.#closed
        ) {
          this.log?.info({ method }, 'vSphere session lost; logging in again');
          await this.relogin(opts.signal);
          continue;
        }
        throw err;
      }
    }
  }

  /** Logs in (again); concurrent callers share one Login. */
  relogin(signal?: AbortSignal): Promise<void> {
    if (!this.#login) {
      this.transport.clearSession();
      this.#login = login(this.transport, this.serviceContent.sessionManager, this.username, this.#password, {
        signal,
      })
        .then(() => undefined)
        .finally(() => {
          this.#login = undefined;
        });
    }
    return this.#login;
  }

  /**
   * Makes sure the session is alive (logging in again if the server dropped it), for callers about
   * to use a cookie-authenticated HTTP endpoint with a body that cannot be replayed (uploads).
   */
  async ensureSession(signal?: AbortSignal): Promise<void> {
    const sm = this.serviceContent.sessionManager;
    // A lost session fails this call with NotAuthenticated, which `call` answers with one re-login.
    const r = await retrievePropertiesEx(
      this,
      this.serviceContent.propertyCollector,
      [{ select: { objects: [sm] }, type: sm.type, paths: ['currentSession'] }],
      {},
      { signal },
    );
    if (!r.objects[0]?.props.currentSession) await this.relogin(signal);
  }

  /** Logs out (best effort) and frees the sockets. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      if (this.transport.hasSession) {
        await logout(this.transport, this.serviceContent.sessionManager, { timeoutMs: 10_000 });
      }
    } catch (err) {
      this.log?.debug({ err: (err as Error).message }, 'vSphere logout failed');
    } finally {
      this.transport.clearSession();
      this.transport.agent.destroy();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Connects and logs in. Bad input (wrong password, unreachable host, untrusted certificate or
 * thumbprint mismatch) becomes a ConfigError (exit 2) with a hint.
 */
export async function connect(config: VSphereConfig, opts: ConnectOptions = {}): Promise<VSphereClient> {
  const agent = createAgent(config);
  const transport = new SoapTransport({
    url: config.url,
    agent,
    log: opts.log,
    timeoutMs: config.requestTimeoutMs,
  });
  let sc: ServiceContent;
  try {
    sc = await retrieveServiceContent(transport, {
      signal: opts.signal,
      timeoutMs: Math.min(config.requestTimeoutMs ?? 30_000, 30_000),
    });
  } catch (err) {
    agent.destroy();
    throw await explainConnectError(err, config.url);
  }
  const client = new VSphereClient(transport, sc, config, opts.log);
  try {
    await login(transport, sc.sessionManager, config.username, config.password, { signal: opts.signal });
  } catch (err) {
    agent.destroy();
    if (isFault(err, 'InvalidLogin')) {
      throw new ConfigError(
        `vSphere login failed for ${config.username} at ${config.url.host}: wrong user name or password`,
        {
          hint: 'check GOVC_USERNAME and GOVC_PASSWORD (or --username)',
          cause: err,
        },
      );
    }
    throw await explainConnectError(err, config.url);
  }
  opts.log?.debug(
    { host: config.url.host, user: config.username, api: sc.about.apiVersion },
    'vSphere session open',
  );
  return client;
}
