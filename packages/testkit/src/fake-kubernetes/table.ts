/**
 * `meta.k8s.io/v1` Table responses, what `kubectl get` asks for: Name, the CRD's additionalPrinterColumns
 * (JSONPath of the simple forms CRDs use: `.a.b`, `.a[0].b`, `.a[?(@.k=="v")].b`), and Age.
 */
import type { ResourceType } from './resource-types.js';
import { isPlainObject, type StoredObject } from './objects.js';

export function evalJsonPath(obj: unknown, path: string): unknown {
  const tokens = path.match(/\.[A-Za-z0-9_-]+|\[\d+\]|\[\?\(@\.[A-Za-z0-9_.-]+\s*==\s*"[^"]*"\)\]/g) ?? [];
  let cur: unknown[] = [obj];
  for (const tok of tokens) {
    const next: unknown[] = [];
    for (const c of cur) {
      if (tok.startsWith('.') && isPlainObject(c) && c[tok.slice(1)] !== undefined) next.push(c[tok.slice(1)]);
      else if (/^\[\d+\]$/.test(tok) && Array.isArray(c)) {
        const v = c[Number(tok.slice(1, -1))];
        if (v !== undefined) next.push(v);
      } else if (tok.startsWith('[?') && Array.isArray(c)) {
        const m = tok.match(/@\.([A-Za-z0-9_.-]+)\s*==\s*"([^"]*)"/)!;
        for (const item of c) if (evalJsonPath(item, `.${m[1]}`) === m[2]) next.push(item);
      }
    }
    cur = next;
  }
  return cur[0];
}

export function age(from: string | undefined, now: number): string {
  if (!from) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(from)) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

export function toTable(type: ResourceType, objects: StoredObject[], resourceVersion: string, now: number, includeObject: string | null) {
  const extra = type.printerColumns.filter((c) => c.jsonPath !== '.metadata.creationTimestamp');
  const columnDefinitions = [
    { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0 },
    ...extra.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description ?? '', priority: c.priority ?? 0 })),
    { name: 'Age', type: 'date', format: '', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.', priority: 0 },
  ];
  const rows = objects.map((o) => {
    const cells = [o.metadata.name, ...extra.map((c) => {
      const v = evalJsonPath(o, c.jsonPath);
      if (v === undefined) return null;
      return c.type === 'date' && typeof v === 'string' ? age(v, now) : v;
    }), age(o.metadata.creationTimestamp, now)];
    const object =
      includeObject === 'Object'
        ? o
        : includeObject === 'None'
          ? undefined
          : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: { ...o.metadata, managedFields: undefined } };
    return { cells, ...(object ? { object } : {}) };
  });
  return { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion }, columnDefinitions, rows };
}
