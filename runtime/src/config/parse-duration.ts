const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses Go-style durations such as `30s`, `1h30m`, `250ms`, `7d`; returns null when unparseable. */
export function parseDuration(value: unknown): number | null {
  if (typeof value === 'number') return value * 1000;
  if (typeof value !== 'string' || !value.trim()) return null;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
  let total = 0;
  let consumed = 0;
  for (const m of value.trim().matchAll(re)) {
    total += Number(m[1]) * UNITS[m[2]];
    consumed += m[0].length;
  }
  return consumed === value.trim().length ? total : null;
}
