// The authenticated session: a Keystone token reused until shortly before it expires,
// refreshed on demand (and once on a 401, by the service clients), plus endpoint lookup.
import { ConfigError } from '../../errors.js';
import type { Http } from '../client/http.js';
import type { CloudConfig } from '../config.js';
import { describeCatalog, findEndpoint } from './catalog.js';
import { createToken, revokeToken } from './tokens/requests.js';
import type { Token } from './tokens/results.js';

export interface TokenSource {
  /** A valid token id (cached, or issued now). */
  token(signal?: AbortSignal): Promise<string>;
  /** The service said 401 to this token: forget it so the next token() issues a new one. */
  invalidate(tokenId: string): void;
}

export interface IdentityOptions {
  /** Refresh this long before expiry (default 5 min, at most a quarter of the token's lifetime). */
  refreshMarginMs?: number;
  now?: () => number;
}

export class Identity implements TokenSource {
  private current?: Token;
  private pending?: Promise<Token>;
  private readonly marginMs: number;
  private readonly now: () => number;
  /** How many tokens were issued (observable in tests and logs). */
  issued = 0;

  constructor(
    readonly config: CloudConfig,
    private readonly http: Http,
    opts: IdentityOptions = {},
  ) {
    this.marginMs = opts.refreshMarginMs ?? 5 * 60_000;
    this.now = opts.now ?? Date.now;
  }

  /** The current token's details (project, roles, catalog); authenticates when needed. */
  async authenticate(signal?: AbortSignal): Promise<Token> {
    if (this.current && !this.expiring(this.current)) return this.current;
    if (!this.pending) {
      // Concurrent callers share one token request.
      this.pending = createToken(this.http, this.config, { signal })
        .then((t) => {
          this.current = t;
          this.issued++;
          this.http.log?.debug(
            { cloud: this.config.name, project: t.project?.name, expiresAt: t.expiresAt.toISOString() },
            'keystone token issued',
          );
          return t;
        })
        .finally(() => {
          this.pending = undefined;
        });
    }
    return this.pending;
  }

  async token(signal?: AbortSignal): Promise<string> {
    return (await this.authenticate(signal)).id;
  }

  invalidate(tokenId: string): void {
    if (this.current?.id === tokenId) this.current = undefined;
  }

  get projectId(): string | undefined {
    return this.current?.project?.id;
  }

  /**
   * The endpoint of a service (catalog type or alias, e.g. 'block-storage' finds 'volumev3'),
   * for the cloud's interface and region, unless clouds.yaml overrides it.
   */
  async endpointFor(serviceType: string, signal?: AbortSignal): Promise<string> {
    const override =
      this.config.endpointOverrides[serviceType] ??
      (serviceType === 'block-storage'
        ? (this.config.endpointOverrides.volumev3 ?? this.config.endpointOverrides.volume)
        : undefined);
    const t = await this.authenticate(signal);
    if (override) return override.replace(/[$%]\((project_id|tenant_id)\)s/g, t.project?.id ?? '');
    const url = findEndpoint(t.catalog, {
      serviceType,
      interface: this.config.interface,
      region: this.config.regionName,
      projectId: t.project?.id,
    });
    if (url) return url;
    const where = `interface ${this.config.interface}${this.config.regionName ? `, region ${this.config.regionName}` : ''}`;
    throw new ConfigError(
      `the service catalog of cloud '${this.config.name}' has no '${serviceType}' endpoint (${where}); it has: ${
        describeCatalog(t.catalog) || 'nothing (unscoped token?)'
      }`,
      {
        hint: `set region_name/interface (OS_REGION_NAME/OS_INTERFACE) to one the catalog offers, add ${serviceType.replace(/-/g, '_')}_endpoint_override to the cloud in clouds.yaml, or ask the cloud admin to register the service`,
      },
    );
  }

  /** Revoke the token (best effort) when the run is over. */
  async close(): Promise<void> {
    const t = this.current;
    this.current = undefined;
    if (!t) return;
    try {
      await revokeToken(this.http, this.config.auth.authUrl, t.id);
    } catch (err) {
      this.http.log?.debug({ err: (err as Error).message }, 'token revoke failed (ignored)');
    }
  }

  private expiring(t: Token): boolean {
    const lifetime = t.expiresAt.getTime() - (t.issuedAt?.getTime() ?? this.now());
    const margin = Math.min(this.marginMs, Math.max(0, lifetime / 4));
    return this.now() >= t.expiresAt.getTime() - margin;
  }
}
