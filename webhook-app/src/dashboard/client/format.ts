/** Small formatting helpers: short commits, relative times, numbers. */
export const shortSha = (sha: string | null | undefined): string => (sha ? sha.slice(0, 7) : '—');

export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}

export const dateTime = (iso: string | null | undefined): string => (iso ? new Date(iso).toLocaleString() : '—');

export const number = (n: number, digits = 0): string => n.toLocaleString(undefined, { maximumFractionDigits: digits });

export const dollars = (cents: number): string => `$${(cents / 100).toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

/** `agent:edge` → edge; `local` → null. */
export const poolOf = (target: string): string | null => (target.startsWith('agent:') ? target.slice('agent:'.length) : null);
