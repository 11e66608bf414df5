// Quota arithmetic shared by Nova's and Cinder's /limits: one usage shape, one shortfall message.

export interface Usage {
  /** -1 = unlimited */
  max: number;
  used: number;
}

/** The shortfall lines for `need` more of each named usage (pure; [] = fits). */
export function quotaShortfalls(checks: [name: string, usage: Usage, need: number | undefined][]): string[] {
  return checks
    .filter(([, u, n = 0]) => n > 0 && u.max >= 0 && u.used + n > u.max)
    .map(
      ([name, u, n = 0]) =>
        `${name}: need ${n} more, ${u.used} of ${u.max} used (openstack quota set --${name} ${u.used + n})`,
    );
}
