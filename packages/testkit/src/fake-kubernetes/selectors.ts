/** Label and field selectors of list and watch requests, with the API server's errors for what it does not support. */
import { badRequest } from './status.js';
import type { StoredObject } from './objects.js';

type Requirement =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | '!exists' };

const KEY = /^([a-z0-9A-Z][-A-Za-z0-9_./]*)?[A-Za-z0-9]$/;

/** Parses `app=web,tier!=db,env in (a,b),!legacy,owner` (the syntax of k8s.io/apimachinery/pkg/labels). */
export function parseLabelSelector(text: string): (labels: Record<string, string>) => boolean {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur.trim() || parts.length) parts.push(cur);
  const reqs: Requirement[] = [];
  for (const raw of parts) {
    const part = raw.trim();
    let m: RegExpMatchArray | null;
    if ((m = part.match(/^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/))) {
      reqs.push({ key: m[1]!, op: m[2] as 'in' | 'notin', values: m[3]!.split(',').map((v) => v.trim()).filter(Boolean) });
    } else if ((m = part.match(/^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/))) {
      reqs.push({ key: m[1]!, op: m[2] === '!=' ? 'notin' : 'in', values: [m[3]!] });
    } else if ((m = part.match(/^!\s*(\S+)$/))) {
      reqs.push({ key: m[1]!, op: '!exists' });
    } else if ((m = part.match(/^(\S+)$/))) {
      reqs.push({ key: m[1]!, op: 'exists' });
    } else {
      throw badRequest(`unable to parse requirement: found '${part}', expected: identifier`);
    }
  }
  for (const r of reqs) if (!KEY.test(r.key)) throw badRequest(`unable to parse requirement: invalid label key "${r.key}"`);
  return (labels) =>
    reqs.every((r) => {
      const has = Object.prototype.hasOwnProperty.call(labels, r.key);
      if (r.op === 'exists') return has;
      if (r.op === '!exists') return !has;
      if (r.op === 'in') return has && r.values.includes(labels[r.key]!);
      if (r.op === 'notin') return !has || !r.values.includes(labels[r.key]!);
      return false;
    });
}

const FIELDS: Record<string, (o: StoredObject) => string> = {
  'metadata.name': (o) => o.metadata.name,
  'metadata.namespace': (o) => o.metadata.namespace ?? '',
};

/** Field selectors on metadata.name and metadata.namespace (what every kind supports); others answer 400. */
export function parseFieldSelector(text: string): (obj: StoredObject) => boolean {
  const tests: ((o: StoredObject) => boolean)[] = [];
  for (const raw of text.split(',')) {
    const part = raw.trim();
    if (!part) continue;
    const m = part.match(/^([^!=]+)(==|=|!=)(.*)$/);
    if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${part}'`);
    const get = FIELDS[m[1]!];
    if (!get) throw badRequest(`field label not supported: ${m[1]}`);
    const want = m[3]!;
    tests.push(m[2] === '!=' ? (o) => get(o) !== want : (o) => get(o) === want);
  }
  return (obj) => tests.every((t) => t(obj));
}
