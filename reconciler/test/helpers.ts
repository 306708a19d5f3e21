import type { WorkflowAppSpec } from '@wharf/contracts';
import { type DatabasePool, environments, repositories, tenants } from '@wharf/store';
import pino from 'pino';

export const silentLog = pino({ level: process.env.WHARF_TEST_LOG ?? 'silent' });

export function specFor(app: string, env: string, version: string, extra: Partial<WorkflowAppSpec> = {}): WorkflowAppSpec {
  return {
    app,
    environment: env,
    version: { sha: version.padEnd(40, '0').slice(0, 40), digest: `sha256:${version}` },
    files: [
      {
        path: 'app.yaml',
        content: `# echo: ${app} ${version}\nmodules:\n  - name: server\n    type: http.server\n    config:\n      address: ":8080"\n`,
      },
    ],
    runtime: {},
    replicas: 1,
    env: [],
    ...extra,
  };
}

export async function seedRepo(pool: DatabasePool) {
  const tenant = await tenants.upsertTenant(pool, { kind: 'local', externalId: 'me', name: 'me' });
  const repo = await repositories.upsertRepository(pool, {
    tenantId: tenant.id,
    provider: 'local',
    fullName: 'me/repo',
    url: 'file:///repo',
    defaultBranch: 'main',
  });
  return { tenantId: tenant.id, repositoryId: repo.id };
}

/** Environments with version v1 desired and nothing deployed. */
export async function seedEnvs(
  pool: DatabasePool,
  names: string[],
  options: { app?: string; target?: string; version?: string; converged?: { dueInMs: number } } = {},
) {
  const { tenantId, repositoryId } = await seedRepo(pool);
  const app = options.app ?? 'shop';
  const version = options.version ?? 'v1';
  const ids = await environments.seedEnvironments(
    pool,
    names.map((name) => ({
      tenantId,
      repositoryId,
      app,
      name,
      target: options.target ?? 'memory',
      digest: `sha256:${version}`,
      spec: specFor(app, name, version),
      ...(options.converged ? { converged: options.converged } : {}),
    })),
  );
  return { tenantId, repositoryId, ids, app };
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const cond = (conditions: readonly Record<string, unknown>[], type: string) => conditions.find((c) => c.type === type);
