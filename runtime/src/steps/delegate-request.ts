import type { HttpRequest } from '../http/http-types.js';
import { isRouteHandler } from '../modules/http-handler.js';
import type { Json } from '../pipeline/pipeline-context.js';
import { requireString } from './config-values.js';
import type { StepFactory } from './step.js';

const isRecord = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * step.delegate, as the engine's DelegateStep: hands the request to the module named by `service`, which answers
 * it (a handler module: http.handler, api.handler, static.fileserver, auth.jwt, reverseproxy), and stops the
 * pipeline. The service is looked up when the step runs, as in the engine: a name that is no handler module fails
 * the step then (500), not at start. Without a live request (a message- or schedule-triggered run) the handler
 * answers a request rebuilt from the trigger data, and the step's output is `{delegated_to, status_code, body}`.
 */
export const delegateRequest: StepFactory = (spec, deps) => {
  const service = requireString(spec.config, ['service'], `step ${spec.name} (step.delegate)`);
  return {
    name: spec.name,
    type: spec.type,
    async run(ctx, scope) {
      const module = deps.modules.get(service);
      if (!module) throw new Error(`service "${service}" not found in registry`);
      if (!isRouteHandler(module)) throw new Error(`service "${service}" does not implement http.Handler`);
      if (scope.request) {
        const answer = await module.handle(scope.request);
        const headers: Record<string, string | number> = { ...(answer.headers ?? {}) };
        return { answer: { status: answer.status, headers, body: answer.body, text: answer.text, stream: answer.stream }, output: { delegated_to: service } };
      }
      const trigger = ctx.trigger;
      const request: HttpRequest = {
        id: String(ctx.meta.request_id ?? ''),
        method: typeof trigger.method === 'string' && trigger.method ? trigger.method : 'GET',
        path: typeof trigger.path === 'string' && trigger.path ? trigger.path : '/',
        query: {},
        headers: isRecord(trigger.body) ? { 'content-type': 'application/json' } : {},
        params: {},
        body: trigger.body,
      };
      const answer = await module.handle(request);
      answer.stream?.destroy();
      return { output: { delegated_to: service, status_code: answer.status, body: answer.body ?? answer.text ?? '' } };
    },
  };
};
