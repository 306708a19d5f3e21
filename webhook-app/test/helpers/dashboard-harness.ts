/**
 * The control plane with the REST API and the dashboard on a real port and a real Postgres, seeded with one GitHub
 * organization as a user would find it: apps with production and preview environments, rollouts (a deploy, a
 * rollback, a failure), versions (one invalid, with diagnostics), a fork pull request waiting for approval, the
 * audit trail and people with every role. A second organization (globex) proves nothing leaks across.
 */
import { loadSettings, type Role, type WorkflowAppSpec } from '@wharf/contracts';
import { audit, checkRuns, type DatabasePool, memberships, pullRequests, sessions, sql, users, versions } from '@wharf/store';
import { seedEnvironments } from '@wharf/store/testing';
import { createTestDatabase, seedRepository, silentLog, tempDir, type TestDatabase } from '@wharf/testkit';
import { Registry } from 'prom-client';
import { hashSecret } from '../../src/api/auth/secrets.js';
import { apiUnit, controlPlaneSettings, type ControlPlaneServer, startControlPlaneServer } from '../../src/index.js';
import { dashboardUnit } from '../../src/dashboard/unit.js';

export const PEPPER = 'dashboard-test-pepper-dashboard-test-pepper';
export const INSTALLATION_ID = '4242';

export interface Seeded {
  tenantId: number;
  repositoryId: number;
  env: { production: number; preview: number; admin: number; agent: number };
  versions: { first: number; second: number; broken: number };
  shas: { first: string; second: string; broken: string };
  globex: { tenantId: number; repositoryId: number; environment: number };
}

export interface DashboardHarness {
  db: TestDatabase;
  cp: ControlPlaneServer;
  url: string;
  seeded: Seeded;
  /** A browser session of a member (cookie value and CSRF token). */
  session(login: string): Promise<{ cookie: string; csrf: string }>;
  users: Record<string, { id: number; githubId: number; role: Role }>;
}

const sha = (n: number, c = 'a') => `${c}${String(n).padStart(39, '0')}`;

/** A desired state as the source writes it (the version the environment should run). */
const specOf = (app: string, environment: string, n: number): WorkflowAppSpec => ({
  app,
  environment,
  version: { sha: sha(n), digest: `sha256:${app}-${n}` },
  files: [{ path: 'workflow.yaml', content: `modules: []\n# version ${n}\n` }],
  runtime: {},
  replicas: 1,
  env: [],
});

async function seedVersion(pool: DatabasePool, tenantId: number, repositoryId: number, n: number, input: { message: string; valid: boolean; diagnostics?: object[]; apps: string[] }) {
  const { version } = await pool.transaction((tx) =>
    versions.insertVersion(tx, {
      tenantId,
      repositoryId,
      sha: sha(n),
      parentSha: n > 1 ? sha(n - 1) : null,
      ref: 'main',
      author: 'Ada <ada@example.com>',
      message: input.message,
      committedAt: new Date(Date.now() - (10 - n) * 3_600_000).toISOString(),
      valid: input.valid,
      diagnostics: input.diagnostics ?? [],
      manifest: null,
      apps: input.apps.map((app) => ({
        app,
        digest: `sha256:${app}-${n}`,
        valid: input.valid,
        diagnostics: input.diagnostics ?? [],
        spec: null,
        carriedFromVersionId: null,
        rollbackOfVersionId: null,
      })),
    }),
  );
  return version.id;
}

export async function seedOrganization(pool: DatabasePool): Promise<Seeded> {
  const { tenantId, repositoryId } = await seedRepository(pool, { tenant: INSTALLATION_ID, kind: 'github', provider: 'github', fullName: 'acme/shop' });
  await pool.query(sql.unsafe`UPDATE tenants SET name = 'Acme', plan = 'pro' WHERE id = ${tenantId}`);
  const first = await seedVersion(pool, tenantId, repositoryId, 1, { message: 'First version', valid: true, apps: ['shop', 'admin'] });
  const second = await seedVersion(pool, tenantId, repositoryId, 2, { message: 'New greeting\n\nSays hello differently.', valid: true, apps: ['shop', 'admin'] });
  const broken = await seedVersion(pool, tenantId, repositoryId, 3, {
    message: 'Two modules with one name',
    valid: false,
    apps: ['shop'],
    diagnostics: [{ file: 'shop/workflow.yaml', line: 12, column: 5, severity: 'error', code: 'WHARF101', message: 'module name "api" is used twice' }],
  });
  const [production = 0, preview = 0, admin = 0, agent = 0] = await seedEnvironments(pool, [
    { tenantId, repositoryId, app: 'shop', name: 'production', kind: 'production', digest: 'sha256:shop-2', spec: specOf('shop', 'production', 2), versionId: second, converged: { dueInMs: 3_600_000 } },
    { tenantId, repositoryId, app: 'shop', name: 'pr-7', kind: 'preview', digest: 'sha256:shop-2', spec: specOf('shop', 'pr-7', 2), versionId: second, converged: { dueInMs: 3_600_000 } },
    { tenantId, repositoryId, app: 'admin', name: 'production', kind: 'production', digest: 'sha256:admin-1', spec: specOf('admin', 'production', 1), versionId: first, converged: { dueInMs: 3_600_000 } },
    { tenantId, repositoryId, app: 'admin', name: 'edge', kind: 'preview', target: 'agent:edge', digest: 'sha256:admin-1', spec: specOf('admin', 'edge', 1), versionId: first, converged: { dueInMs: 3_600_000 } },
  ]);
  await pool.query(sql.unsafe`
    UPDATE environments SET url = 'http://production--shop.localhost:4601/', pr_number = NULL WHERE id = ${production};`);
  await pool.query(sql.unsafe`UPDATE environments SET pr_number = 7, url = 'http://pr-7--shop.localhost:4601/' WHERE id = ${preview}`);
  await pool.query(sql.unsafe`
    UPDATE environments SET conditions = jsonb_build_array(
      jsonb_build_object('type', 'Ready', 'status', 'False', 'reason', 'RuntimeUnhealthy', 'message', 'the runtime did not answer /.wharf/healthz', 'lastTransitionTime', now()),
      jsonb_build_object('type', 'Degraded', 'status', 'True', 'reason', 'RuntimeUnhealthy', 'message', 'the runtime did not answer /.wharf/healthz', 'lastTransitionTime', now()))
    WHERE id = ${admin}`);
  // Rollouts of shop/production: a deploy of 1, a deploy of 2, a failed deploy, a rollback to 1, then 2 again.
  const at = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();
  await pool.query(sql.unsafe`
    INSERT INTO environment_history (tenant_id, environment_id, generation, version_id, digest, action, result, reason, message, rollback_of_version_id, started_at, finished_at)
    VALUES (${tenantId}, ${production}, 1, ${first}, 'sha256:shop-1', 'deploy', 'succeeded', 'RolloutSucceeded', null, null, ${at(9)}, ${at(9)}),
           (${tenantId}, ${production}, 2, ${second}, 'sha256:shop-2', 'deploy', 'failed', 'RuntimeUnhealthy', 'the runtime exited: port in use', null, ${at(7)}, ${at(7)}),
           (${tenantId}, ${production}, 3, ${second}, 'sha256:shop-2', 'deploy', 'succeeded', 'RolloutSucceeded', null, null, ${at(6)}, ${at(6)}),
           (${tenantId}, ${production}, 4, ${first}, 'sha256:shop-1', 'deploy', 'succeeded', 'RolloutSucceeded', null, ${first}, ${at(3)}, ${at(3)}),
           (${tenantId}, ${production}, 5, ${second}, 'sha256:shop-2', 'deploy', 'succeeded', 'RolloutSucceeded', null, null, ${at(1)}, ${at(1)})`);
  await audit.recordAudit(pool, [
    { tenantId, actor: 'github:octocat', action: 'deploy', subject: `environment:${production}`, reason: 'New greeting' },
    { tenantId, actor: 'git:Ada <ada@example.com>', action: 'deploy', subject: `environment:${admin}`, reason: 'First version' },
  ]);
  await pullRequests.upsertPullRequest(pool, { tenantId, repositoryId }, {
    number: 7, state: 'open', title: 'Shout louder', headSha: sha(2), headRef: 'shout', baseRef: 'main', fork: true, draft: false, author: 'mallory', mergeCommitSha: null,
  });
  for (const [name, conclusion] of [['wharf/validate', 'success'], ['wharf/plan', 'success'], ['wharf/preview', 'action_required']] as const) {
    await checkRuns.saveCheckRun(pool, { tenantId, repositoryId }, { headSha: sha(2), name, runKey: 'auto', checkRunId: name.length, outputKey: null, batchesSent: 0, status: 'completed', conclusion });
  }
  const g = await seedRepository(pool, { tenant: '9999', kind: 'github', provider: 'github', fullName: 'globex/portal' });
  const [globexEnv = 0] = await seedEnvironments(pool, [
    { tenantId: g.tenantId, repositoryId: g.repositoryId, app: 'portal', name: 'production', kind: 'production', digest: 'sha256:g', spec: null, converged: { dueInMs: 3_600_000 } },
  ]);
  await pullRequests.upsertPullRequest(pool, g, { number: 9, state: 'open', title: 'Globex secret', headSha: sha(9, 'b'), headRef: 'x', baseRef: 'main', fork: true, draft: false, author: 'eve', mergeCommitSha: null });
  return {
    tenantId,
    repositoryId,
    env: { production, preview, admin, agent },
    versions: { first, second, broken },
    shas: { first: sha(1), second: sha(2), broken: sha(3) },
    globex: { tenantId: g.tenantId, repositoryId: g.repositoryId, environment: globexEnv },
  };
}

export async function startDashboardHarness(
  t: { teardown(fn: () => unknown): void },
  env: Record<string, string> = {},
): Promise<DashboardHarness> {
  const db = await createTestDatabase(t as never);
  const dir = await tempDir(t as never, 'wharf-dashboard-');
  const seeded = await seedOrganization(db.pool);
  const people: DashboardHarness['users'] = {};
  for (const [login, githubId, role] of [['alice', 1, 'owner'], ['dan', 3, 'deployer'], ['vic', 4, 'viewer']] as const) {
    const user = await users.upsertGithubUser(db.pool, { githubId, login, name: login });
    await memberships.addMember(db.pool, { tenantId: seeded.tenantId }, user.id, role);
    people[login] = { id: user.id, githubId, role };
  }
  const eve = await users.upsertGithubUser(db.pool, { githubId: 66, login: 'eve', name: 'eve' });
  await memberships.addMember(db.pool, { tenantId: seeded.globex.tenantId }, eve.id, 'owner');
  people.eve = { id: eve.id, githubId: 66, role: 'owner' };
  const settings = loadSettings(controlPlaneSettings, {
    DATABASE_URL: db.url,
    WHARF_API_PEPPER: PEPPER,
    WHARF_DATA_DIR: dir,
    WHARF_LOG_LEVEL: 'silent',
    WHARF_PORT: '0',
    WHARF_COOKIE_SECURE: 'false',
    ...env,
  });
  const cp = await startControlPlaneServer({ settings, log: silentLog, pool: db.pool, registry: new Registry(), dataDir: dir, databaseUrl: db.url, units: { api: apiUnit, dashboard: dashboardUnit } });
  t.teardown(() => cp.stop());
  const session: DashboardHarness['session'] = async (login) => {
    const user = people[login];
    if (!user) throw new Error(`no such person ${login}`);
    const cookie = `s-${login}-${Math.random().toString(36).slice(2)}-${'x'.repeat(20)}`;
    const csrf = `csrf-${login}-${Math.random().toString(36).slice(2)}`;
    await sessions.createSession(db.pool, { userId: user.id, kind: 'browser', tokenHash: hashSecret(Buffer.from(PEPPER), cookie), csrfSecret: csrf, ttlSeconds: 3600, userAgent: null, ip: null });
    return { cookie, csrf };
  };
  return { db, cp, url: cp.url, seeded, session, users: people };
}
