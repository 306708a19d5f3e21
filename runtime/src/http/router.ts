import type { HttpHandler, RouteTable } from './http-types.js';

type Route = { method: string; pattern: string; segments: string[]; wildcard: boolean; handler: HttpHandler; score: number };
export type RouteMatch = { handler: HttpHandler; params: Record<string, string>; pattern: string };

/** `/a//b/` → `/a/b`; the root stays `/`. */
export function normalizePath(path: string): string {
  let p = path.replace(/\/{2,}/g, '/');
  if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  return p || '/';
}

function split(pattern: string): { segments: string[]; wildcard: boolean } {
  const norm = normalizePath(pattern);
  const parts = norm === '/' ? [] : norm.slice(1).split('/');
  const wildcard = parts.length > 0 && parts[parts.length - 1].startsWith('*');
  if (wildcard) parts.pop();
  return { segments: parts.map((s) => (s.startsWith('{') && s.endsWith('}') ? `:${s.slice(1, -1)}` : s)), wildcard };
}

/** Route table: exact paths by lookup, then parameter routes with static segments preferred, then wildcards. */
export function createRouter() {
  const exact = new Map<string, Route>();
  const dynamic: Route[] = [];

  const table: RouteTable & { find(method: string, path: string): RouteMatch | null; has(method: string, pattern: string): boolean } = {
    add(method, pattern, handler) {
      const m = method.toUpperCase();
      const { segments, wildcard } = split(pattern);
      const isExact = !wildcard && segments.every((s) => !s.startsWith(':'));
      const key = `${m} /${segments.join('/')}${wildcard ? '/*' : ''}`;
      if (table.has(m, pattern)) throw new Error(`route ${m} ${pattern} is declared twice`);
      // score: static segments count most, wildcards least
      const score = segments.reduce((s, seg, i) => s + (seg.startsWith(':') ? 1 : 2) * 100 ** (8 - Math.min(i, 7)), 0) - (wildcard ? 1 : 0);
      const route: Route = { method: m, pattern, segments, wildcard, handler, score };
      if (isExact) exact.set(key, route);
      else {
        dynamic.push(route);
        dynamic.sort((a, b) => b.segments.length - a.segments.length || b.score - a.score);
      }
    },
    has(method, pattern) {
      const { segments, wildcard } = split(pattern);
      const shape = (s: string[]) => s.map((x) => (x.startsWith(':') ? ':' : x)).join('/');
      const m = method.toUpperCase();
      if (!wildcard && segments.every((s) => !s.startsWith(':'))) return exact.has(`${m} /${segments.join('/')}`);
      return dynamic.some((r) => r.method === m && r.wildcard === wildcard && shape(r.segments) === shape(segments));
    },
    find(method, rawPath) {
      const path = normalizePath(rawPath);
      const m = method === 'HEAD' ? 'GET' : method;
      const hit = exact.get(`${method} ${path}`) ?? exact.get(`${m} ${path}`);
      if (hit) return { handler: hit.handler, params: {}, pattern: hit.pattern };
      const parts = path === '/' ? [] : path.slice(1).split('/');
      let best: { route: Route; params: Record<string, string> } | null = null;
      for (const r of dynamic) {
        if (r.method !== method && r.method !== m) continue;
        if (r.wildcard ? parts.length < r.segments.length : parts.length !== r.segments.length) continue;
        const params: Record<string, string> = {};
        let ok = true;
        for (let i = 0; i < r.segments.length; i++) {
          const seg = r.segments[i];
          if (seg.startsWith(':')) {
            if (!parts[i]) {
              ok = false;
              break;
            }
            params[seg.slice(1)] = safeDecode(parts[i]);
          } else if (seg !== parts[i]) {
            ok = false;
            break;
          }
        }
        if (!ok) continue;
        if (r.wildcard) params['*'] = parts.slice(r.segments.length).map(safeDecode).join('/');
        if (!best || r.score > best.route.score || (best.route.wildcard && !r.wildcard)) best = { route: r, params };
        if (!r.wildcard) break;
      }
      return best ? { handler: best.route.handler, params: best.params, pattern: best.route.pattern } : null;
    },
  };
  return table;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export type Router = ReturnType<typeof createRouter>;
