import type { AppConfig } from './app-config.js';

export type RouteDescription = { readonly method: string; readonly path: string; readonly target: string };

/** Every HTTP route a config declares: pipeline triggers, `workflows.http.routes` and top-level `triggers.http`. */
export function describeRoutes(config: AppConfig): RouteDescription[] {
  return [
    ...config.pipelines
      .filter((p) => p.trigger?.type === 'http')
      .map((p) => ({ method: String(p.trigger?.config.method ?? 'GET').toUpperCase(), path: String(p.trigger?.config.path), target: `pipeline ${p.name}` })),
    ...config.routes.map((r) => ({ method: r.method, path: r.path, target: r.handler })),
    ...config.triggers.http.map((t) => ({ method: t.method, path: t.path, target: `pipeline ${t.pipeline}` })),
  ];
}
