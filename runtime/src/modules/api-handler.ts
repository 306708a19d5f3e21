import type { ModuleSpec } from '../config/app-config.js';
import type { HttpAnswer, HttpRequest } from '../http/http-types.js';
import { isMessageBroker } from './message-broker.js';
import type { RouteHandlerModule } from './http-handler.js';
import type { ModuleDeps, ModuleSet } from './module.js';

type Resource = { id: string; data: Record<string, unknown>; state?: string; lastUpdate?: string };

const isRecord = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Resources one api.handler keeps in memory (as the engine does without a persistence module). */
const MAX_RESOURCES = 10_000;

/**
 * api.handler: the engine's RESTAPIHandler, its core CRUD. Resources live in memory (lost on restart, as in the
 * engine without `persistence`): GET lists them (or one, by the route's `{id}`), POST creates one (id from the
 * route, the body's `id`, or the count + 1; state from the body or "new"), PUT replaces one, DELETE removes it.
 * With a messaging broker named `message-broker`, changes are published to `<resourceName>-events`.
 * State machine workflows (`workflowType`, transitions) are not supported.
 */
export function createApiHandler(spec: ModuleSpec, deps: ModuleDeps): RouteHandlerModule & { attach(modules: ModuleSet): void } {
  const resourceName = typeof spec.config.resourceName === 'string' && spec.config.resourceName ? spec.config.resourceName : spec.name;
  const resources = new Map<string, Resource>();
  let publish: ((message: Record<string, unknown>) => void) | null = null;
  const json = (status: number, body: unknown): HttpAnswer => ({ status, body });

  function handle(req: HttpRequest): HttpAnswer {
    const id = req.params.id ?? '';
    const body = req.body;
    switch (req.method) {
      case 'GET':
      case 'HEAD':
        if (!id) return json(200, [...resources.values()]);
        return resources.has(id) ? json(200, resources.get(id)) : json(404, { error: 'Resource not found' });
      case 'POST': {
        if (!isRecord(body)) return json(400, { error: 'Invalid request body' });
        if (resources.size >= MAX_RESOURCES) return json(507, { error: `at most ${MAX_RESOURCES} ${resourceName} are kept` });
        const rid = id || (typeof body.id === 'string' && body.id ? body.id : typeof body.id === 'number' ? String(body.id) : String(resources.size + 1));
        const resource: Resource = {
          id: rid,
          data: { ...body, id: rid },
          state: typeof body.state === 'string' && body.state ? body.state : 'new',
          lastUpdate: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        };
        resources.set(rid, resource);
        publish?.({ eventType: `${resourceName}.created`, resource });
        return json(201, resource);
      }
      case 'PUT': {
        if (!id) return json(400, { error: 'ID is required for PUT' });
        if (!isRecord(body)) return json(400, { error: 'Invalid request body' });
        if (!resources.has(id)) return json(404, { error: 'Resource not found' });
        const resource: Resource = { id, data: body };
        resources.set(id, resource);
        publish?.({ eventType: `${resourceName}.updated`, resource });
        return json(200, resource);
      }
      case 'DELETE':
        if (!id) return json(400, { error: 'ID is required for DELETE' });
        if (!resources.delete(id)) return json(404, { error: 'Resource not found' });
        publish?.({ eventType: `${resourceName}.deleted`, resourceId: id });
        return { status: 204 };
      default:
        return json(405, { error: 'Method not allowed or invalid path' });
    }
  }

  return {
    name: spec.name,
    type: spec.type,
    handle,
    attach(modules) {
      const broker = modules.get('message-broker');
      if (isMessageBroker(broker)) publish = (message) => broker.publish(`${resourceName}-events`, message);
      deps.log.debug({ module: spec.name, resourceName, events: !!publish }, 'api handler ready');
    },
  };
}
