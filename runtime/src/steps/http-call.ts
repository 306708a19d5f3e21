import { readBodyAtMost } from '@wharf/contracts/bounded-body';
import { OutboundRefusedError } from '../confine/outbound-policy.js';
import type { Json } from '../pipeline/pipeline-context.js';
import { parseDuration } from '../config/parse-duration.js';
import { isRecord, optionalString, requireString } from './config-values.js';
import type { StepFactory } from './step.js';

const MAX_REDIRECTS = 10;

/** `content-type` → `Content-Type`, as Go's http.Header keys print. */
const canonical = (h: string) => h.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());


/**
 * step.http_call, as the engine's HTTPCallStep: `url` (templated), `method` (GET), `headers` (templated), `body` (a
 * map, templated, sent as JSON; without it a non-GET sends the current values), `timeout` (30s). Output:
 * `status_code`, `status`, `headers`, `body` (parsed JSON, else text); a status ≥ 400 fails the step.
 * Confined: every URL, and every redirect it leads to, must be http(s) to a host the target allows (--allow-host);
 * a URL without templates is checked at start. The response is capped and the call stops at the pipeline deadline.
 * OAuth2 `auth` is not supported.
 */
export const httpCall: StepFactory = (spec, deps) => {
  const where = `step ${spec.name} (step.http_call)`;
  const c = spec.config;
  const url = requireString(c, ['url'], where);
  if (c.auth !== undefined) throw new Error(`${where}: auth (OAuth2 client credentials) is not supported`);
  if (!url.includes('{{')) deps.outbound.checkUrl(url, `${where} config.url`);
  const method = (optionalString(c, 'method') ?? 'GET').toUpperCase();
  const headers = isRecord(c.headers) ? c.headers : {};
  const body = isRecord(c.body) ? c.body : undefined;
  const timeoutMs = parseDuration(c.timeout) ?? 30_000;
  const urlTemplate = deps.templates.compile(url);
  const limit = deps.limits.httpResponseBytes;
  return {
    name: spec.name,
    type: spec.type,
    run(ctx, scope) {
      const data = ctx.data();
      const target = deps.templates.render(urlTemplate, data);
      const sendHeaders: Record<string, string> = {};
      for (const [k, v] of Object.entries(headers)) sendHeaders[k] = deps.templates.render(String(v), data);
      let payload: string | undefined;
      if (body) payload = JSON.stringify(deps.templates.renderValue(body, data));
      else if (method !== 'GET' && method !== 'HEAD') payload = JSON.stringify(ctx.current);
      if (payload !== undefined) sendHeaders['Content-Type'] ??= 'application/json';
      const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(scope.signal ? [scope.signal] : [])]);
      return (async () => {
        let current = target;
        let currentMethod = method;
        let currentBody = payload;
        for (let hop = 0; ; hop++) {
          const u = deps.outbound.checkUrl(current, `${where} url`);
          const res = await fetch(u, { method: currentMethod, headers: sendHeaders, body: currentBody, redirect: 'manual', signal });
          const location = res.headers.get('location');
          if (res.status >= 300 && res.status < 400 && location) {
            await res.body?.cancel();
            if (hop >= MAX_REDIRECTS) throw new Error(`${where}: more than ${MAX_REDIRECTS} redirects`);
            const next = new URL(location, u);
            // As Go's client: credentials never follow a redirect to another host.
            if (next.host !== u.host) for (const h of Object.keys(sendHeaders)) if (/^(authorization|cookie)$/i.test(h)) delete sendHeaders[h];
            current = next.toString();
            if (res.status === 303 || ((res.status === 301 || res.status === 302) && currentMethod === 'POST')) {
              currentMethod = 'GET';
              currentBody = undefined;
            }
            continue;
          }
          const text = await readBodyAtMost(res, limit);
          if (text === null) throw new Error(`the response is more than ${limit} bytes`);
          const respHeaders: Json = {};
          res.headers.forEach((v, k) => {
            respHeaders[canonical(k)] = v;
          });
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON: kept as text
          }
          if (res.status >= 400) throw new Error(`${where}: HTTP ${res.status}: ${text.slice(0, 200)}`);
          return { output: { status_code: res.status, status: `${res.status} ${res.statusText}`.trim(), headers: respHeaders, body: parsed } };
        }
      })().catch((err: unknown) => {
        if (err instanceof OutboundRefusedError) throw err;
        throw err instanceof Error && err.name === 'TimeoutError' ? new Error(`${where}: the call took longer than ${timeoutMs} ms`) : err;
      });
    },
  };
};
