/**
 * The REST API on a real Postgres with two organizations (acme and globex), people with every role, repositories,
 * versions and environments, driven with `inject()`. Every answer is checked against the schema the OpenAPI
 * document gives it, so the document cannot drift from what the API sends.
 */
import { API_ROUTES, type ApiRoute, checkApiSchema, loadSettings, type Role } from '@wharf/contracts';
import { type DatabasePool, memberships, sessions, sql, users, versions } from '@wharf/store';
import { seedEnvironments } from '@wharf/store/testing';
import { createTestDatabase, seedRepository, silentLog, tempDir, type TestDatabase } from '@wharf/testkit';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { Registry } from 'prom-client';
import { hashSecret, newToken } from '../../src/api/auth/secrets.js';
import { apiUnit, buildServer, controlPlaneSettings, type ControlPlaneUnit } from '../../src/index.js';

export const PEPPER = 'test-pepper-test-pepper-test-pepper-!';

export interface Org {
  tenantId: number;
  repositoryId: number;
  environmentIds: number[];
  versionIds: number[];
  shas: string[];
}

export interface ApiHarness {
  db: TestDatabase;
  server: FastifyInstance;
  unit: ControlPlaneUnit;
  acme: Org;
  globex: Org;
  /** CLI user tokens of people: alice owner, ada admin, dan deployer, vic viewer (acme); gil owner (globex). */
  tokens: Record<'alice' | 'ada' | 'dan' | 'vic' | 'gil', string>;
  /** Their user ids. */
  users: Record<'alice' | 'ada' | 'dan' | 'vic' | 'gil', number>;
  call(method: InjectOptions['method'], url: string, options?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<ApiAnswer>;
  /** A new API key of `org` made through the API by its owner. */
  key(org: 'acme' | 'globex', body: Record<string, unknown>): Promise<{ id: number; key: string }>;
}

export interface ApiAnswer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers of every shape, checked against their schema
  body: any;
  headers: Record<string, string | string[] | number | undefined>;
  text: string;
}

const shaOf = (n: number, org: string) => `${org === 'acme' ? 'a' : 'b'}${String(n).padStart(39, '0')}`;

async function seedOrg(pool: DatabasePool, name: string, apps: string[]): Promise<Org> {
  const { tenantId, repositoryId } = await seedRepository(pool, { tenant: name, kind: 'github', provider: 'github', fullName: `${name}/shop` });
  const versionIds: number[] = [];
  const shas: string[] = [];
  for (let i = 1; i <= 2; i++) {
    const sha = shaOf(i, name);
    const { version } = await pool.transaction((tx) =>
      versions.insertVersion(tx, {
        tenantId,
        repositoryId,
        sha,
        parentSha: null,
        ref: 'main',
        author: 'Ada <ada@example.com>',
        message: `commit ${i} of ${name}`,
        committedAt: null,
        valid: true,
        diagnostics: [],
        manifest: null,
        apps: apps.map((app) => ({ app, digest: `sha256:${name}${i}`, valid: true, diagnostics: [], spec: null, carriedFromVersionId: null, rollbackOfVersionId: null })),
      }),
    );
    versionIds.push(version.id);
    shas.push(sha);
  }
  const environmentIds = await seedEnvironments(
    pool,
    apps.flatMap((app) =>
      ['production', 'staging', 'pr-1'].map((env) => ({
        tenantId,
        repositoryId,
        app,
        name: env,
        kind: env === 'production' ? ('production' as const) : ('preview' as const),
        digest: `sha256:${name}2`,
        spec: null,
        versionId: versionIds[1] ?? null,
        converged: { dueInMs: 3_600_000 },
      })),
    ),
  );
  return { tenantId, repositoryId, environmentIds, versionIds, shas };
}

async function person(pool: DatabasePool, tenantId: number, login: string, githubId: number, role: Role): Promise<{ token: string; id: number }> {
  const user = await users.upsertGithubUser(pool, { githubId, login, name: login });
  await memberships.addMember(pool, { tenantId }, user.id, role);
  const token = newToken('userToken');
  await sessions.createSession(pool, { userId: user.id, kind: 'cli', tokenHash: hashSecret(Buffer.from(PEPPER), token), csrfSecret: 'x', ttlSeconds: 3600, userAgent: null, ip: null });
  return { token, id: user.id };
}

/** The route a URL of the API matches (for checking the answer's schema). */
function routeOf(method: string, url: string): ApiRoute | undefined {
  const path = url.split('?')[0]?.replace(/^\/api\/v1/, '') ?? '';
  return API_ROUTES.find((r) => r.method === method && new RegExp(`^${r.path.replace(/\{[A-Za-z]+\}/g, '[^/]+')}$`).test(path));
}

export interface TestHost {
  teardown(fn: () => unknown): void;
  fail(m: string): unknown;
  match(found: unknown, wanted: unknown, message: string): unknown;
  same(found: unknown, wanted: unknown, message: string): unknown;
}

export async function startApiHarness(t: TestHost, env: Record<string, string> = {}): Promise<ApiHarness> {
  const db = await createTestDatabase(t);
  const dir = await tempDir(t, 'wharf-api-');
  const acme = await seedOrg(db.pool, 'acme', ['shop', 'admin']);
  const globex = await seedOrg(db.pool, 'globex', ['portal']);
  await db.pool.query(sql.unsafe`UPDATE tenants SET plan = 'pro' WHERE id = ANY(${sql.array([acme.tenantId, globex.tenantId], 'int8')})`);
  const people = {
    alice: await person(db.pool, acme.tenantId, 'alice', 1, 'owner'),
    ada: await person(db.pool, acme.tenantId, 'ada', 2, 'admin'),
    dan: await person(db.pool, acme.tenantId, 'dan', 3, 'deployer'),
    vic: await person(db.pool, acme.tenantId, 'vic', 4, 'viewer'),
    gil: await person(db.pool, globex.tenantId, 'gil', 5, 'owner'),
  };
  const tokens = { alice: people.alice.token, ada: people.ada.token, dan: people.dan.token, vic: people.vic.token, gil: people.gil.token };
  const userIds = { alice: people.alice.id, ada: people.ada.id, dan: people.dan.id, vic: people.vic.id, gil: people.gil.id };
  const settings = loadSettings(controlPlaneSettings, { DATABASE_URL: db.url, WHARF_API_PEPPER: PEPPER, WHARF_DATA_DIR: dir, WHARF_LOG_LEVEL: 'silent', ...env });
  const unit = await apiUnit({ pool: db.pool, log: silentLog, registry: new Registry(), settings, dataDir: dir, databaseUrl: db.url });
  if (!unit) throw new Error('the API unit is always built');
  const server = await buildServer({ log: silentLog, pool: db.pool, registry: new Registry(), version: 'test', units: [unit] });
  unit.start?.();
  t.teardown(async () => {
    await server.close();
    await unit.stop?.();
  });
  const call: ApiHarness['call'] = async (method, url, options = {}) => {
    const res = await server.inject({
      method,
      url,
      headers: { ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...(options.headers ?? {}) },
      ...(options.body !== undefined ? { payload: options.body as object } : {}),
    });
    const text = res.body;
    const type = String(res.headers['content-type'] ?? '');
    const body = /application\/(problem\+)?json/.test(type) && text ? JSON.parse(text) : text;
    const route = routeOf(String(method), url);
    if (res.statusCode >= 400) {
      t.match(type, /application\/problem\+json/, `${method} ${url}: errors are problem+json`);
      t.same(checkApiSchema('Problem', body), null, `${method} ${url}: the problem matches its schema`);
    } else if (route?.response.schema && res.statusCode === route.response.status && !res.headers['idempotent-replayed']) {
      t.same(checkApiSchema(route.response.schema, body), null, `${method} ${url}: the answer matches ${route.response.schema}`);
    }
    return { status: res.statusCode, body, headers: res.headers, text };
  };
  const key: ApiHarness['key'] = async (org, body) => {
    const res = await call('POST', '/api/v1/keys', { token: org === 'acme' ? tokens.alice : tokens.gil, body });
    if (res.status !== 201) throw new Error(`key not made: ${res.text}`);
    return { id: res.body.id, key: res.body.key };
  };
  return { db, server, unit, acme, globex, tokens, users: userIds, call, key };
}
