import { HttpAnswerError } from '../pipeline/errors.js';
import type { Json } from '../pipeline/pipeline-context.js';
import { isRecord, stringList } from './config-values.js';
import type { StepFactory } from './step.js';

/** step.request_parse: path params, query params, headers and the parsed body; optional required body fields. */
export const requestParse: StepFactory = (spec) => {
  const c = spec.config;
  const pathParams = stringList(c.path_params);
  const queryParams = stringList(c.query_params);
  const headerNames = stringList(c.parse_headers ?? c.headers);
  const parseBody = c.parse_body === true || c.format === 'json' || c.format === 'form';
  const required = stringList(c.required_fields ?? c.required);
  return {
    name: spec.name,
    type: spec.type,
    run(ctx) {
      const trig = ctx.trigger;
      const output: Json = {};
      if (pathParams.length) {
        const all = isRecord(trig.path_params) ? trig.path_params : {};
        output.path_params = Object.fromEntries(pathParams.filter((p) => all[p] !== undefined).map((p) => [p, all[p]]));
      }
      if (queryParams.length) {
        const all = isRecord(trig.query) ? trig.query : {};
        output.query = Object.fromEntries(queryParams.filter((q) => all[q] !== undefined && all[q] !== '').map((q) => [q, all[q]]));
      }
      if (headerNames.length) {
        const all = isRecord(trig.headers) ? trig.headers : {};
        output.headers = Object.fromEntries(
          headerNames.filter((h) => all[h.toLowerCase()] !== undefined).map((h) => [h, all[h.toLowerCase()]]),
        );
      }
      if (parseBody || required.length) {
        const body = trig.body;
        if (body !== undefined && body !== null) output.body = body;
        if (required.length) {
          const obj = isRecord(body) ? body : {};
          const missing = required.filter((f) => obj[f] === undefined || obj[f] === null || obj[f] === '');
          if (missing.length) throw new HttpAnswerError(400, { error: `missing required fields: ${missing.join(', ')}`, missing });
        }
      }
      return { output };
    },
  };
};
