// Names of what a migration creates in OpenStack. Deterministic (a resumed or re-planned run
// computes the same ones), readable (accents dropped, not split: `Ünïcode` → `Unicode`) and
// collision-free: whenever the slug is not the VM name itself, a short hash of the exact name
// follows it, so `web 01` and `web-01` get different names.
import { createHash } from 'node:crypto';

export type ResourceKind = 'disk' | 'vol' | 'nic';

// Letters NFKD leaves whole (they are not a base letter plus a mark): spelled as their languages do.
const SPELLED: Record<string, string> = {
  ß: 'ss',
  ẞ: 'SS',
  Æ: 'AE',
  æ: 'ae',
  Œ: 'OE',
  œ: 'oe',
  Ø: 'O',
  ø: 'o',
  Đ: 'D',
  đ: 'd',
  Ł: 'L',
  ł: 'l',
  Þ: 'Th',
  þ: 'th',
};

export function resourceName(vm: string, kind: ResourceKind, index: number): string {
  return `v2o-${vmSlug(vm)}-${kind}${index}`;
}

/** The VM name as it appears in resource names. */
export function vmSlug(name: string): string {
  const slug = name
    .normalize('NFKD')
    // NFKD splits Ü into U + a combining diaeresis: drop the marks, keep the letters.
    .replace(/\p{M}+/gu, '')
    .replace(/[^\p{ASCII}]/gu, (c) => SPELLED[c] ?? c)
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (slug === name) return slug;
  const hash = createHash('sha256').update(name, 'utf8').digest('hex').slice(0, 6);
  return slug ? `${slug}-${hash}` : `vm-${hash}`;
}
