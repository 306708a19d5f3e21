/**
 * Routes on the same router, as the engine's router treats them (upstream/engine-behaviour.json):
 * - the same method and path twice: the router skips the second with a message, so it never answers
 *   (a warning that names it);
 * - paths that Go's ServeMux cannot tell apart, such as `/orders/{id}` and `/orders/{orderId}`, or
 *   `/a/{x}` and `/{y}/b`: building the mux panics, so the engine does not start (an error).
 * Routes come from workflows.http.routes, HTTP pipeline triggers and triggers.http.routes.
 */
import { CODES } from '../../codes.js';
import type { Diagnostic } from '../../diagnostic.js';
import { ENGINE_BEHAVIOUR } from '../../generated/engine-behaviour.js';
import type { PathSegment } from '../../yaml/locate.js';
import { type ConfigDocument, isRecord } from '../config-document.js';
import { isDynamic } from '../engine/engine-verdicts.js';
import { type AppIndex, report, where } from './app-index.js';

interface Route {
  source: ConfigDocument;
  path: PathSegment[];
  method: string;
  routePath: string;
  router: string;
  segments?: Segment[];
}

/** One segment of a ServeMux pattern: a literal, or a `{name}` wildcard. */
type Segment = { literal: string } | { wildcard: true };

const WILDCARD = /^\{\w+\}$/;

/** The segments of a path ServeMux would compare segment by segment, or undefined (`{x...}`, trailing `/`). */
export function muxSegments(path: string): Segment[] | undefined {
  if (!path.startsWith('/') || (path.length > 1 && path.endsWith('/')) || path.includes('...}')) return undefined;
  return path
    .slice(1)
    .split('/')
    .map((s) => (WILDCARD.test(s) ? { wildcard: true as const } : { literal: s }));
}

/** Every request `a` matches, `b` matches too. */
const within = (a: readonly Segment[], b: readonly Segment[]): boolean =>
  a.length === b.length && a.every((s, i) => 'wildcard' in (b[i] as Segment) || ('literal' in s && s.literal === (b[i] as { literal?: string }).literal));

const overlap = (a: readonly Segment[], b: readonly Segment[]): boolean =>
  a.length === b.length && a.every((s, i) => 'wildcard' in s || 'wildcard' in (b[i] as Segment) || s.literal === (b[i] as { literal?: string }).literal);

/**
 * ServeMux panics on two patterns for the same method that match some request in common when neither
 * is more specific, and on two patterns that match exactly the same requests.
 */
function segmentsConflict(sa: readonly Segment[], sb: readonly Segment[]): boolean {
  if (!overlap(sa, sb)) return false;
  return within(sa, sb) === within(sb, sa);
}

export function muxConflict(a: string, b: string): boolean {
  const sa = muxSegments(a);
  const sb = muxSegments(b);
  return a !== b && sa !== undefined && sb !== undefined && segmentsConflict(sa, sb);
}

function collectRoutes(index: AppIndex): Route[] {
  const routers = index.modules.filter((m) => m.type === 'http.router').map((m) => m.name);
  const defaultRouter = routers.length === 1 ? (routers[0] as string) : '';
  const routes: Route[] = [];
  const add = (source: ConfigDocument, path: PathSegment[], value: unknown, router: unknown) => {
    if (!isRecord(value) || typeof value.path !== 'string' || typeof value.method !== 'string') return;
    if (isDynamic(value.path) || isDynamic(value.method)) return;
    routes.push({
      source,
      path,
      method: value.method.toUpperCase(),
      routePath: value.path,
      router: typeof router === 'string' && router !== '' ? router : defaultRouter,
    });
  };
  for (const source of index.documents) {
    if (!isRecord(source.value)) continue;
    const http = isRecord(source.value.workflows) ? source.value.workflows.http : undefined;
    if (isRecord(http) && Array.isArray(http.routes)) {
      http.routes.forEach((r, i) => add(source, ['workflows', 'http', 'routes', i], r, http.router));
    }
    const triggerHttp = isRecord(source.value.triggers) ? source.value.triggers.http : undefined;
    if (isRecord(triggerHttp) && Array.isArray(triggerHttp.routes)) {
      triggerHttp.routes.forEach((r, i) => add(source, ['triggers', 'http', 'routes', i], r, triggerHttp.router));
    }
  }
  for (const pipeline of index.pipelines) {
    const trigger = pipeline.value.trigger;
    if (isRecord(trigger) && trigger.type === 'http' && isRecord(trigger.config)) {
      add(pipeline.source, [...pipeline.path, 'trigger', 'config'], trigger.config, trigger.config.router);
    }
  }
  return routes;
}

/** Comparisons made for mux conflicts per app; beyond this many the check stops (a bound on hostile input). */
const MAX_COMPARISONS = 2_000_000;

/**
 * Routes that could conflict share router, method and segment count, and a first segment that is the same
 * literal or a wildcard on either side: candidates are looked up by those, not compared pairwise.
 */
const bucketOf = (route: Route, first: string): string => `${route.router}\u0000${route.method}\u0000${route.segments?.length}\u0000${first}`;

export function checkDuplicateRoutes(index: AppIndex): Diagnostic[] {
  const out: Diagnostic[] = [];
  const { duplicateSkipped, muxPattern } = ENGINE_BEHAVIOUR.routes;
  const exact = new Map<string, Route>();
  const buckets = new Map<string, Route[]>();
  let comparisons = 0;
  for (const route of collectRoutes(index)) {
    const key = `${route.router}\u0000${route.method}\u0000${route.routePath}`;
    const declared = exact.get(key);
    if (declared) {
      out.push(
        report(
          route.source,
          [...route.path, 'path'],
          CODES.DuplicateRoute,
          `Route ${route.method} ${route.routePath} here will never answer: the same route is declared at ${where(declared.source, [...declared.path, 'path'])}, and the engine's router keeps the first and skips this one (${duplicateSkipped ?? 'module/http_router.go'}). Remove one, or change its method or path.`,
        ),
      );
      continue;
    }
    exact.set(key, route);
    route.segments = muxSegments(route.routePath);
    if (!route.segments || route.segments.length === 0) continue;
    const first = route.segments[0] as Segment;
    const own = bucketOf(route, 'literal' in first ? first.literal : '*');
    // A literal first segment meets the same literal and wildcards; a wildcard meets every first segment.
    const candidates =
      'literal' in first
        ? [...(buckets.get(own) ?? []), ...(buckets.get(bucketOf(route, '*')) ?? [])]
        : [...buckets.entries()].filter(([k]) => k.startsWith(bucketOf(route, ''))).flatMap(([, routes]) => routes);
    let clash: Route | undefined;
    for (const other of candidates) {
      if (++comparisons > MAX_COMPARISONS) break;
      if (segmentsConflict(other.segments as Segment[], route.segments)) {
        clash = other;
        break;
      }
    }
    if (clash) {
      out.push(
        report(
          route.source,
          [...route.path, 'path'],
          CODES.DuplicateRoute,
          `Route ${route.method} ${route.routePath} conflicts with ${route.method} ${clash.routePath} at ${where(clash.source, [...clash.path, 'path'])}: both match the same requests and neither is more specific, so the engine's router panics when it starts (Go's ServeMux, ${muxPattern ?? 'module/http_router.go'}). Use one path, with the same parameter names.`,
          { severity: 'error' },
        ),
      );
    }
    const bucket = buckets.get(own);
    if (bucket) bucket.push(route);
    else buckets.set(own, [route]);
  }
  return out;
}
