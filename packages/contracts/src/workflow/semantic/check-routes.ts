/**
 * Two routes with the same method and path on the same router: the router refuses the second at start-up.
 * Routes come from workflows.http.routes, HTTP pipeline triggers and triggers.http.routes.
 */
import { CODES } from '../../codes.js';
import type { Diagnostic } from '../../diagnostic.js';
import type { PathSegment } from '../../yaml/locate.js';
import { isDynamic } from '../check-config-schema.js';
import { type ConfigDocument, isRecord } from '../config-document.js';
import { type AppIndex, report, where } from './app-index.js';

interface Route {
  source: ConfigDocument;
  path: PathSegment[];
  method: string;
  routePath: string;
  router: string;
}

/** `/orders/:id/` and `/orders/{id}` are the same route. */
export const normalizeRoutePath = (path: string): string => {
  const trimmed = path.length > 1 ? path.replace(/\/+$/, '') : path;
  return trimmed
    .split('/')
    .map((segment) => (/^:.+$|^\{.+\}$/.test(segment) ? '{}' : segment))
    .join('/');
};

export function checkDuplicateRoutes(index: AppIndex): Diagnostic[] {
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
      routePath: normalizeRoutePath(value.path),
      router: typeof router === 'string' && router !== '' ? router : defaultRouter,
    });
  };
  for (const source of index.documents) {
    if (!isRecord(source.value)) continue;
    const http = isRecord(source.value.workflows) ? source.value.workflows.http : undefined;
    if (isRecord(http) && Array.isArray(http.routes)) {
      http.routes.forEach((r, i) => {
        add(source, ['workflows', 'http', 'routes', i], r, http.router);
      });
    }
    const triggerHttp = isRecord(source.value.triggers) ? source.value.triggers.http : undefined;
    if (isRecord(triggerHttp) && Array.isArray(triggerHttp.routes)) {
      triggerHttp.routes.forEach((r, i) => {
        add(source, ['triggers', 'http', 'routes', i], r, triggerHttp.router);
      });
    }
  }
  for (const pipeline of index.pipelines) {
    const trigger = pipeline.value.trigger;
    if (isRecord(trigger) && trigger.type === 'http' && isRecord(trigger.config)) {
      add(pipeline.source, [...pipeline.path, 'trigger', 'config'], trigger.config, trigger.config.router);
    }
  }
  const out: Diagnostic[] = [];
  const seen = new Map<string, Route>();
  for (const route of routes) {
    const key = `${route.router}\u0000${route.method}\u0000${route.routePath}`;
    const first = seen.get(key);
    if (!first) {
      seen.set(key, route);
      continue;
    }
    out.push(
      report(
        route.source,
        [...route.path, 'path'],
        CODES.DuplicateRoute,
        `Route ${route.method} ${route.routePath} is already registered at ${where(first.source, [...first.path, 'path'])}: change the method or path of one of them.`,
      ),
    );
  }
  return out;
}
