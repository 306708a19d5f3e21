/**
 * GitHub's published REST description (`@octokit/openapi`, api.github.com), loaded once per process and indexed by
 * method + path template, with request-body validators compiled on first use.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

interface OpenApiOperation {
  operationId: string;
  requestBody?: { required?: boolean; content?: Record<string, { schema?: unknown }> };
}

export interface MatchedOperation {
  operationId: string;
  method: string;
  template: string;
  params: Record<string, string>;
  /** null when the operation takes no JSON body. */
  validateBody: ((body: unknown) => ErrorObject[] | null) | null;
  bodyRequired: boolean;
}

interface Route {
  template: string;
  regex: RegExp;
  names: string[];
  literalSegments: number;
  operations: Map<string, OpenApiOperation>;
}

export interface OpenApiIndex {
  match(method: string, pathname: string): MatchedOperation | null;
  /** Every operation id in the description (for the fake's coverage report). */
  operationIds(): string[];
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
let cached: OpenApiIndex | undefined;

export function loadOpenApiIndex(): OpenApiIndex {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const file = require.resolve('@octokit/openapi/generated/api.github.com.json');
  const spec = JSON.parse(readFileSync(file, 'utf8')) as {
    paths: Record<string, Record<string, OpenApiOperation>>;
    components: Record<string, unknown>;
  };
  // GitHub's schemas use OpenAPI keywords (nullable, discriminator, x-github) and formats ajv does not know.
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true, discriminator: false });
  addFormats(ajv);
  ajv.addFormat('binary', true);
  ajv.addFormat('repo.nwo', true);
  ajv.addFormat('ssh-key', true);
  ajv.addFormat('ssh-key fingerprint', true);
  ajv.addFormat('uuid', true);
  ajv.addSchema({ components: spec.components }, 'gh');

  const routes: Route[] = [];
  for (const [template, item] of Object.entries(spec.paths)) {
    const names: string[] = [];
    const pattern = template
      .split('/')
      .map((seg) => {
        const m = /^\{([^}]+)\}$/.exec(seg);
        if (m?.[1]) {
          names.push(m[1]);
          return '([^/]+)';
        }
        // Templates like /repos/{owner}/{repo}/compare/{basehead} or {ref} may hold slashes in the last param.
        return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\\\{[^}]+\\\}/g, '([^/]+)');
      })
      .join('/');
    const greedy = /\{(ref|path|name|branch|tag|basehead|file_path|environment_name)\}$/.test(template);
    const source = greedy ? pattern.replace(/\(\[\^\/\]\+\)$/, '(.+)') : pattern;
    const operations = new Map<string, OpenApiOperation>();
    for (const [method, op] of Object.entries(item)) {
      if (['get', 'post', 'put', 'patch', 'delete', 'head'].includes(method)) operations.set(method.toUpperCase(), op);
    }
    routes.push({
      template,
      regex: new RegExp(`^${source}$`),
      names,
      literalSegments: template.split('/').filter((s) => s && !s.includes('{')).length,
      operations,
    });
  }
  // Prefer the most literal template: /repos/{owner}/{repo}/check-runs over /repos/{owner}/{repo}/{anything}.
  routes.sort((a, b) => b.literalSegments - a.literalSegments || a.names.length - b.names.length);
  const validators = new Map<string, ValidateFunction>();

  const validatorFor = (route: Route, method: string, op: OpenApiOperation) => {
    const schema = op.requestBody?.content?.['application/json']?.schema;
    if (!schema) return null;
    const key = `${method} ${route.template}`;
    return (body: unknown): ErrorObject[] | null => {
      let v = validators.get(key);
      if (!v) {
        const rewritten = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"gh#/components/')) as object;
        v = ajv.compile(rewritten);
        validators.set(key, v);
      }
      return v(body) ? null : (v.errors ?? []);
    };
  };

  cached = {
    match(method, pathname) {
      for (const route of routes) {
        const m = route.regex.exec(pathname);
        if (!m) continue;
        const op = route.operations.get(method.toUpperCase());
        if (!op) continue;
        const params: Record<string, string> = {};
        route.names.forEach((n, i) => {
          params[n] = decodeURIComponent(m[i + 1] ?? '');
        });
        return {
          operationId: op.operationId,
          method: method.toUpperCase(),
          template: route.template,
          params,
          validateBody: validatorFor(route, method.toUpperCase(), op),
          bodyRequired: op.requestBody?.required === true,
        };
      }
      return null;
    },
    operationIds: () => routes.flatMap((r) => [...r.operations.values()].map((o) => o.operationId)),
  };
  return cached;
}
