// The guest's network identity: what the first-boot task replays and verify-boot checks (each
// adapter's MAC, name and addresses). Preflight refuses a run whose guest changed since the plan
// was made, as the stored plan would replay the old identity. Pure.
import type { GuestAdapter, GuestFacts } from './facts.js';

const addresses = (a: GuestAdapter) =>
  a.dhcp
    ? 'DHCP'
    : [...a.ipv4, ...a.ipv6]
        .map((x) => `${x.address}/${x.prefixLength}`)
        .sort()
        .join(', ') || 'none';

/** Each difference, one sentence naming the adapter and the values; [] when the identity is the same. */
export function networkIdentityChanges(planned: GuestFacts, now: GuestFacts): string[] {
  const out: string[] = [];
  for (const p of planned.adapters) {
    const n = now.adapters.find((a) => a.mac === p.mac);
    if (!n) {
      out.push(`adapter "${p.name}" (${p.mac}) is gone`);
      continue;
    }
    if (n.name !== p.name) out.push(`adapter ${p.mac} is named "${n.name}" now (planned "${p.name}")`);
    if (addresses(n) !== addresses(p))
      out.push(`adapter "${p.name}" has ${addresses(n)} now (planned ${addresses(p)})`);
  }
  for (const n of now.adapters) {
    if (!planned.adapters.some((p) => p.mac === n.mac)) out.push(`adapter "${n.name}" (${n.mac}) is new`);
  }
  return out;
}
