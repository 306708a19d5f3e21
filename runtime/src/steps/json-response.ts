import type { PipelineContext } from '../pipeline/pipeline-context.js';
import type { TemplateEngine } from '../template/index.js';
import { isRecord, optionalString } from './config-values.js';
import type { HttpAnswer, StepFactory } from './step.js';

/** Renders a response body: `_from` leaves inject raw context values, strings are templates. */
export function renderBody(value: unknown, ctx: PipelineContext, templates: TemplateEngine): unknown {
  if (typeof value === 'string') return templates.render(value, ctx.data());
  if (Array.isArray(value)) return value.map((v) => renderBody(v, ctx, templates));
  if (isRecord(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === '_from' && typeof value._from === 'string') return ctx.resolvePath(value._from);
    const out: Record<string, unknown> = {};
    for (const k of keys) out[k] = renderBody(value[k], ctx, templates);
    return out;
  }
  return value;
}

/** Builds an HTTP answer from `status`/`status_from`, `headers`, `body`/`body_from` config. */
export function buildAnswer(config: Record<string, unknown>, ctx: PipelineContext, templates: TemplateEngine): HttpAnswer {
  const rawStatus = typeof config.status === 'string' ? templates.render(config.status, ctx.data()) : config.status;
  let status = typeof rawStatus === 'number' ? rawStatus : Number.parseInt(String(rawStatus ?? '200'), 10);
  if (!Number.isInteger(status) || status < 100 || status > 599) status = 200;
  const statusFrom = optionalString(config, 'status_from');
  if (statusFrom) {
    const v = Number(ctx.resolvePath(statusFrom));
    if (Number.isInteger(v) && v >= 100 && v <= 599) status = v;
  }
  const headers: Record<string, string> = {};
  if (isRecord(config.headers)) for (const [k, v] of Object.entries(config.headers)) headers[k] = templates.render(String(v), ctx.data());
  const bodyFrom = optionalString(config, 'body_from');
  let body: unknown;
  if (bodyFrom) body = ctx.resolvePath(bodyFrom) ?? null;
  else if (config.body !== undefined) {
    body = renderBody(config.body, ctx, templates);
    // A body written as one template string that renders JSON is sent as that JSON.
    if (typeof config.body === 'string' && typeof body === 'string' && /^\s*[[{]/.test(body)) {
      try {
        body = JSON.parse(body);
      } catch {
        // not JSON: sent as a JSON string
      }
    }
  }
  return { status, headers, body };
}

/** step.json_response: answers the request and stops the pipeline. */
export const jsonResponse: StepFactory = (spec, deps) => {
  return {
    name: spec.name,
    type: spec.type,
    run(ctx) {
      const answer = buildAnswer(spec.config, ctx, deps.templates);
      return { answer, output: { status: answer.status } };
    },
  };
};
