import type { Condition, ConditionType, Target, WorkflowAppSpec } from '@wharf/contracts';
import { type DatabasePool, history, outbox } from '@wharf/store';
import { getEnvironmentState, seedEnvironments } from '@wharf/store/testing';
import { seedRepository, silentLog } from '@wharf/testkit';
import { createTargetRegistry, existingTarget, type TargetResolver } from '../src/index.js';

export { silentLog, waitFor } from '@wharf/testkit';

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

export const seedRepo = (pool: DatabasePool) => seedRepository(pool, { fullName: 'me/repo', url: 'file:///repo' });

/** A registry serving test doubles under the given names (`memory`, `local`, `agent` …). */
export const registryOf = (targets: Record<string, Target>): Promise<TargetResolver> =>
  createTargetRegistry(
    Object.fromEntries(Object.keys(targets).map((k) => [k, {}])),
    { log: silentLog },
    Object.fromEntries(Object.entries(targets).map(([k, target]) => [k, existingTarget(target)])),
  );

/** Environments with version v1 desired and nothing deployed. */
export async function seedEnvs(
  pool: DatabasePool,
  names: string[],
  options: { app?: string; target?: string; version?: string; converged?: { dueInMs: number } } = {},
) {
  const { tenantId, repositoryId } = await seedRepo(pool);
  const app = options.app ?? 'shop';
  const version = options.version ?? 'v1';
  const ids = await seedEnvironments(
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

export const cond = (conditions: readonly Condition[], type: ConditionType) => conditions.find((c) => c.type === type);

/** History rows of an environment, scoped by its own tenant. */
export async function historyOf(pool: DatabasePool, id: number) {
  const env = await getEnvironmentState(pool, id);
  return env ? history.listHistory(pool, { tenantId: env.tenant_id }, id) : [];
}

/** Outbox rows of an environment, scoped by its own tenant. */
export async function outboxOf(pool: DatabasePool, id: number) {
  const env = await getEnvironmentState(pool, id);
  return env ? outbox.listOutboxForEnvironment(pool, { tenantId: env.tenant_id }, id) : [];
}
