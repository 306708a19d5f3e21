import type { WorkflowAppSpec } from '@wharf/contracts';
import type { DatabasePool } from '@wharf/store';
import { seedEnvironments } from '@wharf/store/testing';
import { seedRepository } from '@wharf/testkit';

const spec = (env: string, v: string): WorkflowAppSpec => ({
  app: 'shop',
  environment: env,
  version: { sha: v.padEnd(40, 'a'), digest: `sha256:${v}` },
  files: [{ path: 'app.yaml', content: 'modules: []\n' }],
  runtime: {},
  replicas: 1,
  env: [],
});

/** shop's production (on the memory target) at version `production`, and its pr-4 at version `pr`. */
export async function seedTwo(pool: DatabasePool, versions: { production: string; pr: string }) {
  const { tenantId, repositoryId } = await seedRepository(pool);
  const [prod = 0, pr = 0] = await seedEnvironments(pool, [
    { tenantId, repositoryId, app: 'shop', name: 'production', kind: 'production', target: 'memory', digest: `sha256:${versions.production}`, spec: spec('production', versions.production) },
    { tenantId, repositoryId, app: 'shop', name: 'pr-4', target: 'memory', digest: `sha256:${versions.pr}`, spec: spec('pr-4', versions.pr) },
  ]);
  return { prod, pr };
}
