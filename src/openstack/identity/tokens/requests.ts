// POST /v3/auth/tokens: password or application-credential auth, project or domain scope.

import { ConfigError } from '../../../errors.js';
import type { Http, RawResponse } from '../../client/http.js';
import type { CloudAuth, CloudConfig } from '../../config.js';
import { OpenStackHttpError } from '../../errors.js';
import { type Token, toToken } from './results.js';
import { tokensUrl } from './urls.js';

/** The auth request body (pure; tests check it without HTTP). Contains the secret: never log it. */
export function toAuthBody(cfg: Pick<CloudConfig, 'authType' | 'auth'>): unknown {
  const a = cfg.auth;
  if (cfg.authType === 'v3applicationcredential') {
    const ac: Record<string, unknown> = { secret: a.applicationCredentialSecret };
    if (a.applicationCredentialId) ac.id = a.applicationCredentialId;
    else {
      ac.name = a.applicationCredentialName;
      ac.user = userRef(a);
    }
    // An application credential is bound to its project: no scope may be given.
    return { auth: { identity: { methods: ['application_credential'], application_credential: ac } } };
  }
  const user = { ...userRef(a), password: a.password };
  const body: { auth: Record<string, unknown> } = {
    auth: { identity: { methods: ['password'], password: { user } } },
  };
  const scope = scopeOf(a);
  if (scope) body.auth.scope = scope;
  return body;
}

function userRef(a: CloudAuth): Record<string, unknown> {
  if (a.userId) return { id: a.userId };
  return {
    name: a.username,
    domain: a.userDomainId ? { id: a.userDomainId } : { name: a.userDomainName },
  };
}

function scopeOf(a: CloudAuth): Record<string, unknown> | undefined {
  if (a.projectId) return { project: { id: a.projectId } };
  if (a.projectName) {
    return {
      project: {
        name: a.projectName,
        domain: a.projectDomainId ? { id: a.projectDomainId } : { name: a.projectDomainName },
      },
    };
  }
  if (a.domainId) return { domain: { id: a.domainId } };
  if (a.domainName) return { domain: { name: a.domainName } };
  return undefined;
}

/** Issue a token. Bad credentials and a wrong auth_url become ConfigError (exit 2) with a fix. */
export async function createToken(
  http: Http,
  cfg: CloudConfig,
  opts: { signal?: AbortSignal } = {},
): Promise<Token> {
  const url = tokensUrl(cfg.auth.authUrl);
  let res: RawResponse;
  try {
    res = await http.send(http.got, 'POST', url, {
      json: toAuthBody(cfg),
      signal: opts.signal,
      okCodes: [201],
      // Issuing a token changes nothing a retry could duplicate.
      idempotent: true,
      service: 'identity',
    });
  } catch (err) {
    throw authError(err, cfg, url);
  }
  const id = res.headers['x-subject-token'];
  let body: unknown;
  try {
    body = JSON.parse(res.body.toString('utf8'));
  } catch (cause) {
    throw new ConfigError(`${url} did not answer like Keystone v3 (no JSON token)`, {
      cause,
      hint: 'set auth_url to the Keystone v3 URL, e.g. https://keystone.example:5000/v3',
    });
  }
  if (typeof id !== 'string' || !id) {
    throw new ConfigError(`${url} issued no X-Subject-Token`, {
      hint: 'set auth_url to the Keystone v3 URL, e.g. https://keystone.example:5000/v3',
    });
  }
  return toToken(id, body);
}

/** DELETE /v3/auth/tokens: revoke our own token when closing. */
export async function revokeToken(http: Http, authUrl: string, token: string): Promise<void> {
  await http.send(http.got, 'DELETE', tokensUrl(authUrl), {
    headers: { 'x-auth-token': token, 'x-subject-token': token },
    okCodes: [204, 404],
    retry: false,
  });
}

function authError(err: unknown, cfg: CloudConfig, url: string): unknown {
  if (!(err instanceof OpenStackHttpError)) return err;
  const who =
    cfg.authType === 'v3applicationcredential'
      ? `application credential ${cfg.auth.applicationCredentialId ?? cfg.auth.applicationCredentialName}`
      : `user '${cfg.auth.username ?? cfg.auth.userId}'`;
  const scope = cfg.auth.projectName ?? cfg.auth.projectId ?? cfg.auth.domainName ?? cfg.auth.domainId;
  const why = err.serviceMessage ? `: ${err.serviceMessage}` : '';
  if (err.status === 401) {
    return new ConfigError(
      `Keystone (${cfg.name}) rejected the credentials of ${who}${scope ? ` for '${scope}'` : ''} (401${why})`,
      {
        cause: err,
        hint:
          cfg.authType === 'v3applicationcredential'
            ? 'check application_credential_id/secret (OS_APPLICATION_CREDENTIAL_*): it may have expired or been deleted'
            : `check the password (clouds.yaml/secure.yaml or OS_PASSWORD), the user and project names and their domains in ${cfg.source}`,
      },
    );
  }
  if (err.status === 404 || err.status === 405 || err.status === 300) {
    return new ConfigError(`no Keystone v3 token API at ${url} (${err.status})`, {
      cause: err,
      hint: 'set auth_url to the Keystone v3 URL, e.g. https://keystone.example:5000/v3',
    });
  }
  if (err.status === 400 || err.status === 403) {
    return new ConfigError(
      `Keystone (${cfg.name}) refused to issue a token for ${who} (${err.status}${why})`,
      {
        cause: err,
        hint: 'check the scope (project/domain names and ids) and that the user has a role on that project',
      },
    );
  }
  return err;
}
