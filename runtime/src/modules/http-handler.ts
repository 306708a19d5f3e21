import type { ModuleSpec } from '../config/app-config.js';
import type { HttpAnswer, HttpRequest } from '../http/http-types.js';
import type { RuntimeModule } from './module.js';

/** A module that answers the `workflows.http.routes` pointing at it (the engine's HTTPHandler services). */
export type RouteHandlerModule = RuntimeModule & { handle(req: HttpRequest): HttpAnswer | Promise<HttpAnswer> };

export function isRouteHandler(m: RuntimeModule | undefined): m is RouteHandlerModule {
  return !!m && typeof (m as Partial<RouteHandlerModule>).handle === 'function';
}

/**
 * http.handler: the engine's SimpleHTTPHandler. Without custom code it answers every route that names it with
 * `{"handler": <name>, "status": "success", "message": "Default handler response"}` in `contentType`
 * (application/json by default).
 */
export function createHttpHandler(spec: ModuleSpec): RouteHandlerModule {
  const contentType = typeof spec.config.contentType === 'string' && spec.config.contentType ? spec.config.contentType : 'application/json';
  return {
    name: spec.name,
    type: spec.type,
    handle: () => ({ status: 200, headers: { 'content-type': contentType }, body: { handler: spec.name, status: 'success', message: 'Default handler response' } }),
  };
}
