import type { RouteSpec } from '../config/app-config.js';
import type { Pipeline } from '../pipeline/build-pipeline.js';
import type { Logger } from 'pino';
import type { HttpAnswer, HttpRequest } from './http-types.js';
import { answerForError } from './answer-error.js';

const isRecord = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** The data an HTTP-triggered pipeline starts with. */
export type TriggerShape = 'pipeline' | 'trigger';

function firstValues(query: Record<string, string | string[]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(query)) out[k] = Array.isArray(v) ? (v[0] ?? '') : v;
  return out;
}

/**
 * Trigger data for a request. A pipeline's own `trigger: {type: http}` (and a route naming a pipeline) starts with
 * the body's fields at the top plus `body`, `query`, `headers`, `path_params`, `method`, `path`. A top-level
 * `triggers.http` route starts as the engine's HTTPTrigger does: `method`, `path`, the path parameters and the
 * first value of each query parameter at the top, the JSON body as `body`, then the route's `params`; `query`,
 * `headers` and `path_params` are there too for step.request_parse.
 */
export function triggerData(req: HttpRequest, shape: TriggerShape, params: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
  const body = req.body;
  if (shape === 'pipeline')
    return { ...(isRecord(body) ? body : {}), body, query: req.query, headers: req.headers, path_params: req.params, method: req.method, path: req.path };
  return {
    query: req.query,
    headers: req.headers,
    path_params: req.params,
    method: req.method,
    path: req.path,
    ...req.params,
    ...firstValues(req.query),
    ...(isRecord(body) ? { body } : {}),
    ...params,
  };
}

function headersFrom(raw: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isRecord(raw)) for (const [k, v] of Object.entries(raw)) out[k] = Array.isArray(v) ? v.map(String).join(', ') : String(v);
  return out;
}

/**
 * Runs a pipeline for a request and answers as the engine's HTTP trigger does: a step's response
 * (step.json_response), else `response_status` (+ `response_headers`, `response_body`) from the pipeline's
 * values, else `_pipeline_output` as JSON, else 202 `{"status":"workflow triggered"}`.
 */
export async function answerWithPipeline(
  pipeline: Pipeline,
  req: HttpRequest,
  route: Pick<RouteSpec, 'path'>,
  data: Record<string, unknown>,
  log: Logger,
): Promise<HttpAnswer> {
  const meta = { pipeline: pipeline.name, started_at: new Date().toISOString(), request_id: req.id, method: req.method, path: req.path, route: route.path };
  try {
    const { answer, ctx } = await pipeline.run(data, meta, { pipeline: pipeline.name, log, headers: req.headers, request: req });
    if (answer) return answer;
    const values = ctx.current;
    const rawStatus = values.response_status;
    const status = typeof rawStatus === 'number' ? rawStatus : typeof rawStatus === 'string' ? Number.parseInt(rawStatus.trim(), 10) : Number.NaN;
    if (Number.isInteger(status) && status >= 100 && status <= 599) {
      const headers = headersFrom(values.response_headers);
      const body = values.response_body;
      return { status, headers, text: typeof body === 'string' ? body : '' };
    }
    if (values._pipeline_output !== undefined && values._pipeline_output !== null) return { status: 200, body: values._pipeline_output };
    return { status: 202, body: { status: 'workflow triggered' } };
  } catch (err) {
    return answerForError(err, log.child({ request_id: req.id }));
  }
}
