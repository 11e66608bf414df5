// Keystone v3 token URLs. auth_url may be the Keystone root or already end in /v3.
export function identityV3Base(authUrl: string): string {
  const u = authUrl.replace(/\/+$/, '');
  if (/\/v3$/.test(u)) return u;
  if (/\/v2\.0$/.test(u)) return u.replace(/\/v2\.0$/, '/v3');
  return `${u}/v3`;
}

export function tokensUrl(authUrl: string): string {
  return `${identityV3Base(authUrl)}/auth/tokens`;
}
