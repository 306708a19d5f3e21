/**
 * A tenant and a repository to hang environments on, through the store's own API. The tenant is on the Enterprise
 * plan unless `plan` says otherwise, so tests and benchmarks of other things are not held by a plan's limits (a Free
 * organization runs 3 previews at once); billing tests pass `plan: 'free'`.
 */
import { type CommonQueryMethods, repositories, sql, tenants } from '@wharf/store';

export interface SeededRepository {
  tenantId: number;
  repositoryId: number;
}

export async function seedRepository(
  pool: CommonQueryMethods,
  options: { tenant?: string; kind?: 'local' | 'github'; fullName?: string; url?: string; provider?: 'local' | 'git' | 'github'; defaultBranch?: string; plan?: string } = {},
): Promise<SeededRepository> {
  const name = options.tenant ?? 'me';
  const tenant = await tenants.upsertTenant(pool, { kind: options.kind ?? 'local', externalId: name, name });
  await pool.query(sql.unsafe`UPDATE tenants SET plan = ${options.plan ?? 'enterprise'} WHERE id = ${tenant.id}`);
  const repo = await repositories.upsertRepository(pool, {
    tenantId: tenant.id,
    provider: options.provider ?? 'local',
    fullName: options.fullName ?? `${name}/repo`,
    url: options.url ?? `file:///${name}/repo`,
    defaultBranch: options.defaultBranch ?? 'main',
  });
  return { tenantId: tenant.id, repositoryId: repo.id };
}
