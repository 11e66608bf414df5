// `--set key=value` flags → a params object. Values are JSON when they parse (numbers,
// booleans, objects), strings otherwise; dotted keys nest (a.b=1 → { a: { b: 1 } }).
import { ConfigError } from '../errors.js';

export function collectSet(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function parseSets(sets: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--set ${s}: expected key=value`);
    const keys = s.slice(0, eq).split('.');
    const raw = s.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // a plain string
    }
    let o = out;
    for (const k of keys.slice(0, -1)) {
      if (typeof o[k] !== 'object' || o[k] === null) o[k] = {};
      o = o[k] as Record<string, unknown>;
    }
    o[keys[keys.length - 1]] = value;
  }
  return out;
}
