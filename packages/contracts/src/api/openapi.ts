/** The OpenAPI 3.1 document of `/api/v1`, generated from API_ROUTES and API_SCHEMAS, and its markdown reference. */
import { PERMISSIONS } from '../accounts/roles.js';
import { PROBLEMS, PROBLEM_CODES } from './problems.js';
import { API_PREFIX, API_ROUTES, API_VERSION, type ApiRoute, PAGE_QUERY, PATH_PARAMS, pathParams } from './routes.js';
import { API_SCHEMAS, type JsonSchema } from './schemas.js';

const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

const rateHeaders = {
  'RateLimit-Limit': { description: 'Requests per second of the tighter bucket (key or organization).', schema: { type: 'integer' } },
  'RateLimit-Remaining': { description: 'Requests left in that bucket now.', schema: { type: 'integer' } },
  'RateLimit-Reset': { description: 'Seconds until a request is allowed again.', schema: { type: 'integer' } },
};

function operation(route: ApiRoute): Record<string, unknown> {
  const parameters: Record<string, unknown>[] = [
    ...pathParams(route.path).map((name) => ({ name, in: 'path', required: true, schema: PATH_PARAMS[name] ?? { type: 'string' } })),
    ...Object.entries({ ...(route.query ?? {}), ...(route.paginated ? PAGE_QUERY : {}) }).map(([name, schema]) => ({
      name,
      in: 'query',
      required: false,
      schema,
      ...(typeof schema.description === 'string' ? { description: schema.description } : {}),
    })),
  ];
  if (route.access !== 'public') parameters.push({ $ref: '#/components/parameters/Organization' });
  if (route.idempotent) parameters.push({ $ref: '#/components/parameters/IdempotencyKey' });
  if (route.method === 'GET' && route.response.schema) parameters.push({ $ref: '#/components/parameters/IfNoneMatch' });
  const success: Record<string, unknown> = { description: route.summary, headers: route.access === 'public' ? {} : rateHeaders };
  if (route.response.schema) {
    success.content = { 'application/json': { schema: { $ref: `#/components/schemas/${route.response.schema}` } } };
    if (route.method === 'GET') (success.headers as Record<string, unknown>).ETag = { description: 'Send back as If-None-Match: 304 when nothing changed.', schema: { type: 'string' } };
  } else if (route.response.stream) {
    success.content = { [route.response.stream]: { schema: { type: 'string' } } };
  }
  const responses: Record<string, unknown> = { [String(route.response.status)]: success };
  if (route.method === 'GET' && route.response.schema) responses['304'] = { description: 'Not modified (If-None-Match matched the ETag).' };
  if (route.body || parameters.length > 0) responses['400'] = problemResponse('validation-failed, malformed-json, invalid-cursor, organization-required');
  if (route.access !== 'public') {
    responses['401'] = problemResponse('unauthenticated, invalid-credentials, credentials-expired');
    responses['403'] = problemResponse('permission-denied (names the permission), wrong-organization, csrf-failed');
    responses['429'] = { ...problemResponse('rate-limited'), headers: { 'Retry-After': { schema: { type: 'integer' } }, ...rateHeaders } };
  }
  if (pathParams(route.path).length > 0) responses['404'] = problemResponse('not-found: the same answer whether the id exists in another organization or not');
  if (route.idempotent) responses['422'] = problemResponse('idempotency-key-reused (and version-invalid for rollbacks)');
  const access =
    route.access === 'public' ? 'No credentials.' : route.access === 'authenticated' ? 'Any valid credential.' : route.access === 'user' ? 'A signed-in person (session cookie or CLI user token), not an API key.' : `Needs \`${route.access}\`.`;
  return {
    operationId: route.operationId,
    tags: [route.tag],
    summary: route.summary,
    description: [
      route.description,
      access,
      route.idempotent ? 'Send an `Idempotency-Key` header to make retries safe: the first result is replayed for 24 hours.' : undefined,
      route.secret ? `The \`${route.secret}\` is shown once: a replay answers without it, with \`secretShownOnce\` saying so.` : undefined,
    ]
      .filter(Boolean)
      .join('\n\n'),
    ...(route.access === 'public' ? { security: [] } : {}),
    ...(route.access !== 'public' && route.access !== 'authenticated' && route.access !== 'user' ? { 'x-wharf-permission': route.access } : {}),
    parameters,
    ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: { $ref: `#/components/schemas/${route.body}` } } } } } : {}),
    responses,
  };
}

export function buildOpenApi(serverUrl = API_PREFIX): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of API_ROUTES) {
    const item = (paths[route.path] ??= {});
    item[route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Wharf API',
      version: API_VERSION,
      description:
        'The REST API of Wharf, the GitOps control plane for Workflow apps. Errors are RFC 9457 problem details with a stable `code`: ' +
        PROBLEM_CODES.map((c) => `\`${c}\` (${PROBLEMS[c].status})`).join(', ') +
        '. Lists are paginated by cursor. Every organization is its own tenant: ids of another organization answer 404.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: serverUrl }],
    security: [{ bearer: [] }, { session: [] }],
    tags: [...new Set(API_ROUTES.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: API_SCHEMAS as Record<string, JsonSchema>,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An API key (wharf_…) or a CLI user token (wharfu_…).' },
        session: { type: 'apiKey', in: 'cookie', name: 'wharf_session', description: 'The browser session set by signing in with GitHub (with X-CSRF-Token on writes).' },
      },
      parameters: {
        Organization: { name: 'Wharf-Organization', in: 'header', required: false, description: 'Slug or id of the organization to act for (people in several organizations).', schema: { type: 'string' } },
        IdempotencyKey: { name: 'Idempotency-Key', in: 'header', required: false, description: 'Up to 200 characters; the same key replays the first result.', schema: { type: 'string', maxLength: 200 } },
        IfNoneMatch: { name: 'If-None-Match', in: 'header', required: false, schema: { type: 'string' } },
      },
    },
  };
}

/** The reference of docs/api.md: every operation by tag, with the permission it needs. */
export function renderApiReference(): string {
  const out: string[] = [];
  for (const tag of [...new Set(API_ROUTES.map((r) => r.tag))]) {
    out.push(`### ${tag}\n`, '| method | path | what | needs |', '| --- | --- | --- | --- |');
    for (const r of API_ROUTES.filter((x) => x.tag === tag)) {
      const needs = r.access === 'public' ? 'nothing' : r.access === 'authenticated' ? 'any credential' : r.access === 'user' ? 'a signed-in person' : `\`${r.access}\``;
      const extras = [r.paginated ? 'paginated' : '', r.idempotent ? 'Idempotency-Key' : ''].filter(Boolean).join(', ');
      out.push(`| ${r.method} | \`${API_PREFIX}${r.path}\` | ${r.summary}${extras ? ` (${extras})` : ''} | ${needs} |`);
    }
    out.push('');
  }
  out.push('### Problem codes\n', '| code | status | title |', '| --- | --- | --- |', ...PROBLEM_CODES.map((c) => `| \`${c}\` | ${PROBLEMS[c].status} | ${PROBLEMS[c].title} |`), '');
  out.push('### Permissions\n', ...Object.entries(PERMISSIONS).map(([p, what]) => `- \`${p}\`: ${what}`));
  return out.join('\n');
}
