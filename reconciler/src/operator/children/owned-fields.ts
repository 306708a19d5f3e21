/**
 * Drift of a child: does the live object still hold every field the operator sets, with the operator's values?
 * Only those fields are compared; what the API server fills in (defaults, status, metadata) and what other managers
 * add (an extra label, a sidecar) is not the operator's and is left alone. Lists whose items have a key (`name`,
 * `mountPath`, ports) are matched by key; other lists are compared whole. Quantities compare by value (`0.5` and
 * `500m` are one CPU request, as the API server normalises them).
 */

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const SUFFIX: Record<string, number> = {
  '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** `500m` → 0.5, `1Gi` → 1073741824; null when the text is not a quantity. */
export function parseQuantity(text: string): number | null {
  const m = /^([0-9]+(?:\.[0-9]+)?)([a-zA-Z]{0,2})$/.exec(text);
  if (!m) return null;
  const factor = SUFFIX[m[2]!];
  return factor === undefined ? null : Number(m[1]) * factor;
}

const KEYS = ['name', 'mountPath', 'uid', 'containerPort', 'port'] as const;

function keyOf(item: unknown): string | undefined {
  if (!isRecord(item)) return undefined;
  for (const k of KEYS) if (item[k] !== undefined) return `${k}=${String(item[k])}${item.protocol ? `/${String(item.protocol)}` : ''}`;
  return undefined;
}

const empty = (v: unknown) => v === undefined || (Array.isArray(v) && v.length === 0) || (isRecord(v) && Object.keys(v).length === 0);

function compare(want: unknown, have: unknown, path: string, out: string[], quantity: boolean): void {
  if (out.length >= 10) return;
  if (empty(want) && empty(have)) return;
  if (Array.isArray(want)) {
    if (!Array.isArray(have)) return void out.push(path);
    const keyed = want.every((w) => keyOf(w) !== undefined);
    if (keyed) {
      const byKey = new Map(have.map((h) => [keyOf(h), h]));
      want.forEach((w) => {
        const k = keyOf(w)!;
        if (!byKey.has(k)) out.push(`${path}[${k}]`);
        else compare(w, byKey.get(k), `${path}[${k}]`, out, quantity);
      });
      return;
    }
    if (want.length !== have.length) return void out.push(path);
    want.forEach((w, i) => compare(w, have[i], `${path}[${i}]`, out, quantity));
    return;
  }
  if (isRecord(want)) {
    if (!isRecord(have)) return void out.push(path);
    for (const [k, w] of Object.entries(want)) {
      compare(w, have[k], path ? `${path}.${k}` : k, out, quantity || k === 'resources' || k === 'requests' || k === 'limits' || k === 'sizeLimit' || k === 'storage');
    }
    return;
  }
  if (want === have) return;
  if (quantity && typeof want === 'string' && (typeof have === 'string' || typeof have === 'number')) {
    const a = parseQuantity(want);
    const b = parseQuantity(String(have));
    if (a !== null && b !== null && Math.abs(a - b) < 1e-9 * Math.max(1, Math.abs(a))) return;
  }
  out.push(path);
}

/** The field paths (at most 10) where `live` no longer says what the operator applies; empty when it does. */
export function driftedFields(desired: Record<string, unknown>, live: Record<string, unknown>): string[] {
  const out: string[] = [];
  const { metadata, ...rest } = desired;
  const liveMeta = isRecord(live.metadata) ? live.metadata : {};
  const meta = isRecord(metadata) ? metadata : {};
  for (const k of ['labels', 'annotations', 'ownerReferences'] as const) compare(meta[k], liveMeta[k], `metadata.${k}`, out, false);
  compare(rest, live, '', out, false);
  return out;
}
