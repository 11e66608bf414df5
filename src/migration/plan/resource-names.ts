// Names of what a migration creates in OpenStack. Deterministic: a resumed or re-planned run
// computes the same ones.

export type ResourceKind = 'disk' | 'vol' | 'nic';

export function resourceName(vm: string, kind: ResourceKind, index: number): string {
  return `v2o-${slug(vm)}-${kind}${index}`;
}

function slug(name: string): string {
  const s = name
    .normalize('NFKD')
    .replace(/[^\w.-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return s || 'vm';
}
